import { ExplainError } from './errors';
import { GraphView } from './graph-view';
import { QDQ_AXIS_OPSET, upgradeOpset } from './opset-upgrade';
import { QUANTIZED_MOVES } from './quantized-moves';
import { AttributeProto, AttrType, DataType, makeTensor, ModelProto, NodeProto, TensorProto, toNumber } from './proto';
import { lookupTable } from './lookup-table';

/** Where a QLinear op's quantized operands, its output's scale and zero point, and its float op are. */
interface QForm {
  /** The float op computed between dequantization and requantization (same attributes). */
  float: string;
  /** [value, scale, zero point] input indices of each quantized operand (all remaining triples when `rest`). */
  operands: [number, number, number][];
  /** Input indices of the output's scale and zero point (a QGemm without them outputs floats). */
  output: [number, number];
  /** Input index of an int32 bias, quantized with the scale x_scale·w_scale. */
  bias?: number;
  /** Operands from this index on come in triples (QLinearConcat's inputs). */
  rest?: number;
  /** The attribute that says the activations are channels-last (NHWC), as onnxruntime's NHWC transformer writes them. */
  layout?: string;
  /** Attributes of the QLinear op that its float op does not take. */
  own?: string[];
  /** Input indices passed to the float op as they are, before the operands (QLinearWhere's condition). */
  plain?: number[];
}

const FORMS: Record<string, QForm> = lookupTable({
  QLinearConv: { float: 'Conv', operands: [[0, 1, 2], [3, 4, 5]], output: [6, 7], bias: 8 },
  QLinearMatMul: { float: 'MatMul', operands: [[0, 1, 2], [3, 4, 5]], output: [6, 7] },
  'com.microsoft.QLinearAdd': { float: 'Add', operands: [[0, 1, 2], [3, 4, 5]], output: [6, 7] },
  'com.microsoft.QLinearMul': { float: 'Mul', operands: [[0, 1, 2], [3, 4, 5]], output: [6, 7] },
  'com.microsoft.QLinearConv': { float: 'Conv', operands: [[0, 1, 2], [3, 4, 5]], output: [6, 7], bias: 8, layout: 'channels_last' },
  'com.microsoft.QGemm': { float: 'Gemm', operands: [[0, 1, 2], [3, 4, 5]], output: [7, 8], bias: 6 },
  'com.microsoft.QLinearGlobalAveragePool': { float: 'GlobalAveragePool', operands: [[0, 1, 2]], output: [3, 4], layout: 'channels_last' },
  'com.microsoft.QLinearAveragePool': { float: 'AveragePool', operands: [[0, 1, 2]], output: [3, 4], layout: 'channels_last' },
  'com.microsoft.QLinearSigmoid': { float: 'Sigmoid', operands: [[0, 1, 2]], output: [3, 4] },
  'com.microsoft.QLinearLeakyRelu': { float: 'LeakyRelu', operands: [[0, 1, 2]], output: [3, 4] },
  'com.microsoft.QLinearConcat': { float: 'Concat', operands: [], output: [0, 1], rest: 2 },
  // `opset` names the Softmax it computes: before 13 over the axes from `axis` on, flattened (softmaxAxis).
  'com.microsoft.QLinearSoftmax': { float: 'Softmax', operands: [[0, 1, 2]], output: [3, 4], own: ['opset'] },
  'com.microsoft.QLinearWhere': { float: 'Where', operands: [[1, 2, 3], [4, 5, 6]], output: [7, 8], plain: [0] },
});

/**
 * Standard ops that onnxruntime's quantiser leaves to run on the quantized values themselves and
 * that are not mere moves (the ONNX Model Zoo's int8 ResNets max-pool uint8 maps; its QResize):
 * read as DequantizeLinear → the op → QuantizeLinear with the input's scale and zero point — exact
 * for the pools; a linear Resize rounds as QuantizeLinear does (half to even).
 */
const ON_QUANTIZED = new Set(['MaxPool', 'GlobalMaxPool', 'com.microsoft.NhwcMaxPool', 'Resize', 'Upsample']);

/** Ops through which a tensor keeps its producer's scale and zero point. */
const MOVES = new Set([...QUANTIZED_MOVES, ...ON_QUANTIZED]);

const keyOf = (n: NodeProto) => (n.domain && n.domain !== 'ai.onnx' ? `${n.domain}.${n.op_type}` : n.op_type ?? '');

/**
 * onnxruntime's QOperator quantization format (QLinearConv, QLinearMatMul and the com.microsoft
 * QLinear elementwise and pooling ops, as in the ONNX Model Zoo's int8 models) in QDQ form:
 * DequantizeLinear of each operand, the float op with the same attributes, QuantizeLinear with the
 * output's scale and zero point — the definition of each QLinear op. Constant weights and the
 * int32 bias (scale x_scale·w_scale, zero point 0) stay integers read through DequantizeLinear (per
 * output channel along its axis), as onnxruntime's QDQ format writes them, which lets its optimiser
 * fuse the group back into the integer kernel with the same weights (from float weights it
 * requantized them, several steps off; a float bias it quantized with a Round, which opset 10
 * lacks). A model with per-channel weights below opset 13 (DequantizeLinear's axis) is rebound to
 * 13 first. The existing QuantizeLinear/DequantizeLinear rules (straight-through estimator) then
 * apply. Unfused, the float op accumulates in float32 where the kernels accumulate integers, so an
 * output may differ from the kernel's by one quantization step where it lies within float
 * rounding of a step boundary.
 */
export function qoperatorToQdq(model: ModelProto, label: string): ModelProto {
  if (!(model.graph?.node ?? []).some((n) => keyOf(n) in FORMS)) return model;
  const given = new GraphView(model, label);
  const view = given.opset < QDQ_AXIS_OPSET && given.nodes.some((n) => perChannelWeights(given, n)) ? new GraphView(upgradeOpset(model, QDQ_AXIS_OPSET, label), label) : given;
  model = view.model;
  const extra: TensorProto[] = [];
  const nodes = (model.graph!.node ?? []).flatMap((n) => {
    const form = FORMS[keyOf(n)];
    if (form) return rewrite(n, form, view, extra);
    const params = ON_QUANTIZED.has(keyOf(n)) && quantization(view, n.input![0]);
    return params ? onQuantized(n, params) : [n];
  });
  return { ...model, graph: { ...model.graph, node: nodes, initializer: [...(model.graph!.initializer ?? []), ...extra] } };
}

function rewrite(node: NodeProto, form: QForm, view: GraphView, extra: TensorProto[]): NodeProto[] {
  const fail = (what: string): never => { throw new ExplainError(`${view.label}: ${view.nodeLabel(node)}: ${what}`); };
  const ins = node.input ?? [];
  const out = node.output![0];
  // Channels-last activations (weights stay [M, C, kH, kW]): transposed to channels-first around the float op.
  const channelsLast = !!form.layout && toNumber(node.attribute?.find((x) => x.name === form.layout)?.i ?? 0) !== 0;
  const rank = channelsLast ? quantizedRank(view, node) : 0;
  if (channelsLast && !(rank && rank >= 3)) fail(`${form.layout} = 1 with an input of unknown rank`);
  const name = (hint: string) => `${out}/qdq/${hint}`;
  const operands = form.rest === undefined ? form.operands : Array.from({ length: (ins.length - form.rest) / 3 }, (_, k): [number, number, number] => [form.rest! + 3 * k, form.rest! + 3 * k + 1, form.rest! + 3 * k + 2]);
  const added: NodeProto[] = [];
  const floats = operands.map(([v, s, z], k) => {
    // Constant weights, per tensor or per output channel (axis 0 of a Conv weight, the last axis of a MatMul's B, Gemm's N axis).
    const weights = view.initializers.has(ins[v]);
    const perChannel = weights && (view.constant(ins[s]) ?? fail('a constant operand needs a constant scale')).values.length > 1;
    const last = form.float === 'MatMul' || (form.float === 'Gemm' && toNumber(node.attribute?.find((a) => a.name === 'transB')?.i ?? 0) === 0);
    const dq = name(`${weights ? 'w' : 'x'}${k}`);
    const axis = perChannel ? [{ name: 'axis', type: AttrType.INT, i: last ? view.constantDims(ins[v])!.length - 1 : 0 }] : [];
    added.push({ op_type: 'DequantizeLinear', input: [ins[v], ins[s], ...(ins[z] ? [ins[z]] : [])], output: [dq], name: dq, attribute: axis });
    return dq;
  });
  const transpose = (x: string, perm: number[], hint: string) => transposed(added, x, perm, name(hint));
  const inputs = [...(form.plain ?? []).map((i) => ins[i]), ...floats];
  if (channelsLast) inputs[0] = transpose(inputs[0], toChannelsFirst(rank!), 'nchw');
  // QGemm's C sits in the accumulator, which alpha scales with A·B: the float Gemm adds alpha·C.
  const alpha = form.float === 'Gemm' ? node.attribute?.find((a) => a.name === 'alpha')?.f ?? 1 : 1;
  if (form.bias !== undefined && ins[form.bias]) {
    const [xs, ws] = [operands[0][1], operands[1][1]].map((i) => view.constant(ins[i]) ?? fail('with a bias, the input and weight scales must be constants'));
    const scales = ws.values.map((w) => alpha * xs.values[0] * w);
    inputs.push(quantizedBias(ins[form.bias], scales, added, extra, name('bias')));
  }
  const [ys, yz] = form.output;
  const y = ins[ys] ? name('y') : out;
  const kept = (node.attribute ?? []).filter((a) => a.name !== form.layout && !form.own?.includes(a.name ?? ''));
  const softmax = form.float === 'Softmax' ? softmaxAxis(node, view, fail) : undefined;
  const attribute: AttributeProto[] = softmax ? [...kept.filter((a) => a.name !== 'axis'), { name: 'axis', type: AttrType.INT, i: softmax.flattened ? 1 : softmax.axis }] : kept;
  const yName = ins[ys] ? y : node.name || out;
  if (softmax?.flattened) {
    // The axes from `axis` on as one (Flatten), the Softmax over it, the input's shape back.
    const [flat, soft, shape] = [name('flat'), name('softmax'), name('shape')];
    added.push(
      { op_type: 'Flatten', input: [inputs[0]], output: [flat], name: flat, attribute: [{ name: 'axis', type: AttrType.INT, i: softmax.axis }] },
      { op_type: 'Softmax', input: [flat], output: [soft], name: soft, attribute },
      { op_type: 'Shape', input: [inputs[0]], output: [shape], name: shape },
      { op_type: 'Reshape', input: [soft, shape], output: [y], name: yName },
    );
  } else {
    added.push({ op_type: form.float, input: inputs, output: [y], name: yName, attribute });
  }
  if (!ins[ys]) return added;
  const result = channelsLast ? transpose(y, toChannelsLast(rank!), 'nhwc') : y;
  added.push({ op_type: 'QuantizeLinear', input: [result, ins[ys], ...(ins[yz] ? [ins[yz]] : [])], output: [out], name: node.name || out });
  return added;
}

/**
 * The axis of the Softmax a QLinearSoftmax computes (−1 by default), as the Softmax of its `opset`
 * attribute (the quantiser writes the model's) computes it there. The model's Softmax at the
 * model's opset computes the same where both opsets are from 13 on (one axis), both before (the
 * axes from `axis` on, flattened), or the axis is the last one (where the two coincide); an older
 * `opset`'s in a model from 13 on (one rebound to 13) is `flattened` by hand.
 */
function softmaxAxis(node: NodeProto, view: GraphView, fail: (what: string) => never): { axis: number; flattened: boolean } {
  const attr = (name: string) => node.attribute?.find((a) => a.name === name)?.i;
  const own = toNumber(attr('opset') ?? fail('its opset attribute is missing'));
  // onnxruntime's kernel defaults to the last axis whatever `opset` says (its schema's default).
  const axis = toNumber(attr('axis') ?? -1);
  const rank = view.rank(node.input![0]);
  const last = axis === -1 || (rank !== undefined && axis === rank - 1);
  if (!last && own >= 13 && view.opset < 13) fail(`its Softmax of opset ${own} over axis ${axis} differs from the model's opset ${view.opset} Softmax there`);
  return { axis, flattened: !last && own < 13 && view.opset >= 13 };
}

/** The scale and zero point of a quantized tensor: its QuantizeLinear's or QLinear op's, through ops that only move values. */
function quantization(view: GraphView, name: string, depth = 0): [string, string | undefined] | undefined {
  const p = view.producer.get(name);
  if (!p || depth > 64) return undefined;
  const form = FORMS[keyOf(p)];
  if (form) return p.input![form.output[0]] ? [p.input![form.output[0]], p.input![form.output[1]] || undefined] : undefined;
  if (!p.domain && p.op_type === 'QuantizeLinear') return [p.input![1], p.input![2] || undefined];
  return MOVES.has(keyOf(p)) ? quantization(view, p.input![0], depth + 1) : undefined;
}

/**
 * An op on quantized values as DequantizeLinear → the op → QuantizeLinear with the same scale and
 * zero point; onnxruntime's channels-last NhwcMaxPool as a MaxPool between Transposes.
 */
function onQuantized(node: NodeProto, [scale, zero]: [string, string | undefined]): NodeProto[] {
  const out = node.output![0];
  const name = (hint: string) => `${out}/qdq/${hint}`;
  const params = [scale, ...(zero ? [zero] : [])];
  const nodes: NodeProto[] = [{ op_type: 'DequantizeLinear', input: [node.input![0], ...params], output: [name('x')], name: name('x') }];
  const transpose = (x: string, perm: number[], hint: string) => transposed(nodes, x, perm, name(hint));
  const nhwc = node.op_type === 'NhwcMaxPool';
  const rank = (node.attribute?.find((a) => a.name === 'kernel_shape')?.ints?.length ?? 0) + 2;
  const x = nhwc ? transpose(name('x'), toChannelsFirst(rank), 'nchw') : name('x');
  nodes.push({ ...node, op_type: nhwc ? 'MaxPool' : node.op_type, domain: nhwc ? '' : node.domain, input: [x, ...node.input!.slice(1)], output: [name('y')], name: name('y') });
  const y = nhwc ? transpose(name('y'), toChannelsLast(rank), 'nhwc') : name('y');
  nodes.push({ op_type: 'QuantizeLinear', input: [y, ...params], output: [out], name: node.name || out });
  return nodes;
}

/**
 * The rank of a QLinear op's output: its weight's for a Conv, else its first operand's, followed
 * through the quantized ops before it (which GraphView.rank does not know).
 */
function quantizedRank(view: GraphView, node: NodeProto, depth = 0): number | undefined {
  const form = FORMS[keyOf(node)];
  if (form?.float === 'Conv') return view.constantDims(node.input![3])?.length;
  const first = node.input![form ? form.operands[0]?.[0] ?? form.rest! : 0];
  const producer = view.producer.get(first);
  const quantized = producer && (keyOf(producer) in FORMS || /^(Quantize|Dequantize)Linear$/.test(producer.op_type ?? ''));
  return quantized && depth < 64 ? quantizedRank(view, producer, depth + 1) : view.rank(first);
}

/** Transpose perms from channels-last [N, …spatial, C] to channels-first [N, C, …spatial] and back. */
const toChannelsFirst = (rank: number) => [0, rank - 1, ...Array.from({ length: rank - 2 }, (_, k) => k + 1)];
const toChannelsLast = (rank: number) => [0, ...Array.from({ length: rank - 2 }, (_, k) => k + 2), 1];

/** Appends a Transpose of x to `nodes`; returns its output `out`. */
function transposed(nodes: NodeProto[], x: string, perm: number[], out: string): string {
  nodes.push({ op_type: 'Transpose', input: [x], output: [out], name: out, attribute: [{ name: 'perm', type: AttrType.INTS, ints: perm }] });
  return out;
}

/**
 * A QLinearConv's or QGemm's int32 bias B at `scales` (one, or one per output channel), read
 * through DequantizeLinear (appended to `dequantized`) as onnxruntime's QDQ format writes it.
 */
function quantizedBias(b: string, scales: number[], dequantized: NodeProto[], extra: TensorProto[], name: string): string {
  const perChannel = scales.length > 1;
  const scale = constant(extra, `${name}/scale`, perChannel ? [scales.length] : [], scales);
  dequantized.push({ op_type: 'DequantizeLinear', input: [b, scale], output: [name], name, attribute: perChannel ? [{ name: 'axis', type: AttrType.INT, i: 0 }] : [] });
  return name;
}

/** Whether a QLinear op has constant weights with a scale per channel. */
function perChannelWeights(view: GraphView, n: NodeProto): boolean {
  const form = FORMS[keyOf(n)];
  return !!form && form.operands.some(([v, s]) => view.initializers.has(n.input![v]) && (view.constant(n.input![s])?.values.length ?? 1) > 1);
}

function constant(extra: TensorProto[], name: string, dims: number[], values: number[]): string {
  extra.push(makeTensor(name, dims, Float32Array.from(values), DataType.FLOAT));
  return name;
}
