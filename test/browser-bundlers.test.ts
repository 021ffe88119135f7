import * as fs from 'fs';
import * as path from 'path';
import * as esbuild from 'esbuild';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Explainer, readNpy } from '../runtime';
import { browserMissing, MODULE, openPage } from '../examples/web/headless';
import { ROOT } from '../examples/web/serve';
import { tempDir } from './support/cli-harness';
import { relL2 } from './support/fixtures';
import { skip } from './support/skip';

// onnx-explain/browser bundled into a page's own script, as a web developer's bundler does: the
// module is moved, and it must still find onnxruntime-web's runtime files. Before, it looked for
// them in the folder of `new URL('./', import.meta.url)` — the page's bundle folder for esbuild and
// Rollup, a wrong one under Vite — and a classic-script bundle (esbuild's default format, where
// import.meta.url is undefined) failed on loading; webpack 5 could not build the module at all.
const RUNTIME = ['ort-wasm-simd-threaded.asyncify.mjs', 'ort-wasm-simd-threaded.asyncify.wasm'];
const DIGITS = path.join(ROOT, 'models/digits');
const dir = tempDir('browser-bundlers');

/** The page's script: the digits model fetched (a Response, or a Blob) and explained with two methods. */
const APP = `import { Explainer } from ${JSON.stringify(MODULE)};
globalThis.explain = async (form) => {
  const response = await fetch('model.onnx');
  const model = form === 'blob' ? await response.blob() : response;
  const x = await (await fetch('sample.json')).json();
  const ex = await Explainer.load(model);
  const out = {};
  for (const method of ['gradient', 'deeplift']) out[method] = Array.from((await ex.attribute({ data: Float32Array.from(x.data), dims: x.dims }, { method, target: 3 })).attributions.data);
  return out;
};`;

/**
 * A folder served as the page: the bundle (ESM or classic script; in the subfolder `scripts`), the model, a sample
 * and, unless `runtime` is false, the two runtime files beside the bundle.
 */
function pageFolder(name: string, format: 'esm' | 'iife', runtime: boolean, scripts = '.'): string {
  const folder = path.join(dir, name);
  fs.mkdirSync(folder, { recursive: true });
  fs.writeFileSync(path.join(dir, 'app.js'), APP);
  esbuild.buildSync({ entryPoints: [path.join(dir, 'app.js')], bundle: true, format, outfile: path.join(folder, scripts, 'app.js'), logLevel: 'error' });
  const x = readNpy(path.join(DIGITS, 'sample.npy'));
  fs.writeFileSync(path.join(folder, 'sample.json'), JSON.stringify({ data: Array.from(x.data as Float32Array).slice(0, 2 * 256), dims: [2, ...x.dims.slice(1)] }));
  fs.copyFileSync(path.join(DIGITS, 'model.onnx'), path.join(folder, 'model.onnx'));
  if (runtime) for (const f of RUNTIME) fs.copyFileSync(path.join(path.dirname(MODULE), f), path.join(folder, scripts, f));
  fs.writeFileSync(path.join(folder, 'index.html'), `<!doctype html><meta charset="utf-8"><script ${format === 'esm' ? 'type="module" ' : ''}src="${scripts}/app.js"></script>`);
  return folder;
}

async function nodeReference(): Promise<Record<string, Float32Array>> {
  const x = readNpy(path.join(DIGITS, 'sample.npy'));
  const ex = await Explainer.load(path.join(DIGITS, 'model.onnx'));
  const input = { data: (x.data as Float32Array).slice(0, 2 * 256), dims: [2, ...x.dims.slice(1)] };
  const out: Record<string, Float32Array> = {};
  for (const method of ['gradient', 'deeplift']) out[method] = (await ex.attribute(input, { method, target: 3 })).attributions.data as Float32Array;
  return out;
}

const missing = browserMissing();
if (missing) {
  skip(test, 'browser bundlers: the module bundled by esbuild as ES module and classic script finds the runtime files beside the bundle', missing);
  skip(test, 'browser bundlers: without the runtime files the first explanation says which files to serve', missing);
  skip(test, 'browser bundlers: the module pre-bundled into node_modules/.vite/deps names optimizeDeps.exclude', missing);
} else {
  test('browser bundlers: the module bundled by esbuild as ES module and classic script finds the runtime files beside the bundle; the model as a Response or a Blob', async () => {
    const want = await nodeReference();
    for (const [format, form] of [['esm', 'response'], ['iife', 'blob']] as const) {
      const folder = pageFolder(`app-${format}`, format, true);
      const session = await openPage('/index.html', folder);
      try {
        await session.page.waitForFunction('typeof globalThis.explain === "function"');
        const got = await session.page.evaluate(`globalThis.explain(${JSON.stringify(form)})`) as Record<string, number[]>;
        for (const method of Object.keys(want)) {
          const err = relL2(Float32Array.from(got[method]), want[method]);
          assert.ok(err < 1e-5, `${format}, ${form}: ${method} ${err} relative L2 from Node`);
        }
        assert.equal(session.console.filter((m) => /pageerror|error/i.test(m)), [], `${format}: console`);
      } finally {
        await session.close();
      }
    }
  });

  test('browser bundlers: without the runtime files the first explanation says which files to serve (it blamed the model)', async () => {
    const folder = pageFolder('app-no-runtime', 'esm', false);
    const session = await openPage('/index.html', folder);
    try {
      await session.page.waitForFunction('typeof globalThis.explain === "function"');
      const message = await session.page.evaluate('globalThis.explain("response").then(() => "no error", (e) => e.message)') as string;
      assert.match(message, /^onnxruntime-web could not start its WebAssembly runtime from http:\/\/[^ ]+\/ort-wasm-simd-threaded\.asyncify\.mjs \(.*\): serve ort-wasm-simd-threaded\.asyncify\.mjs and \.wasm \(node_modules\/onnx-explain\/dist\/browser\/\) there, or set ort\.env\.wasm\.wasmPaths/);
      assert.not.match(message, /Vite/);
    } finally {
      await session.close();
    }
  });

  test('browser bundlers: the module pre-bundled into node_modules/.vite/deps without the runtime files (Vite 6 and 7\'s dev server) names optimizeDeps.exclude', async () => {
    const folder = pageFolder('app-vite-deps', 'esm', false, 'node_modules/.vite/deps');
    const session = await openPage('/index.html', folder);
    try {
      await session.page.waitForFunction('typeof globalThis.explain === "function"');
      const message = await session.page.evaluate('globalThis.explain("response").then(() => "no error", (e) => e.message)') as string;
      assert.match(message, /^onnxruntime-web could not start its WebAssembly runtime from http:\/\/[^ ]+\/node_modules\/\.vite\/deps\/ort-wasm-simd-threaded\.asyncify\.mjs .*; Vite's dev server \(before Vite 8\) moved this module into \.vite\/deps without them: add optimizeDeps: \{ exclude: \['onnx-explain'\] \} to vite\.config$/);
    } finally {
      await session.close();
    }
  });
}

test.run();
