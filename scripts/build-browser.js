#!/usr/bin/env node
// Writes dist/browser/: onnx-explain.mjs (runtime/browser/index.ts bundled with esbuild, including
// onnxruntime-web's WebGPU bundle) and the onnxruntime-web WebAssembly files it loads from its own
// folder (ort-wasm-simd-threaded.asyncify.mjs/.wasm).
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
for (const f of WASM_FILES) fs.copyFileSync(path.join(ortDist, f), path.join(out, f));
