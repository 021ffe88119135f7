import { attrFloat, attrFloats, attrInt, attrInts, attrString, hasAttr } from './attributes';
import { ExplainError } from './errors';
import { allNodes, GraphView, mapSubgraphs } from './graph-view';
import { Attrs, float, floats, toAttribute } from './emitter';
import { DataType, GraphProto, isDefault, makeTensor, ModelProto, NodeProto, TensorProto, toNumber } from './proto';
import { lookupTable } from './lookup-table';

/** The first default-domain opset with Where, which every backward pass needs. */
export const LIFTED_OPSET = 9;

/**
 * Models below opset 9 (the ONNX Model Zoo's classic exports, PyTorch 0.3/0.4 and Caffe2 at opsets
 * 1–8) bound to opset 9 with the same outputs, as onnx.version_converter's adapters do. From 1 to 9
 * the default domain changed these ops' signatures (ONNX Changelog):
 * - opset 2: Pad's `paddings` became `pads`; Split's sizes moved from an input to `split`;
 *   LpPool's `p` became an integer;
 * - opset 4: Concat's `axis` (default 1) became required;
 * - opset 5: Reshape's `shape` attribute became an input;
 * - opset 6: `consumed_inputs` was dropped everywhere; Cast's `to` became an enum; Tile's
 *   (tiles, axis) became repeats; Selu's defaults got more digits;
 * - opset 7: the arithmetic, logical and comparison ops dropped the legacy `broadcast`/`axis`
 *   (B aligned at `axis`) for numpy broadcasting, so B gets trailing unit axes; PRelu's per-channel
 *   slope [C] became a numpy broadcast ([C, 1, 1]); Gemm dropped `broadcast`, BatchNormalization
 *   and Dropout `is_test`, the recurrent ops `output_sequence`; Upsample's height/width scales
 *   became `scales`;
 * - opset 9: BatchNormalization lost `spatial` (1, its default, is opset 9's behaviour; 0 becomes
 *   the per-activation Mul and Add it computes), Upsample's `scales` became an input, Scan's
 *   inputs changed (refused). Max, Min, Sum, Mean and MaxPool gained broadcasting or an optional
 *   output, supersets of their old forms; other ops only gained types.
 * MeanVarianceNormalization's opset-1 attributes become axes: statistics over N, H, W per channel, or
 * over N, C, H, W with across_channels (onnxruntime's kernel of opsets 1–8 pools the batch, as opset
 * 9's default axes do); without normalize_variance it only subtracts the mean.
 * The experimental ops that onnxruntime still runs (gone after opset 9; ONNX's
 * docs/ManagingExperimentalOps.md) become standard ops at any opset up to 9: ImageScaler
 * scale·x + bias[c], Affine alpha·x + beta, Scale scale·x, ScaledTanh alpha·tanh(beta·x),
 * ParametricSoftplus alpha·softplus(beta·x), Crop a Slice of H and W (border [left, top, right,
 * bottom]; with scale [h, w], h rows from top and w columns from left), ConstantFill of a shape
 * input (torch.onnx's opset-7/8 zero state of a recurrent layer) ConstantOfShape.
 * Other models are returned as they are.
 */
export function liftOldOpset(model: ModelProto, label: string): ModelProto {
  const entry = (model.opset_import ?? []).find((o) => isDefault(o.domain));
  if (!entry) return model;
  const opset = toNumber(entry.version);
  if (opset < 1) throw new ExplainError(`${label}: default-domain opset ${opset} does not exist (opsets start at 1)`);
  if (opset > LIFTED_OPSET || (opset === LIFTED_OPSET && !opTypes(model.graph!).some((t) => EXPERIMENTAL.has(t)))) return model;
  const view = new GraphView(model, label);
  const extra: TensorProto[] = [];
  const lift = (graph: GraphProto): GraphProto => ({
    ...graph,
    node: (graph.node ?? []).flatMap((n) => liftNode(n, view, opset, extra).map((m) => mapSubgraphs(m, lift))),
  });
  const graph = lift(model.graph!);
  return {
    ...model,
    ir_version: Math.max(toNumber(model.ir_version), 4),
    opset_import: (model.opset_import ?? []).map((o) => (isDefault(o.domain) ? { ...o, version: LIFTED_OPSET } : o)),
    graph: { ...graph, initializer: [...(graph.initializer ?? []), ...extra] },
  };
}

/** The model's default-domain opset (0 where it imports none). */
export function defaultOpset(model: ModelProto): number {
  return toNumber((model.opset_import ?? []).find((o) => isDefault(o.domain))?.version ?? 0);
}

/** The op types of a graph's nodes, subgraphs included. */
export function opTypes(graph: GraphProto): string[] {
  return allNodes(graph).map((n) => n.op_type ?? '');
}

/** Ops whose second input was aligned to the first at `axis` when `broadcast` was 1, before opset 7. */
const LEGACY_BROADCAST = new Set(['Add', 'Sub', 'Mul', 'Div', 'Pow', 'And', 'Or', 'Xor', 'Equal', 'Greater', 'Less']);
/** The inputs the readings below take of these ops (besides LEGACY_BROADCAST's two and legacy Tile's three): fewer is a malformed node. */
const READ_INPUTS: Record<string, number> = lookupTable({ PRelu: 2, BatchNormalization: 5, Upsample: 1, Reshape: 1, Tile: 2, Split: 1 });

/** Attributes dropped at opset 7 that change nothing at inference (Gemm's C broadcasts as before). */
const REMOVED_AT_7: Record<string, string[]> = lookupTable({
  Gemm: ['broadcast'], BatchNormalization: ['is_test'], Dropout: ['is_test'],
  RNN: ['output_sequence'], GRU: ['output_sequence'], LSTM: ['output_sequence'],
});

/** Cast's `to` before opset 6 (a type name). */
const TYPE_NAMES: Record<string, number> = lookupTable({
  FLOAT: DataType.FLOAT, UINT8: DataType.UINT8, INT8: DataType.INT8, UINT16: DataType.UINT16, INT16: DataType.INT16,
  INT32: DataType.INT32, INT64: DataType.INT64, BOOL: DataType.BOOL, FLOAT16: DataType.FLOAT16, DOUBLE: DataType.DOUBLE,
  UINT32: DataType.UINT32, UINT64: DataType.UINT64,
});

/** What rebinding one node to a later opset needs (here and in opset-upgrade.ts). */
export interface NodeRebinding {
  /** Fails naming the node. */
  fail(what: string): never;
  /** A new initializer (float unless `type` says otherwise) named after the node's output, added to `extra`. */
  constant(suffix: string, dims: number[], values: ArrayLike<number>, type?: number): string;
}

export function nodeRebinding(node: NodeProto, view: GraphView, extra: TensorProto[]): NodeRebinding {
  const out = node.output![0];
  return {
    fail: (what) => { throw new ExplainError(`${view.label}: ${view.nodeLabel(node)}: ${what}`); },
    constant: (suffix, dims, values, type = DataType.FLOAT) => {
      extra.push(makeTensor(`${out}/${suffix}`, dims, values, type));
      return `${out}/${suffix}`;
    },
  };
}

interface Lifting extends NodeRebinding {
  view: GraphView;
  opset: number;
  /** `name` with trailing unit axes up to `rank` (an initializer reshaped, or an Unsqueeze added to `before`). */
  padRank(name: string, rank: number, before: NodeProto[]): string;
}

function liftNode(node: NodeProto, view: GraphView, opset: number, extra: TensorProto[]): NodeProto[] {
  if (!isDefault(node.domain)) return [node];
  const out = node.output![0];
  const ctx: Lifting = {
    view,
    opset,
    ...nodeRebinding(node, view, extra),
    padRank: (name, rank, before) => {
      const have = view.rank(name) ?? ctx.fail(`the rank of '${name}' is unknown, so its legacy broadcast cannot be read`);
      if (have >= rank) return name;
      const units = Array.from({ length: rank - have }, () => 1);
      const init = view.initializers.get(name);
      if (init) {
        extra.push({ ...init, name: `${name}/${out}/aligned`, dims: [...(init.dims ?? []), ...units] });
        return `${name}/${out}/aligned`;
      }
      before.push({ op_type: 'Unsqueeze', name: `${node.name || out}/aligned`, input: [name], output: [`${name}/${out}/aligned`], attribute: [toAttribute('axes', units.map((_, i) => have + i))] });
      return `${name}/${out}/aligned`;
    },
  };
  const op = node.op_type ?? '';
  const reads = LEGACY_BROADCAST.has(op) ? 2 : op === 'Tile' && opset < 6 ? 3 : READ_INPUTS[op] ?? 0;
  const given = (node.input ?? []).filter(Boolean).length;
  if (given < reads) ctx.fail(`has ${given} input${given === 1 ? '' : 's'}; ${op} at opset ${opset} takes ${reads}`);
  let n = opset < 6 ? withAttrs(node, ['consumed_inputs'], {}) : node;
  const before: NodeProto[] = [];
  if (opset < 7) n = legacyForm(withAttrs(n, REMOVED_AT_7[n.op_type ?? ''] ?? [], {}), ctx, before);
  return [...before, ...opsetNineForm(n, ctx)];
}

/** A node of opset 1–6 in its opset-7 form (`before`: the nodes it now reads). */
function legacyForm(node: NodeProto, ctx: Lifting, before: NodeProto[]): NodeProto {
  const { view, opset, fail } = ctx;
  const op = node.op_type ?? '';
  if (LEGACY_BROADCAST.has(op)) {
    const plain = withAttrs(node, ['broadcast', 'axis'], {});
    if (attrInt(node, 'broadcast', 0) === 0 || !hasAttr(node, 'axis')) return plain;
    const [a, b] = node.input!;
    const axis = attrInt(node, 'axis', 0);
    const rank = view.rank(a) ?? fail(`the rank of '${a}' is unknown, so its legacy broadcast at axis ${axis} cannot be read`);
    const start = axis < 0 ? axis + rank : axis;
    const bRank = view.rank(b);
    if (start < 0 || start >= rank || (bRank !== undefined && start + bRank > rank)) fail(`legacy broadcast at axis ${axis} does not fit '${b}'${bRank === undefined ? '' : ` (rank ${bRank})`} into '${a}' (rank ${rank})`);
    return { ...plain, input: [a, ctx.padRank(b, rank - start, before)] };
  }
  switch (op) {
    case 'PRelu': {
      // A slope of one value per channel (axis 1), the only legacy form besides a shared one.
      const [x, slope] = node.input!;
      const dims = view.constantDims(slope);
      if (dims && dims.reduce((p, d) => p * d, 1) === 1) return node;
      const rank = view.rank(x) ?? fail(`the rank of '${x}' is unknown, so the legacy per-channel slope cannot be read`);
      return rank <= 2 ? node : { ...node, input: [x, ctx.padRank(slope, rank - 1, before)] };
    }
    case 'Upsample': {
      if (hasAttr(node, 'scales')) return node;
      const mode = attrString(node, 'mode', 'nearest');
      const scales = [1, 1, attrFloat(node, 'height_scale', NaN), attrFloat(node, 'width_scale', NaN)];
      if (scales.some(Number.isNaN)) fail('has no height_scale or width_scale');
      return withAttrs(node, ['height_scale', 'width_scale'], { scales: floats(scales), mode: mode === 'bilinear' ? 'linear' : mode });
    }
    case 'Selu':
      return opset < 6 ? withDefaults(node, { alpha: float(1.6732), gamma: float(1.0507) }) : node;
    case 'Cast': {
      if (opset >= 6) return node;
      const name = attrString(node, 'to', '').toUpperCase();
      const to = TYPE_NAMES[name] ?? fail(`casts to '${name}', not a tensor type`);
      return withAttrs(node, [], { to });
    }
    case 'Tile': {
      if (opset >= 6) return node;
      const [x, tiles, axis] = node.input!;
      const why = 'the legacy tiles and axis inputs are read only when they are constants and the input rank is known';
      const [t, a, rank] = [view.constant(tiles) ?? fail(why), view.constant(axis) ?? fail(why), view.rank(x) ?? fail(why)];
      const [copies, at] = [t.values[0], a.values[0]];
      if (!Number.isInteger(copies) || copies < 0 || !Number.isInteger(at) || at < -rank || at >= rank) fail(`tiles ${copies} along axis ${at} of a rank-${rank} input: tiles must be a count and axis one of its axes`);
      const repeats = Array.from({ length: rank }, (_, i) => (i === (at + rank) % rank ? copies : 1));
      return { ...node, input: [x, ctx.constant('repeats', [rank], repeats, DataType.INT64)] };
    }
    case 'Concat':
      return opset < 4 ? withDefaults(node, { axis: 1 }) : node;
    case 'Reshape': {
      if (opset >= 5) return node;
      const shape = attrInts(node, 'shape') ?? fail('has no shape');
      return { ...withAttrs(node, ['shape'], {}), input: [node.input![0], ctx.constant('shape', [shape.length], shape, DataType.INT64)] };
    }
    case 'Split': {
      if (opset >= 2 || !node.input![1]) return node;
      const sizes = view.constant(node.input![1]) ?? fail('the legacy split input is read only when it is a constant');
      if (!sizes.values.every((v) => Number.isInteger(v) && v >= 0)) fail(`split sizes [${sizes.values}] are not counts`);
      return { ...withAttrs(node, [], { split: sizes.values }), input: [node.input![0]] };
    }
    case 'Pad': {
      if (opset >= 2) return node;
      const pads = attrInts(node, 'paddings') ?? fail('has no paddings');
      return withAttrs(node, ['paddings'], { pads });
    }
    case 'LpPool': case 'GlobalLpPool': {
      if (opset >= 2 || !hasAttr(node, 'p')) return node;
      return withAttrs(node, [], { p: Math.round(attrFloat(node, 'p', 2)) });
    }
    default:
      return node;
  }
}

/** Experimental ops of opsets 1–9 as standard ops: a chain of unary steps from the node's input to its output. */
const EXPERIMENTAL = new Map<string, (node: NodeProto, ctx: Lifting) => Step[]>(Object.entries({
  ImageScaler: (n, ctx) => {
    const bias = attrFloats(n, 'bias') ?? [];
    return [mulBy(ctx, 'scale', attrFloat(n, 'scale', 1)), { op_type: 'Add', input: [ctx.constant('bias', [1, bias.length, 1, 1], bias)] }];
  },
  Affine: (n, ctx) => [mulBy(ctx, 'alpha', attrFloat(n, 'alpha', 1)), { op_type: 'Add', input: [ctx.constant('beta', [], [attrFloat(n, 'beta', 0)])] }],
  Scale: (n, ctx) => [mulBy(ctx, 'scale', attrFloat(n, 'scale', 1))],
  // torch.onnx's opset-7/8 export of a recurrent layer's zero state for a dynamic batch:
  // ConstantFill(shape, input_as_shape=1, value, dtype) is opset 9's ConstantOfShape.
  ConstantFill: (n, ctx) => {
    if (!attrInt(n, 'input_as_shape', 0) || hasAttr(n, 'extra_shape') || (n.input ?? []).length !== 1) ctx.fail('only the form with input_as_shape = 1 and no extra_shape is read (as opset 9\'s ConstantOfShape)');
    const dtype = attrInt(n, 'dtype', DataType.FLOAT);
    if (!([DataType.FLOAT, DataType.DOUBLE, DataType.INT32, DataType.INT64] as number[]).includes(dtype)) ctx.fail(`dtype ${dtype} is read only as float, double, int32 or int64`);
    const value = makeTensor('value', [1], [attrFloat(n, 'value', 0)], dtype);
    return [{ op_type: 'Cast', input: [], attribute: [toAttribute('to', DataType.INT64)] }, { op_type: 'ConstantOfShape', input: [], attribute: [toAttribute('value', value)] }];
  },
  ScaledTanh: (n, ctx) => scaledActivation(n, ctx, 'Tanh'),
  ParametricSoftplus: (n, ctx) => scaledActivation(n, ctx, 'Softplus'),
  Crop: (n, ctx) => {
    const border = attrInts(n, 'border') ?? [];
    if (border.length < 4) ctx.fail(`border must list four values (left, top, right, bottom), got ${border.length}`);
    const [left, top, right, bottom] = border;
    const scale = attrInts(n, 'scale');
    if ([left, top, right, bottom].some((b) => b < 0) || (scale && (scale.length < 2 || scale.some((d) => d < 1)))) ctx.fail(`border [${border}] must not be negative, and scale [${scale ?? []}] must give a height and a width`);
    const end = (margin: number) => (margin > 0 ? -margin : Number.MAX_SAFE_INTEGER);
    const ends = scale ? [top + scale[0], left + scale[1]] : [end(bottom), end(right)];
    // onnxruntime's kernel refuses a crop larger than the image; where the graph declares its size, so do we.
    const [height, width] = (ctx.view.declared(n.input![0])?.dims ?? []).slice(2).map((d) => toNumber(d.dim_value));
    const [tall, wide] = scale ? [top + scale[0], left + scale[1]] : [top + bottom, left + right];
    if ((height && tall > height) || (width && wide > width)) ctx.fail(`the crop (border [${border}]${scale ? `, scale [${scale}]` : ''}) does not fit the ${height || '?'}×${width || '?'} input`);
    return [{ op_type: 'Slice', input: [], attribute: [toAttribute('axes', [2, 3]), toAttribute('starts', [top, left]), toAttribute('ends', ends)] }];
  },
}));

/** One node of a chain: its input is the previous step's output, then `input`. */
type Step = Pick<NodeProto, 'op_type' | 'input' | 'attribute'>;

const mulBy = (ctx: Lifting, suffix: string, factor: number): Step => ({ op_type: 'Mul', input: [ctx.constant(suffix, [], [factor])] });

/** alpha·f(beta·x); onnxruntime's kernels require both attributes. */
function scaledActivation(n: NodeProto, ctx: Lifting, f: string): Step[] {
  if (!hasAttr(n, 'alpha') || !hasAttr(n, 'beta')) ctx.fail('needs both alpha and beta (onnxruntime requires them)');
  return [mulBy(ctx, 'beta', attrFloat(n, 'beta', 1)), { op_type: f }, mulBy(ctx, 'alpha', attrFloat(n, 'alpha', 1))];
}

/** The steps as nodes from the node's input to its output; the last keeps the node's name. */
function chain(node: NodeProto, steps: Step[]): NodeProto[] {
  const [out, name] = [node.output![0], node.name || node.output![0]];
  return steps.map((s, i) => ({
    ...s,
    input: [i ? `${out}/${i}` : node.input![0], ...(s.input ?? [])],
    output: [i === steps.length - 1 ? out : `${out}/${i + 1}`],
    name: i === steps.length - 1 ? name : `${name}/${i + 1}`,
  }));
}

/** A node of opset 7 or 8 in its opset-9 form; experimental ops in standard ones. */
function opsetNineForm(node: NodeProto, ctx: Lifting): NodeProto[] {
  const { opset, fail } = ctx;
  const experimental = EXPERIMENTAL.get(node.op_type ?? '');
  if (experimental) return chain(node, experimental(node, ctx));
  switch (node.op_type) {
    case 'MeanVarianceNormalization': {
      if (opset >= 9) return [node];
      const axes = attrInt(node, 'across_channels', 0) ? [0, 1, 2, 3] : [0, 2, 3];
      if (attrInt(node, 'normalize_variance', 1)) return [withAttrs(node, ['across_channels', 'normalize_variance'], { axes })];
      const [x, out, name] = [node.input![0], node.output![0], node.name || node.output![0]];
      return [
        { op_type: 'ReduceMean', input: [x], output: [`${out}/mean`], name: `${name}/mean`, attribute: [toAttribute('axes', axes), toAttribute('keepdims', 1)] },
        { op_type: 'Sub', input: [x, `${out}/mean`], output: [out], name },
      ];
    }
    case 'BatchNormalization':
      if (opset >= 9) return [node];
      if (attrInt(node, 'spatial', 1) !== 0) return [withAttrs(node, ['spatial'], {})];
      return perActivation(node, ctx);
    case 'Upsample': {
      if (opset >= 9) return [node];
      const scales = attrFloats(node, 'scales') ?? fail('has no scales');
      return [{ ...withAttrs(node, ['scales'], {}), input: [node.input![0], ctx.constant('scales', [scales.length], scales)] }];
    }
    case 'Scan':
      return opset >= 9 ? [node] : fail(`Scan's inputs changed at opset ${LIFTED_OPSET}, the first opset with Where, which the augmented graph needs; export the model at opset ${LIFTED_OPSET} or later`);
    default:
      return [node];
  }
}

/** BatchNormalization with spatial = 0 (statistics per activation, shaped [C, D1, …]): y = x·k + (B − mean·k), k = scale/√(var + ε). */
function perActivation(node: NodeProto, ctx: Lifting): NodeProto[] {
  const [x, ...params] = node.input!;
  const [scale, bias, mean, variance] = params.map((p) => ctx.view.constant(p) ?? ctx.fail('spatial 0 needs constant scale, bias, mean and variance'));
  if (node.output!.slice(1).some(Boolean)) ctx.fail('training-mode batch normalization (statistics of the batch, updated running means) is not supported: export the model in eval mode (model.eval(), torch.onnx.TrainingMode.EVAL)');
  const eps = attrFloat(node, 'epsilon', 1e-5);
  const k = scale.values.map((s, i) => s / Math.sqrt(variance.values[i] + eps));
  const shift = bias.values.map((b, i) => b - mean.values[i] * k[i]);
  const dims = [1, ...scale.dims];
  return chain({ ...node, input: [x] }, [{ op_type: 'Mul', input: [ctx.constant('factor', dims, k)] }, { op_type: 'Add', input: [ctx.constant('shift', dims, shift)] }]);
}

/** The node without the attributes `remove`, with `add`. */
export function withAttrs(node: NodeProto, remove: string[], add: Attrs): NodeProto {
  const kept = (node.attribute ?? []).filter((a) => !remove.includes(a.name ?? '') && !Object.hasOwn(add, a.name!));
  const added = Object.entries(add).map(([name, v]) => toAttribute(name, v!));
  return kept.length === (node.attribute ?? []).length && !added.length ? node : { ...node, attribute: [...kept, ...added] };
}

/** The node with each of `defaults` it does not set. */
function withDefaults(node: NodeProto, defaults: Attrs): NodeProto {
  return withAttrs(node, [], Object.fromEntries(Object.entries(defaults).filter(([name]) => !hasAttr(node, name))));
}
