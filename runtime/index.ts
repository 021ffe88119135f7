/** The public API of onnx-explain. */
export { Explainer } from './explainer';
export type { AttributeOptions, AttributionResult, ExplainerOptions, TensorData, TensorInput } from './explainer';
export { readNpy, writeNpy } from './npy';
export type { Provider } from './session';
export { ExplainError } from '../rewriter/errors';
export { loadModel, saveModel } from '../rewriter/model-io';
export { buildAugmented } from '../rewriter/augment';
export type { Method } from '../rewriter/augment';
export { methodNames, methods } from '../rules/methods';
