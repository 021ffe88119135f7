import * as fs from 'fs';
import * as path from 'path';

/** The installed package's version (package.json two folders above dist/cli/). */
export function packageVersion(): string {
  return (JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
}
