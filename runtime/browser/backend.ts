import * as ort from 'onnxruntime-web/webgpu';
import { OrtApi, setBackend } from '../backend';

// onnxruntime-web's WebGPU bundle (the native WebGPU EP, C++ kernels; it also offers wasm). Its
// ort-wasm-simd-threaded.asyncify.{mjs,wasm} are copied next to this module at build time and
// found from the module's own URL, never from a CDN. Threads need a cross-origin isolated page.
ort.env.wasm.wasmPaths = new URL('./', import.meta.url).href;
ort.env.wasm.numThreads = globalThis.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1;

// Loop sessions keep their WebGPU outputs on the device (preferredOutputLocation 'gpu-buffer'):
// the Adam state and iterate are fed back without a download. Works here; onnxruntime-node 1.30's
// binding aborts the process on it, so the Node adapter never sets deviceOutputs.
// 1 GiB for an explanation's runs: WASM's memory ends at 4 GiB.
setBackend({ ort: ort as unknown as OrtApi, providers: ['webgpu', 'wasm'], fallback: 'wasm', deviceOutputs: true, memoryBudget: 2 ** 30 });

export { ort };
