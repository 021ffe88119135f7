/** The public API of onnx-explain in Node: the core with onnxruntime-node and file helpers. */
import './node/backend';

export * from './api';
export { readNpy, writeNpy } from './node/npy-file';
export { loadModel, saveModel } from './node/model-file';
export { writePng, encodePng } from './node/png-file';
export { readImage } from './node/image-file';
export { defaultCacheDir, defaultCacheLimit, folderCache } from './node/graph-cache';
/** The onnxruntime namespace the sessions run on (onnxruntime-node, or onnxruntime-web where the native binding is missing). */
export { ortApi } from './backend';
