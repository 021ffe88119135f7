/** The platform-independent public API: what the Node entry (runtime/index) and the browser module both export. */
export { Explainer } from './explainer';
export type { AttributeOptions, AttributeRequest, AttributionResult, ExplainerOptions, ModelInputSource, TensorData, TensorInput } from './explainer';
export { parseNpy, encodeNpy } from './npy';
export type { Provider, SessionOptions } from './session';
export type { GraphCache, CachedGraph, GraphInfo } from './graph-cache';
export { rowCaptions, visualize, VIS_METHODS, VIS_SIGNS } from './visualize';
export type { Figure, VisColumn, VisMethod, VisSign, VisualizeOptions } from './visualize';
export { Canvas } from './plot';
export { ExplainError } from '../rewriter/errors';
export { buildAugmented } from '../rewriter/augment';
export type { Method } from '../rewriter/augment';
export { encodeModel } from '../rewriter/proto';
export type { ModelProto } from '../rewriter/proto';
export type { Target, TargetIndex } from './targets';
export type { IgMethod } from './drivers/integrated-gradients-quadrature';
export type { NoiseTunnel } from './drivers/noise-tunnel';
export { asNdarray } from './tensors';
export { imageToTensor, tensorToRgb } from './image';
export type { Normalization, Preprocess, Rgb } from './image';
export { tritonConfig } from './triton';
export type { TritonSpec } from './triton';
export { methodNames, methods } from '../rules/methods';
export { ContrastiveExplainer, contrastModels } from './contrastive';
export type { ContrastLoadOptions, ContrastOptions, ContrastResult } from './contrastive';
export type { ConstraintReport, ContrastMethod } from './drivers/cdeepex';
export { maximize, maximizationGraph } from './drivers/maximize';
export type { MaximizeOptions, MaximizeResult } from './drivers/maximize';
export { filterSensitivity } from './filters';
export { patchMask } from './drivers/feature-ablation';
export { readsOption } from './method-options';
export { channelsLast } from '../rewriter/image-layout';
export type { FilterOptions, FilterReport, FilterRow, Occluded } from './filters';

import { type AttributionMethod, drivers } from './drivers';
export type { AttributionMethod } from './drivers';

/** Every method name Explainer.attribute accepts. */
export function attributionMethods(): AttributionMethod[] {
  return Object.keys(drivers) as AttributionMethod[];
}
