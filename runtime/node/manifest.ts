import * as fs from 'fs';
import * as path from 'path';

/** The installed package's package.json (three folders above dist/runtime/node/). */
export function ownManifest(): { version: string; optionalDependencies?: Record<string, string> } {
  return JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', '..', 'package.json'), 'utf8'));
}
