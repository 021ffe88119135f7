#!/usr/bin/env node
// Writes dist/browser/: onnx-explain.mjs (runtime/browser/index.ts bundled with esbuild, including
// onnxruntime-web's WebGPU bundle), its types (onnx-explain.d.mts) and the onnxruntime-web
// WebAssembly files it loads from its own folder (ort-wasm-simd-threaded.asyncify.mjs/.wasm).
const fs = require('fs');
const path = require('path');
const esbuild = require('esbuild');

const root = path.resolve(__dirname, '..');
const out = path.join(root, 'dist', 'browser');
const ortDist = path.join(root, 'node_modules', 'onnxruntime-web', 'dist');
const WASM_FILES = ['ort-wasm-simd-threaded.asyncify.mjs', 'ort-wasm-simd-threaded.asyncify.wasm'];

fs.rmSync(out, { recursive: true, force: true });
esbuild.buildSync({
  entryPoints: [path.join(root, 'runtime', 'browser', 'index.ts')],
  outfile: path.join(out, 'onnx-explain.mjs'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  // onnxruntime-web's build that loads its .wasm/.mjs from ort.env.wasm.wasmPaths (not embedded).
  conditions: ['onnxruntime-web-use-extern-wasm'],
  logLevel: 'warning',
  legalComments: 'none',
});
// onnxruntime-web names its own file for a proxy worker under file: URLs (`new t("ort.webgpu.min.mjs",
// import.meta.url)`, t = URL): webpack 5 reads that as an asset of this module and fails ("Can't
// resolve 'ort.webgpu.min.mjs'"). That code is this module now; webpackIgnore keeps webpack out.
{
  const file = path.join(out, 'onnx-explain.mjs');
  const code = fs.readFileSync(file, 'utf8');
  const from = /new (\w+)\("ort\.webgpu\.min\.mjs", import\.meta\.url\)/g;
  const found = code.match(from) ?? [];
  if (found.length !== 1) throw new Error(`build-browser: expected one reference to ort.webgpu.min.mjs in the bundle, found ${found.length}`);
  fs.writeFileSync(file, code.replace(from, 'new $1(/* webpackIgnore: true */ /* @vite-ignore */ "onnx-explain.mjs", import.meta.url)'));
}
for (const f of WASM_FILES) fs.copyFileSync(path.join(ortDist, f), path.join(out, f));
// The bundle's types, as an ES module's (.d.mts): the package is CommonJS, so TypeScript would read
// dist/runtime/browser/index.d.ts as a CommonJS module's and offer a default import the bundle lacks.
fs.writeFileSync(path.join(out, 'onnx-explain.d.mts'), "export * from '../runtime/browser/index.js';\n");
// Bundlers (webpack 5, Vite) read `new URL('<file>', import.meta.url)` as a file next to this module
// and emit it with the page's bundle; one that is not here fails the page's build.
{
  const code = fs.readFileSync(path.join(out, 'onnx-explain.mjs'), 'utf8');
  for (const [, comments, name] of code.matchAll(/new \w+\(((?:\/\*[^*]*\*\/\s*)*)"([^"]+)",\s*import\.meta\.url\)/g)) {
    if (!comments.includes('webpackIgnore') && !fs.existsSync(path.join(out, name))) throw new Error(`build-browser: the bundle refers to ${name} next to itself, which is not in ${out}`);
  }
}
