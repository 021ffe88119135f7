import { attrFloat, attrInt, attrInts } from './attributes';
import { batchDims, checkFreeNames, extendModel, IoNames, ioOf } from './augment';
import { Emitter } from './emitter';
import { ExplainError } from './errors';
import { globalPoolMap, meanAxesOf } from './global-pool';
import { GraphView, isSigmoid, producerPastCopies, rowsText, TensorFacts } from './graph-view';
import { channelsLast } from './image-layout';
import { DataType, isFloatType, ModelProto, NodeProto, valueInfo } from './proto';
import { interpolateSpatial } from '../rules/interpolation';
import { RuleOptions } from '../rules/types';

/** Options of the class-activation-map methods (CAM, Grad-CAM, Guided Grad-CAM). */
export interface CamOptions {
  /** Grad-CAM: the tensor of rank 3 or more (channels on axis 1) whose map is computed. */
  layer?: string;
  /** ReLU of the map (Grad-CAM default true; CAM default false, as Zhou et al.). */
  relu?: boolean;
  /** Resize the map to the input's spatial size (Captum LayerAttribution.interpolate). */
  upsample?: boolean;
  /** How the map is resized: bilinear (default; linear per spatial axis: linear for 3-D, trilinear for 5-D) or nearest (Guided Grad-CAM's default, as Captum). */
  interpolate?: 'bilinear' | 'nearest';
  /**
   * Grad-CAM on a transformer's tokens [N, L, D] (ViT, DeiT): the last h·w tokens are an h × w grid
   * of patches with their channels last, the tokens before them (class, distillation) left out, as
   * pytorch-grad-cam's reshape_transform for ViT.
   */
  tokenGrid?: [number, number];
}

export interface MapSpec {
  view: GraphView;
  facts: TensorFacts;
  batchDynamic: boolean;
  input: string;
  /** The explained tensor (the seed's shape). */
  from: string;
  /** Forward tensors to output besides the model outputs (an explained intermediate tensor). */
  expose?: string[];
  options: CamOptions & RuleOptions;
  /** The graph's own input and output names (default: ioNames of the view). */
  io?: IoNames;
}

/**
 * The pieces CAM reads: the last map A, [N,K,…] (or [N,…,K] where its channels are last: `channelsLast`),
 * and the linear layer's class weights W [C,K].
 */
export interface CamHead { map: string; weights: Float32Array; classes: number; channels: number; channelsLast: boolean }

const PASS_THROUGH = new Set(['Flatten', 'Reshape', 'Squeeze', 'Identity', 'Dropout']);

/**
 * Finds CAM's structure above the explained tensor (Zhou et al. 2016): one linear layer — Gemm, or
 * MatMul (+ Add of a bias) — with constant weights, over global average pooling (globalPoolMap:
 * GlobalAveragePool, ReduceMean over every spatial axis, an AveragePool over the whole map) of a map with channels on axis 1, possibly through
 * Flatten/Reshape/Squeeze; or a ReduceMean over every axis between the batch and the channels of a
 * channels-last map (a transformer's mean over its tokens [N, L, K]). Fails naming what is missing.
 */
export function camHead(view: GraphView, facts: TensorFacts, from: string): CamHead {
  const label = view.label;
  const what = (n: NodeProto | undefined) => (n ? `${n.op_type} node '${n.name || n.output?.[0]}'` : 'a graph input');
  // Past copies and float Casts (a no-op Cast after the head).
  const past = (t: string) => {
    let n = producerPastCopies(view, t);
    while (n?.op_type === 'Cast' && !n.domain && isFloatType(attrInt(n, 'to', 0))) n = producerPastCopies(view, n.input![0]);
    return n;
  };
  let linear = past(from);
  // A multi-label head's final Sigmoid (CheXNet): the map is the logit's, as behind a Softmax.
  if (isSigmoid(linear)) linear = past(linear!.input![0]);
  if (linear?.op_type === 'Add') {
    const mm = linear.input!.map(past).find((n) => n?.op_type === 'MatMul');
    const bias = linear.input!.find((i) => past(i) !== mm);
    if (mm && bias !== undefined && view.constant(bias)) linear = mm;
  }
  // A 1×1 convolution over the pooled map [N, K, 1, …], then a Flatten (the nn.Conv2d(K, C, 1) head of BiT, DLA, DPN), is a linear layer.
  let head = linear;
  while (head && PASS_THROUGH.has(head.op_type ?? '')) head = view.producer.get(head.input![0]);
  const pointwise = head?.op_type === 'Conv' && pointwiseHead(view, facts, head);
  if (pointwise) linear = head;
  if (!linear || (linear.op_type !== 'Gemm' && linear.op_type !== 'MatMul' && !pointwise)) {
    throw new ExplainError(`${label}: CAM needs the explained tensor '${from}' to come from one linear layer (Gemm, MatMul + Add, or a 1×1 Conv of the pooled map); it comes from ${what(linear)}`);
  }
  const [features, weightName] = linear.input!;
  const w = view.constant(weightName);
  if (!w || w.dims.length !== (pointwise ? facts.shapes.get(features)!.length : 2)) throw new ExplainError(`${label}: CAM needs constant 2-D weights in the linear layer ${what(linear)}; '${weightName}' is computed`);
  if (linear.op_type === 'Gemm' && attrInt(linear, 'transA', 0)) throw new ExplainError(`${label}: CAM cannot read the linear layer ${what(linear)} with transA = 1`);
  // W[c, k]: the weight of feature k in class c, times Gemm's alpha (a 1×1 Conv's [C, K, 1, …] weights are W as they are).
  const transposed = pointwise || (linear.op_type === 'Gemm' && attrInt(linear, 'transB', 0) === 1);
  const [classes, channels] = transposed ? w.dims : [w.dims[1], w.dims[0]];
  const alpha = linear.op_type === 'Gemm' ? attrFloat(linear, 'alpha', 1) : 1;
  const weights = new Float32Array(classes * channels);
  for (let c = 0; c < classes; c++) for (let k = 0; k < channels; k++) weights[c * channels + k] = alpha * w.values[transposed ? c * channels + k : k * classes + c];
  let t = features;
  let node = view.producer.get(t);
  while (node && PASS_THROUGH.has(node.op_type ?? '')) { t = node.input![0]; node = view.producer.get(t); }
  let map = node?.input?.[0] ?? '';
  const rank = facts.shapes.get(map)?.length ?? 0;
  const spatial = Array.from({ length: Math.max(0, rank - 2) }, (_, k) => k + 2);
  const meanAxes = node?.op_type === 'ReduceMean' ? meanAxesOf(view, facts, node, rank) : [];
  // A ReduceMean over the axes between the batch and the last one: a channels-last map's pooling.
  const lastMean = node?.op_type === 'ReduceMean' && rank >= 3 && meanAxes.join() === spatial.map((a) => a - 1).join();
  // The map pooled (tf2onnx's Keras GlobalAveragePooling2D moves it channels last first); else a mean over tokens [N, L, K].
  const averaged = node && globalPoolMap(view, facts, node);
  if (averaged) map = averaged;
  const shape = facts.shapes.get(map) ?? [];
  const tokensMean = lastMean && !averaged && shape[rank - 1] === channels;
  const pooled = !!averaged || tokensMean;
  if (!pooled) {
    const mean = node?.op_type === 'ReduceMean' ? `, which averages axes ${meanAxes.join(',') || 'all'} of '${map}' ${rowsText(shape)}` : '';
    throw new ExplainError(`${label}: CAM needs global average pooling (GlobalAveragePool, ReduceMean over the spatial axes, or an AveragePool over the whole map) before the linear layer ${what(linear)}; its input comes from ${what(node)}${mean}${poolingAbove(view, facts, node, what)}`);
  }
  if (!tokensMean && shape[1] !== channels) throw new ExplainError(`${label}: CAM: the pooled map '${map}' has ${shape[1]} channels but the linear layer ${what(linear)} reads ${channels} features`);
  return { map, weights, classes, channels, channelsLast: tokensMean };
}

/** A Conv that is a linear layer of a pooled map: every spatial size of its input 1, kernel 1, one group, constant bias or none. */
function pointwiseHead(view: GraphView, facts: TensorFacts, conv: NodeProto): boolean {
  const shape = facts.shapes.get(conv.input![0]);
  const w = view.constant(conv.input![1]);
  if (!shape || shape.length < 3 || shape.slice(2).some((d) => d !== 1) || !w || w.dims.slice(2).some((d) => d !== 1)) return false;
  if (attrInt(conv, 'group', 1) !== 1 || (attrInts(conv, 'pads') ?? []).some((p) => p !== 0)) return false;
  return conv.input!.length < 3 || !conv.input![2] || !!view.constant(conv.input![2]);
}

/**
 * Where a pooling sits a few single-input nodes above `node` (ConvNeXt's LayerNorm, a head's
 * activation): the ops between, which CAM cannot pass; else ''.
 */
function poolingAbove(view: GraphView, facts: TensorFacts, node: NodeProto | undefined, what: (n: NodeProto) => string): string {
  const between: string[] = [];
  for (let n = node; n && between.length < 8; n = view.producer.get(n.input?.[0] ?? '')) {
    if (globalPoolMap(view, facts, n)) {
      return `; the pooling ${what(n)} above it is followed by ${between.reverse().join(', ')}, which CAM cannot pass (only ${[...PASS_THROUGH].join(', ')})`;
    }
    if (!PASS_THROUGH.has(n.op_type ?? '')) between.push(n.op_type ?? '');
  }
  return '';
}

/**
 * A map's optional ReLU and resize to the input's spatial size (`mode`), as nodes; returns the
 * tensor and its shape at batch 1.
 */
export function mapTail(spec: MapSpec, em: Emitter, map: string, shape: number[], relu: boolean, upsample: boolean, mode: 'bilinear' | 'nearest'): { map: string; shape: number[] } {
  const out = relu ? em.op('Relu', [map]) : map;
  if (!upsample) return { map: out, shape };
  const input = spec.facts.shapes.get(spec.input)!;
  // A raw waveform [N, L] (wav2vec2, HuBERT, wake-word CNNs) under a 1-D map [N, 1, T]: resized along L.
  const waveform = input.length === 2 && shape.length === 3;
  if (input.length !== shape.length && !waveform) {
    const tokens = shape.length === 3 && input.length === 4 ? '; a token layer [N, tokens, channels] is mapped onto the image with --token-grid H,W' : '';
    throw new ExplainError(`${spec.view.label}: cannot upsample a map of shape ${rowsText(shape)} to the input '${spec.input}' of shape ${rowsText(input)} (different ranks)${tokens}`);
  }
  // A channels-last image's height and width come before its channels.
  const spatial = waveform ? input.slice(1) : channelsLast(input) ? input.slice(1, 3) : input.slice(2);
  return { map: interpolateSpatial(em, out, shape, spatial, mode), shape: [shape[0], shape[1], ...spatial] };
}

/** The model with input `seed` and output `attribution` (`result`, of shape `dims` at batch 1) added. */
export function mapModel(spec: MapSpec, em: Emitter, result: string, dims: number[]): ModelProto {
  const { view, facts } = spec;
  const io = ioOf(spec);
  em.rename(result, io.attribution);
  const floatType = facts.dtypes.get(spec.input) ?? DataType.FLOAT;
  const batch = dims.map((v, k) => (k === 0 && spec.batchDynamic ? 'N' : v));
  const exposed = (spec.expose ?? []).map((name) => valueInfo(name, facts.dtypes.get(name)!, batchDims(facts, name)));
  return extendModel(view, facts, spec.batchDynamic, em, [valueInfo(io.seed, floatType, batchDims(facts, spec.from))], [...exposed, valueInfo(io.attribution, floatType, batch)]);
}

/** CAM (Zhou et al. 2016): M = Σ_k (Σ_c seed_c · W[c, k]) · A_k, shape (N, 1, …): the class weights of the seeded logits over the last map. */
export function buildCam(spec: MapSpec): ModelProto {
  const { view, facts } = spec;
  const io = ioOf(spec);
  checkFreeNames(view, [io.seed, io.attribution]);
  const head = camHead(view, facts, spec.from);
  const fromShape = facts.shapes.get(spec.from)!;
  if (fromShape.length !== 2 || fromShape[1] !== head.classes) throw new ExplainError(`${view.label}: CAM needs the explained tensor '${spec.from}' to be the linear layer's [N, ${head.classes}] output; it has shape [${fromShape}]`);
  const em = Emitter.joining(view, facts.dtypes.get(spec.input) ?? DataType.FLOAT);
  const mapShape = facts.shapes.get(head.map)!;
  const perRow = em.matmul(io.seed, em.constFloat(head.weights, [head.classes, head.channels]));
  const rank = mapShape.length;
  // Channels last: W·A summed over the last axis, which then moves to axis 1 as the map's one channel.
  const positions = head.channelsLast ? mapShape.slice(1, -1) : mapShape.slice(2);
  // A token map is at the input's positions already where the input is laid out as it is ([N, L, D]).
  const inputPositions = facts.shapes.get(spec.input)!.slice(1, -1);
  const asInput = head.channelsLast && inputPositions.join() === positions.join();
  if (head.channelsLast && spec.options.upsample && !asInput) {
    throw new ExplainError(`${view.label}: CAM cannot upsample the map of the channels-last tensor '${head.map}' ${rowsText(mapShape)}: which input axes its positions span is not known`);
  }
  const weights = em.reshape(perRow, head.channelsLast ? [0, ...positions.map(() => 1), head.channels] : [0, head.channels, ...positions.map(() => 1)]);
  const summed = em.reduceSum(em.mul(weights, head.map), [head.channelsLast ? rank - 1 : 1]);
  const map = head.channelsLast ? em.transpose(summed, [0, rank - 1, ...positions.map((_, k) => k + 1)]) : summed;
  const out = mapTail(spec, em, map, [mapShape[0], 1, ...positions], spec.options.relu ?? false, !!spec.options.upsample && !asInput, spec.options.interpolate ?? 'bilinear');
  return mapModel(spec, em, out.map, out.shape);
}
