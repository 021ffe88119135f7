import * as webgpu from 'onnxruntime-web/webgpu';
import type * as OrtWeb from 'onnxruntime-web';
import { oneCallAtATime, OrtApi, runtimeStartCause, setBackend } from '../backend';

// Typed as the package's main entry (the same declarations), which TypeScript's classic resolution finds too.
const ort: typeof OrtWeb = webgpu;

// onnxruntime-web's WebGPU bundle (the native WebGPU EP, C++ kernels; it also offers wasm). Its
// ort-wasm-simd-threaded.asyncify.{mjs,wasm} are copied next to this module at build time and
// found from the module's own URL, never from a CDN. Threads need a cross-origin isolated page.
// Each file by its own `new URL('./file', import.meta.url)`: webpack 5 and Vite (build and dev) see
// these and emit the files with the page's bundle; esbuild and Rollup leave them relative to the output.
// In a classic-script (IIFE) bundle, esbuild's default format, import.meta.url is undefined: the
// files are looked for next to that script (or the worker's, or the page).
const script = (): string => (globalThis.document?.currentScript as HTMLScriptElement | null)?.src || globalThis.location.href;
ort.env.wasm.wasmPaths = import.meta.url
  ? { mjs: new URL('./ort-wasm-simd-threaded.asyncify.mjs', import.meta.url).href, wasm: new URL('./ort-wasm-simd-threaded.asyncify.wasm', import.meta.url).href }
  : { mjs: new URL('ort-wasm-simd-threaded.asyncify.mjs', script()).href, wasm: new URL('ort-wasm-simd-threaded.asyncify.wasm', script()).href };
ort.env.wasm.numThreads = globalThis.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1;

// Loop sessions keep their WebGPU outputs on the device (preferredOutputLocation 'gpu-buffer'):
// the Adam state and iterate are fed back without a download. Works here; onnxruntime-node 1.30's
// binding aborts the process on it, so the Node adapter never sets deviceOutputs.
// 1 GiB for an explanation's runs: WASM's memory ends at 4 GiB.
setBackend({ ort: oneCallAtATime(ort as unknown as OrtApi), providers: ['webgpu', 'wasm'], fallback: 'wasm', deviceOutputs: true, memoryBudget: 2 ** 30, startFailure });

/**
 * onnxruntime-web's "no available backend found" where its .mjs/.wasm did not load (a bundler that
 * moved this module without them, a wrong wasmPaths): says where they were looked for and what to
 * do. onnxruntime-web keeps the failure: nothing starts it again until the page is reloaded.
 */
function startFailure(e: unknown): string | undefined {
  const cause = runtimeStartCause(e, 'wasm');
  if (cause === undefined) return undefined;
  const paths = ort.env.wasm.wasmPaths;
  const where = typeof paths === 'string' ? paths : paths?.mjs ? String(paths.mjs) : 'next to the page';
  // Vite 6 and 7's dev server pre-bundles dependencies into node_modules/.vite/deps/ and leaves the files behind.
  const vite = where.includes('/.vite/deps/') ? '; Vite\'s dev server (before Vite 8) moved this module into .vite/deps without them: add optimizeDeps: { exclude: [\'onnx-explain\'] } to vite.config' : '';
  return `onnxruntime-web could not start its WebAssembly runtime from ${where} (${cause}): serve ort-wasm-simd-threaded.asyncify.mjs and .wasm (node_modules/onnx-explain/dist/browser/) there, or set ort.env.wasm.wasmPaths to their folder before the first explanation, and reload the page (onnxruntime-web does not retry)${vite}`;
}

export { ort };
