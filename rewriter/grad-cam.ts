import { checkFreeNames, ioOf } from './augment';
import { differentiable, emitBackward } from './backward';
import { mapModel, MapSpec, mapTail } from './cam';
import { Emitter } from './emitter';
import { GraphView, holdsRows, rowsText, TensorFacts, valueDescendants } from './graph-view';
import { ExplainError } from './errors';
import { globalPoolMap } from './global-pool';
import { channelsLast } from './image-layout';
import { DataType, ModelProto, NodeProto } from './proto';
import { gradient } from '../rules/methods/gradient';
import { guidedBackprop } from '../rules/methods/guided';

/**
 * Grad-CAM's map before ReLU (Selvaraju et al.; Captum LayerGradCam): Σ_c mean(∂y/∂A_c) · A_c over
 * the channels (axis 1) of layer A (checked by the Explainer: a tensor `from` depends on), the
 * gradient from the backward walk to the layer (the layer-gradient block of buildAugmented); (N, 1, …).
 */
function gradCamMap(spec: MapSpec, em: Emitter): { map: string; shape: number[] } {
  const { view, facts } = spec;
  const layer = spec.options.layer;
  if (layer === undefined) throw new ExplainError(`${view.label}: Grad-CAM needs a layer (--layer NAME; onnx-explain info --layers lists them): no convolution's feature map [N, C, …] leads to '${spec.from}'`);
  const shape = facts.shapes.get(layer)!;
  if (spec.options.tokenGrid) return tokenGridMap(spec, em, layer, shape, spec.options.tokenGrid);
  if (shape.length < 3 || !holdsRows(facts, layer, spec.batchDynamic)) {
    throw new ExplainError(`${view.label}: Grad-CAM needs a layer of rank 3 or more (N, C, …: a sequence, image or video map) with the batch first and channels on axis 1; '${layer}' has shape ${shapeShown(spec, layer, shape)}`);
  }
  const grad = emitBackward({ view, facts, em, table: gradient.table, options: spec.options, wrt: [layer], from: spec.from, seed: ioOf(spec).seed }).get(layer)!;
  const spatial = shape.slice(2).map((_, k) => k + 2);
  const map = em.reduceSum(em.mul(em.reduceMean(grad, spatial), layer), [1]);
  return { map, shape: [shape[0], 1, ...shape.slice(2)] };
}

/** A layer's shape as the user sees it: [N, …] where it holds the rows, else as probed. */
const shapeShown = ({ facts, batchDynamic }: MapSpec, layer: string, shape: number[]) => (holdsRows(facts, layer, batchDynamic) ? rowsText(shape) : `[${shape.join(', ')}]`);

/**
 * Grad-CAM over the patch tokens of a token layer A [N, L, D]: the last h·w tokens as an h × w grid
 * with channels last; Σ_d mean_t(∂y/∂A_{t,d}) · A_{t,d} per patch t, shaped (N, 1, h, w).
 */
function tokenGridMap(spec: MapSpec, em: Emitter, layer: string, shape: number[], [h, w]: [number, number]): { map: string; shape: number[] } {
  const { view, facts } = spec;
  const where = `${view.label}: Grad-CAM with a token grid of ${h}×${w}`;
  if (![h, w].every((v) => Number.isInteger(v) && v >= 1)) throw new ExplainError(`${where}: the grid's height and width must be positive integers`);
  if (shape.length !== 3 || !holdsRows(facts, layer, spec.batchDynamic)) throw new ExplainError(`${where} needs a token layer [N, tokens, channels] with the batch first; '${layer}' has shape ${shapeShown(spec, layer, shape)}`);
  const lead = shape[1] - h * w;
  if (lead < 0) throw new ExplainError(`${where}: '${layer}' ${shapeShown(spec, layer, shape)} holds ${shape[1]} tokens, fewer than the grid's ${h * w}`);
  const grad = emitBackward({ view, facts, em, table: gradient.table, options: spec.options, wrt: [layer], from: spec.from, seed: ioOf(spec).seed }).get(layer)!;
  const patches = (t: string) => (lead ? em.slice(t, [lead], [shape[1]], [1]) : t);
  const map = em.reduceSum(em.mul(em.reduceMean(patches(grad), [1]), patches(layer)), [2], false);
  return { map: em.reshape(map, [-1, 1, h, w]), shape: [shape[0], 1, h, w] };
}

/** Grad-CAM at `layer`: ReLU by default, optionally resized to the input (bilinear by default). */
export function buildGradCam(spec: MapSpec): ModelProto {
  const io = ioOf(spec);
  checkFreeNames(spec.view, [io.seed, io.attribution]);
  const em = Emitter.joining(spec.view, spec.facts.dtypes.get(spec.input) ?? DataType.FLOAT);
  const { map, shape } = gradCamMap(spec, em);
  const out = mapTail(spec, em, map, shape, spec.options.relu ?? true, !!spec.options.upsample, spec.options.interpolate ?? 'bilinear');
  return mapModel(spec, em, out.map, out.shape);
}

/**
 * Guided Grad-CAM (Captum GuidedGradCam): guided backprop to the input times ReLU(Grad-CAM)
 * resized to the input (nearest by default, as Captum), broadcast over the input's channels.
 */
export function buildGuidedGradCam(spec: MapSpec): ModelProto {
  const io = ioOf(spec);
  checkFreeNames(spec.view, [io.seed, io.attribution]);
  const { view, facts } = spec;
  const em = Emitter.joining(view, facts.dtypes.get(spec.input) ?? DataType.FLOAT);
  const { map, shape } = gradCamMap(spec, em);
  const up = mapTail(spec, em, map, shape, true, true, spec.options.interpolate ?? 'nearest');
  const guided = emitBackward({ view, facts, em, table: guidedBackprop.table, options: spec.options, wrt: [spec.input], from: spec.from, seed: io.seed }).get(spec.input)!;
  // Over a channels-last image the map [N, 1, H, W] broadcasts as [N, H, W, 1].
  const inputShape = facts.shapes.get(spec.input)!;
  // A waveform [N, L] takes the map [N, 1, L] as [N, L].
  const broadcast = inputShape.length === 2 ? em.reshape(up.map, [0, inputShape[1]]) : channelsLast(inputShape) ? em.transpose(up.map, [0, 2, 3, 1]) : up.map;
  return mapModel(spec, em, em.mul(guided, broadcast), inputShape);
}

/** Ops after a convolution that keep its feature map as it is laid out: activations, normalisations, residual Adds, gates. */
const FEATURE_MAP_OPS = new Set(['Relu', 'LeakyRelu', 'PRelu', 'Elu', 'Selu', 'Celu', 'Sigmoid', 'Tanh', 'HardSigmoid', 'HardSwish', 'Clip', 'Mish', 'Gelu', 'BatchNormalization', 'InstanceNormalization', 'Add', 'Sub', 'Mul', 'Div', 'Max', 'Min', 'Sum']);

/**
 * Ops whose output holds each value of their input apart (kept shapes, a reshaping or a part of
 * them), or a few neighbours of it (an upsampling: torchvision's segmentation heads resize their logits).
 */
const RESHAPING_OPS = new Set(['Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Identity', 'Transpose', 'Resize', 'Upsample', 'Slice', 'Split']);

/**
 * Grad-CAM's layer where none is given: the last convolution's feature map [N, C, …] computed from `input` (spatial size
 * above 1) that `from` depends on, taken on through the activations, normalisations, residual
 * additions and gates that follow it while they keep its shape — a ResNet's layer4 output, the layer
 * pytorch-grad-cam's examples pick; undefined where no convolution leads to `from`. A map that `from`
 * is read from value by value (a segmentation logit's own convolution, through its bias,
 * activation and upsampling) is passed over for the convolution before it: its gradient there is one channel at
 * one position, so Grad-CAM would return that channel's own map, scaled. A classifier's global
 * pooling over the spatial axes after that convolution (not a squeeze-and-excitation gate's, which
 * comes before it) gives its input instead: the map its head reads.
 */
export function defaultCamLayer(view: GraphView, facts: TensorFacts, batchDynamic: boolean, from: string, input: string): { layer: string; source: string } | undefined {
  // Only maps computed from the explained input (a two-branch model's other branch is no map of it).
  const fromInput = differentiable(view, facts, [input]);
  const same = (a: string, b: string) => facts.shapes.get(a)?.join() === facts.shapes.get(b)?.join();
  const leads = (t: string) => differentiable(view, facts, [t]).has(from);
  const map = (t: string) => {
    const shape = facts.shapes.get(t);
    return !!shape && shape.length >= 3 && shape.slice(2).reduce((a, b) => a * b, 1) > 1 && holdsRows(facts, t, batchDynamic) && fromInput.has(t) && leads(t);
  };
  // A Concat places each input's values apart too (a detector's heads joined into one list of anchors).
  const passesValues = (n: NodeProto, t: string) => !n.domain && (n.op_type === 'Concat' || (RESHAPING_OPS.has(n.op_type ?? '') ? n.input![0] === t : FEATURE_MAP_OPS.has(n.op_type ?? '') && same(n.output![0], t)));
  const outputsOf = (n: NodeProto) => (n.op_type === 'Split' ? n.output! : [n.output![0]]);
  const valueByValue = new Map<string, boolean>();
  const readValueByValue = (t: string): boolean => {
    if (!valueByValue.has(t)) valueByValue.set(t, t === from || (view.consumers.get(t) ?? []).some((n) => passesValues(n, t) && outputsOf(n).some(readValueByValue)));
    return valueByValue.get(t)!;
  };
  const nodes = view.nodes;
  const last = (test: (n: NodeProto) => boolean) => nodes.length - 1 - [...nodes].reverse().findIndex(test);
  const conv = last((n) => (n.op_type === 'Conv' || n.op_type === 'ConvTranspose') && map(n.output![0]) && !readValueByValue(n.output![0]));
  // A classifier's global pooling after it reads the map its head sees (ConvNeXt's last stage, an EfficientNet's SiLU).
  const pooled = (n: NodeProto) => {
    const m = globalPoolMap(view, facts, n, true);
    return m && map(m) && !normalisationStatistic(view, facts, n) && !gatePooling(view, n, m) ? m : undefined;
  };
  const pool = last((n) => !!pooled(n));
  if (pool < nodes.length && (pool > conv || conv === nodes.length)) return { layer: pooled(nodes[pool])!, source: 'the feature map the global pooling reads' };
  if (conv >= nodes.length) return undefined;
  const gated = gatedMap(view, facts, nodes[conv].output![0]);
  let layer = gated && map(gated) ? gated : nodes[conv].output![0];
  for (;;) {
    const steps = (view.consumers.get(layer) ?? []).filter((n) => FEATURE_MAP_OPS.has(n.op_type ?? '') && !n.domain && same(n.output![0], layer) && leads(n.output![0]) && !readValueByValue(n.output![0]));
    // An activation written out as x·σ(x) reads the map twice: its Mul, which the other step feeds, is the one step.
    const next = steps.filter((n) => steps.every((m) => m === n || n.input!.includes(m.output![0])));
    if (next.length !== 1) return { layer, source: 'the last convolution\'s feature map' };
    layer = next[0].output![0];
  }
}

/**
 * Where a one-channel map only weighs a wider one (CBAM's spatial attention, sigmoid(conv7×7(…)) · f;
 * an attention U-Net's gate): past its activations, its one reader a Mul by a map with more
 * channels — the gated map, which is the feature map (the mask is none).
 */
function gatedMap(view: GraphView, facts: TensorFacts, t: string): string | undefined {
  if (facts.shapes.get(t)?.[1] !== 1) return undefined;
  const readers = (v: string): [NodeProto, string][] => (view.consumers.get(v) ?? []).flatMap((n) => (!n.domain && GATE_STEPS.has(n.op_type ?? '') ? readers(n.output![0]) : [[n, v] as [NodeProto, string]]));
  const all = readers(t);
  const [n, v] = all.length === 1 ? all[0] : [];
  return n && !n.domain && n.op_type === 'Mul' && n.input!.some((i) => i !== v && (facts.shapes.get(i)?.[1] ?? 1) > 1) ? n.output![0] : undefined;
}

/** A squeeze-and-excitation gate's pooling: what it computes from the map multiplies the map again. */
function gatePooling(view: GraphView, pool: NodeProto, map: string): boolean {
  const computed = valueDescendants(view, [pool.output![0]]);
  return [map, pool.input![0]].some((m) => (view.consumers.get(m) ?? []).some((n) => n.op_type === 'Mul' && !n.domain && n.input!.some((i) => i !== m && computed.has(i))));
}

/** What a gate passes through before it weighs the map: its squashing, a broadcast over the channels. */
const GATE_STEPS = new Set(['Sigmoid', 'HardSigmoid', 'Relu', 'Tanh', 'Clip', 'Expand', 'Tile']);

/** Element-wise steps a normalisation's statistic passes through before it meets the map again. */
const STAT_OPS = new Set(['Add', 'Sub', 'Mul', 'Div', 'Sqrt', 'Pow', 'Reciprocal', 'Unsqueeze', 'Cast', 'Identity']);

/**
 * A ReduceMean whose result is combined again with a tensor of its input's shape — a LayerNorm's
 * mean or variance (decomposed before opset 17, and RMSNorm at every opset) over the last axis of
 * [N, T, D] — is a normalisation's statistic, not a classifier's pooling.
 */
function normalisationStatistic(view: GraphView, facts: TensorFacts, pool: NodeProto): boolean {
  const full = facts.shapes.get(pool.input![0])?.join();
  const seen = new Set<string>();
  const walk = (t: string, depth: number): boolean => {
    if (depth > 6 || seen.has(t)) return false;
    seen.add(t);
    return (view.consumers.get(t) ?? []).some((n) => {
      if (n.domain || !STAT_OPS.has(n.op_type ?? '')) return false;
      if (n.input!.some((i) => i !== t && facts.shapes.get(i)?.join() === full)) return true;
      return walk(n.output![0], depth + 1);
    });
  };
  return walk(pool.output![0], 0);
}

