/** The public API of onnx-explain in Node: the core with onnxruntime-node and file helpers. */
import './node/backend';

export { Explainer } from './explainer';
export type { AttributeOptions, AttributionResult, ExplainerOptions, TensorData, TensorInput } from './explainer';
export { readNpy, writeNpy } from './node/npy-file';
export { loadModel, saveModel } from './node/model-file';
export { parseNpy, encodeNpy } from './npy';
export type { Provider, SessionOptions } from './session';
export type { GraphCache, CachedGraph, GraphInfo } from './graph-cache';
export { defaultCacheDir, folderCache } from './node/graph-cache';
export { visualize, VIS_METHODS, VIS_SIGNS } from './visualize';
export type { Figure, VisColumn, VisualizeOptions } from './visualize';
export { Canvas } from './plot';
export { writePng, encodePng } from './node/png-file';
export { ExplainError } from '../rewriter/errors';
export { buildAugmented } from '../rewriter/augment';
export type { Method } from '../rewriter/augment';
export { methodNames, methods } from '../rules/methods';
export { ContrastiveExplainer } from './contrastive';
export type { ContrastLoadOptions, ContrastOptions, ContrastResult } from './contrastive';
export { maximize } from './drivers/maximize';
export type { MaximizeOptions, MaximizeResult } from './drivers/maximize';
export { filterSensitivity } from './filters';
export type { FilterOptions, FilterReport } from './filters';
export { tritonConfig } from './triton';
export type { TritonSpec } from './triton';
export { asNdarray } from './tensors';
