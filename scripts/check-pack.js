#!/usr/bin/env node
// Release check of the published package, as a user installs it (npm run check-pack):
//  1. `npm pack` (prepack builds dist/, the browser bundle included); the tarball holds no tests,
//     fixtures, examples or TypeScript sources;
//  2. `npm install ./onnx-explain-<version>.tgz` into an empty project, with the caller's
//     environment minus ONNXRUNTIME_NODE_INSTALL: where NuGet is unreachable onnxruntime-node's
//     install script fails and npm drops that optional dependency; the install must succeed;
//  3. `npx onnx-explain --version` and `npx onnx-explain attribute` on a fixture: the numbers of
//     this repository's own run, and stderr empty (native binding) or the one fallback notice;
//  4. `ONNXRUNTIME_NODE_INSTALL=skip npm install -O -E onnxruntime-node@<pinned>` (the notice's command) adds the native binding: same
//     numbers, stderr empty;
//  5. `onnx-explain/browser` resolves to the bundle, which runs the fixture in headless Chromium
//     (skipped, and said so, where chromium is missing).
// Needs the npm registry (or npm's cache). Leaves nothing behind unless --keep.
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const FIXTURE = path.join(ROOT, 'models', 'fixtures', 'cnn_maxpool');
const ARGS = ['attribute', 'model.onnx', '--input', 'input.npy', '--method', 'deeplift', '--no-cache'];
const keep = process.argv.includes('--keep');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-explain-pack-'));
const app = path.join(work, 'app');
const env = { ...process.env };
for (const k of Object.keys(env)) if (/^(npm_config_)?onnxruntime[-_]node[-_]install/i.test(k)) delete env[k];
let failures = 0;

function sh(cmd, args, cwd, extraEnv = {}) {
  const t = Date.now();
  const r = spawnSync(cmd, args, { cwd, env: { ...env, ...extraEnv }, encoding: 'utf8', maxBuffer: 1 << 26 });
  console.log(`$ ${Object.entries(extraEnv).map(([k, v]) => `${k}=${v} `).join('')}${cmd} ${args.join(' ')}   (exit ${r.status}, ${((Date.now() - t) / 1000).toFixed(1)} s)`);
  return r;
}
function check(ok, what, detail = '') {
  console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${what}${detail && !ok ? `\n${detail}` : ''}`);
  if (!ok) failures++;
  return ok;
}
const lines = (s) => s.split('\n').filter((l) => l.trim());
const readNpy = (file) => require(path.join(ROOT, 'dist', 'runtime', 'node', 'npy-file')).readNpy(file).data;
function maxDiff(a, b) {
  if (a.length !== b.length) return Infinity;
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

async function main() {
  const pack = sh('npm', ['pack', '--json', '--pack-destination', work], ROOT);
  if (!check(pack.status === 0, 'npm pack', pack.stderr)) return;
  const packed = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('[')))[0];
  const files = packed.files.map((f) => f.path);
  const stray = files.filter((f) => /^(test|models|examples|dist\/test|dist\/examples)\/|\.ts$/.test(f) && !f.endsWith('.d.ts'));
  check(stray.length === 0, `tarball ${packed.filename}: ${files.length} files, ${(packed.size / 1e6).toFixed(1)} MB, no tests/fixtures/sources`, stray.join('\n'));
  check(['dist/browser/onnx-explain.mjs', 'dist/browser/ort-wasm-simd-threaded.asyncify.wasm', 'dist/runtime/index.d.ts', 'dist/runtime/browser/index.d.ts'].every((f) => files.includes(f)), 'tarball holds the browser bundle, its WASM and the type declarations');

  // The repository's own result, the reference for the installed package.
  fs.mkdirSync(app);
  for (const f of ['model.onnx', 'input.npy']) fs.copyFileSync(path.join(FIXTURE, f), path.join(app, f));
  const own = sh(process.execPath, [path.join(ROOT, 'bin', 'onnx-explain.js'), ...ARGS, '--out', 'own.npy'], app);
  if (!check(own.status === 0, 'reference run from the repository', own.stderr)) return;
  const reference = readNpy(path.join(app, 'own.npy'));

  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
  const install = sh('npm', ['install', path.join(work, packed.filename)], app);
  check(install.status === 0, 'npm install of the tarball (ONNXRUNTIME_NODE_INSTALL unset)', install.stderr);
  if (install.status !== 0) return;
  const nativeFirst = fs.existsSync(path.join(app, 'node_modules', 'onnxruntime-node'));
  console.log(`  onnxruntime-node ${nativeFirst ? 'installed (its install script succeeded)' : 'dropped by npm (its install script failed): onnxruntime-web fallback'}`);

  const version = sh('npx', ['onnx-explain', '--version'], app);
  check(version.status === 0 && version.stdout.trim() === packed.version && !version.stderr.trim(), `npx onnx-explain --version prints ${packed.version}`, version.stdout + version.stderr);

  const runInstalled = (label) => {
    fs.rmSync(path.join(app, 'out.npy'), { force: true });
    const r = sh('npx', ['onnx-explain', ...ARGS, '--out', 'out.npy'], app);
    const native = fs.existsSync(path.join(app, 'node_modules', 'onnxruntime-node'));
    const err = lines(r.stderr);
    const stderrOk = native ? err.length === 0 : err.length === 1 && /^onnx-explain: warning: onnxruntime-node is not installed/.test(err[0]);
    if (!check(r.status === 0 && stderrOk, `${label}: npx onnx-explain ${ARGS.join(' ')} (stderr: ${native ? 'empty' : 'the fallback notice only'})`, r.stdout + r.stderr)) return;
    if (!native) console.log(`  stderr: ${err[0]}`);
    const d = maxDiff(readNpy(path.join(app, 'out.npy')), reference);
    check(d <= 1e-6, `${label}: attributions equal the repository's (max |diff| ${d.toExponential(2)})`);
  };
  runInstalled(nativeFirst ? 'native binding' : 'onnxruntime-web fallback');

  const bad = sh('npx', ['onnx-explain', ...ARGS, '--method', 'nope'], app);
  check(bad.status === 1 && lines(bad.stderr).length === 1 && /^onnx-explain: error: /.test(bad.stderr), 'a user mistake: exit 1, one error line', bad.stderr);

  if (!nativeFirst) {
    const add = sh('npm', ['install', '-O', '-E', 'onnxruntime-node@' + require(path.join(ROOT, 'package.json')).optionalDependencies['onnxruntime-node']], app, { ONNXRUNTIME_NODE_INSTALL: 'skip' });
    if (check(add.status === 0 && fs.existsSync(path.join(app, 'node_modules', 'onnxruntime-node')), 'the native binding as the notice says', add.stderr)) runInstalled('native binding');
  }

  const entry = sh(process.execPath, ['-p', "require.resolve('onnx-explain/browser')"], app);
  const bundle = entry.stdout.trim();
  check(entry.status === 0 && bundle.endsWith(path.join('onnx-explain', 'dist', 'browser', 'onnx-explain.mjs')), `onnx-explain/browser resolves to ${path.relative(app, bundle)}`, entry.stderr);
  const { browserMissing, openPage } = require(path.join(ROOT, 'dist', 'examples', 'web', 'headless'));
  const missing = browserMissing();
  if (missing) {
    console.log(`  skipped: the installed browser bundle in Chromium: ${missing}`);
    return;
  }
  fs.writeFileSync(path.join(app, 'blank.html'), '<!doctype html><title>check-pack</title>');
  const page = await openPage('/blank.html', app);
  try {
    const got = await page.page.evaluate(`(async () => {
      const m = await import('/${path.relative(app, bundle)}');
      const bytes = new Uint8Array(await (await fetch('/model.onnx')).arrayBuffer());
      const x = m.parseNpy(new Uint8Array(await (await fetch('/input.npy')).arrayBuffer()));
      const ex = await m.Explainer.load(bytes, { provider: 'wasm' });
      return Array.from((await ex.attribute(x, { method: 'deeplift' })).attributions.data);
    })()`);
    const d = maxDiff(got, reference);
    check(d <= 1e-5, `the installed browser bundle in headless Chromium (wasm): same attributions (max |diff| ${d.toExponential(2)})`);
  } finally {
    await page.close();
  }
}

main()
  .catch((e) => check(false, 'check-pack', e.stack))
  .finally(() => {
    if (keep) console.log(`kept ${work}`);
    else fs.rmSync(work, { recursive: true, force: true });
    console.log(failures ? `check-pack: ${failures} FAILED` : 'check-pack: all passed');
    process.exitCode = failures ? 1 : 0;
  });
