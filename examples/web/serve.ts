/**
 * A static file server for the repository folder (no server-side logic): `npm run web` serves
 * examples/web/ and dist/browser/ on localhost; the browser tests use it too.
 *
 *   npm run web [-- --port 8080]
 */
import * as fs from 'fs';
import * as http from 'http';
import * as path from 'path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.mjs': 'text/javascript', '.js': 'text/javascript', '.css': 'text/css',
  '.wasm': 'application/wasm', '.json': 'application/json', '.png': 'image/png', '.svg': 'image/svg+xml',
};

export const ROOT = path.resolve(__dirname, '..', '..', '..');

/** Serves files under `root` on 127.0.0.1 (port 0: any free port). */
export function serve(root: string, port = 0): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    const urlPath = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const file = path.join(root, urlPath.endsWith('/') ? `${urlPath}index.html` : urlPath);
    if (path.relative(root, file).startsWith('..') || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'content-length': fs.statSync(file).size });
    fs.createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => {
    const address = server.address() as { port: number };
    resolve({ url: `http://127.0.0.1:${address.port}`, close: () => new Promise((done) => server.close(() => done())) });
  }));
}

if (require.main === module) {
  const i = process.argv.indexOf('--port');
  serve(ROOT, i > 0 ? Number(process.argv[i + 1]) : 8080).then(({ url }) => console.log(`onnx-explain web page: ${url}/examples/web/ (Ctrl-C stops)`));
}
