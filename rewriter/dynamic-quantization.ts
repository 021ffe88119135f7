import { attrInt } from './attributes';
import { elementTypes } from './element-types';
import { Emitter } from './emitter';
import { ExplainError } from './errors';
import { GraphView, TensorFacts } from './graph-view';
import { QDQ_AXIS_OPSET, upgradeOpset } from './opset-upgrade';
import { AttrType, DataType, makeTensor, ModelProto, NodeProto, TensorProto, tensorArray } from './proto';
import { lookupTable } from './lookup-table';

/** The float op each integer op computes between its dequantized operands. */
const FLOAT_OP: Record<string, string> = lookupTable({ MatMulInteger: 'MatMul', ConvInteger: 'Conv' });

/**
 * onnxruntime's dynamic quantisation (`quantize_dynamic`, transformers.js' `model_quantized.onnx`)
 * in QDQ form. Its MatMul is DynamicQuantizeLinear of the activation, MatMulInteger (or
 * ConvInteger) with integer weights, Cast to float and Mul by the product of the two scales — that
 * is, by definition, the float op between DequantizeLinear of the activation (with the scale and
 * zero point DynamicQuantizeLinear computed) and the dequantized weights, which become a float
 * initializer. Its Gather reads an integer table followed by DequantizeLinear: a Gather of the
 * dequantized table, so token embeddings are found as in float models. The float op accumulates
 * in float32 where the kernel accumulates integers: outputs agree up to float rounding. A chain
 * that does not have this form is left as it is (and a method then names its op as unsupported).
 * The quantized forms of onnxruntime's fused ops (QAttention, QEmbedLayerNormalization, from
 * quantizing an optimised model) become the float fused op on dequantized operands, which
 * ort-fusions.ts then reads.
 */
export function integerOpsToQdq(model: ModelProto, label: string): ModelProto {
  const nodes = model.graph?.node ?? [];
  // A quantized Gather table is read through DequantizeLinear: models without one, or an integer or
  // quantized fused op, are left without building a view.
  if (!nodes.some((n) => (!n.domain && (Object.hasOwn(FLOAT_OP, n.op_type!) || n.op_type === 'DequantizeLinear')) || (n.domain === 'com.microsoft' && Object.hasOwn(MS_FORMS, n.op_type!)))) return model;
  // Per-row statistics (quantizePerRow) need QuantizeLinear's axis: a model that quantizes at run time is rebound to that opset.
  const dynamic = nodes.some((n) => (!n.domain && n.op_type === 'DynamicQuantizeLinear') || (n.domain === 'com.microsoft' && n.op_type === 'DynamicQuantizeMatMul'));
  const view = new GraphView(dynamic ? upgradeOpset(model, QDQ_AXIS_OPSET, label) : model, label);
  model = view.model;
  const extra: TensorProto[] = [];
  const replaced = new Map<NodeProto, NodeProto[]>();
  const dequantized = new Map<string, string>();
  let types: Map<string, number> | undefined;
  const shared: Dequantized = {
    table(name, values, dims) {
      if (!dequantized.has(name)) {
        extra.push(makeTensor(`${name}/dequantized`, dims, values, DataType.FLOAT));
        dequantized.set(name, `${name}/dequantized`);
      }
      return dequantized.get(name)!;
    },
    // Readers of one quantized activation share its DequantizeLinear (emitted with the first).
    activation(q, s, z) {
      const dq = `${q}/dequantized`;
      if (dequantized.has(q)) return { name: dq, nodes: [] };
      dequantized.set(q, dq);
      // An int8 activation gets its zero point 0 written out: from a DequantizeLinear without one,
      // onnxruntime's optimiser requantizes to uint8 (clamping negative values) when it moves the pair.
      if (!z && (types ??= elementTypes(view.graph)).get(q) === DataType.INT8) extra.push(makeTensor(z = `${q}/zero_point`, [], [0], DataType.INT8));
      return { name: dq, nodes: [{ op_type: 'DequantizeLinear', input: [q, s, z], output: [dq], name: dq }] };
    },
  };
  for (const n of view.nodes) {
    if (replaced.has(n)) continue;
    const ms = n.domain === 'com.microsoft' ? MS_FORMS[n.op_type!] : undefined;
    const fail = (what: string): never => { throw new ExplainError(`${view.label}: ${view.nodeLabel(n)}: ${what}`); };
    const form = ms ? [[n, ms(view, n, shared, fail)] as [NodeProto, NodeProto[]]]
      : n.domain ? undefined
        : n.op_type === 'Gather' ? gatherForm(view, n, shared) : Object.hasOwn(FLOAT_OP, n.op_type!) ? integerForm(view, n, shared) : undefined;
    if (form) for (const [old, now] of form) replaced.set(old, now);
  }
  if (!replaced.size) return model;
  const node = (model.graph!.node ?? []).flatMap((n) => replaced.get(n) ?? [n]);
  return { ...model, graph: { ...model.graph, node, initializer: [...(model.graph!.initializer ?? []), ...extra] } };
}

/** Dequantized forms, each made once: float initializers of integer tables, DequantizeLinear of activations. */
interface Dequantized {
  table(name: string, values: Float32Array, dims: number[]): string;
  activation(q: string, s: string, z: string): { name: string; nodes: NodeProto[] };
}

/** The sole consumer of a tensor, if it has the given op type. */
function soleConsumer(view: GraphView, tensor: string, opType: string): NodeProto | undefined {
  const users = view.consumers.get(tensor) ?? [];
  const isOutput = (view.graph.output ?? []).some((o) => o.name === tensor);
  return users.length === 1 && !isOutput && users[0].op_type === opType && !users[0].domain ? users[0] : undefined;
}

/** (q − zp)·s of an integer initializer of `dims`; zero point and scale per tensor or along `axis`. */
function dequantize(q: TensorProto, dims: number[], scale: number[], zero: number[], axis: number): Float32Array {
  const codes = tensorArray(q);
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const out = new Float32Array(codes.length);
  for (let i = 0; i < out.length; i++) {
    const c = Math.floor(i / inner) % dims[axis];
    out[i] = (codes[i] - zero[zero.length === 1 ? 0 : c]) * scale[scale.length === 1 ? 0 : c];
  }
  return out;
}

/**
 * MatMulInteger / ConvInteger → Cast(float) → Mul(·, s_a·s_b), each operand either a
 * DynamicQuantizeLinear output (with its zero point) or a constant whose scale is the other factor.
 */
function integerForm(view: GraphView, n: NodeProto, shared: Dequantized): [NodeProto, NodeProto[]][] | undefined {
  const cast = soleConsumer(view, n.output![0], 'Cast');
  const mul = cast && attrInt(cast, 'to', 0) === DataType.FLOAT ? soleConsumer(view, cast.output![0], 'Mul') : undefined;
  if (!cast || !mul) return undefined;
  const scales = mul.input!.find((t) => t !== cast.output![0])!;
  const scaleMul = view.producer.get(scales);
  const factors = scaleMul?.op_type === 'Mul' && !scaleMul.domain ? [...scaleMul.input!] : [scales];
  const operands: string[] = [];
  for (const k of [0, 1]) {
    const [q, zp] = [n.input![k], n.input![k + 2] ?? ''];
    const quantizer = view.producer.get(q);
    if (quantizer?.op_type === 'DynamicQuantizeLinear' && !quantizer.domain && quantizer.output![0] === q) {
      const [, s, z] = quantizer.output!;
      if (zp !== z || !factors.includes(s)) return undefined;
      factors.splice(factors.indexOf(s), 1);
      operands.push(q);
      continue;
    }
    const weights = view.initializers.has(q) ? view.constant(q) : undefined;
    const scale = factors.map((f) => view.constant(f)).find((c) => c);
    const zero = zp ? view.constant(zp) : { dims: [], values: [0] };
    if (!weights || !scale || !zero) return undefined;
    // Per-tensor, or per output channel: B's columns (MatMul), the weight's axis 0 (Conv, per-tensor scale only).
    const axis = n.op_type === 'MatMulInteger' && k === 1 ? weights.dims.length - 1 : 0;
    const channels = weights.dims[axis];
    const fits = (c: { values: number[] }, allowed: boolean) => c.values.length === 1 || (allowed && c.values.length === channels);
    if (!fits(scale, n.op_type === 'MatMulInteger' && k === 1) || !fits(zero, k === 1)) return undefined;
    factors.splice(factors.findIndex((f) => view.constant(f)), 1);
    operands.push(shared.table(q, dequantize(view.initializers.get(q)!, weights.dims, scale.values, zero.values, axis), weights.dims));
  }
  if (factors.length) return undefined;
  // Matched: the activations' DequantizeLinear nodes (operands still naming a quantizer output).
  const added: NodeProto[] = [];
  let activations = 0;
  operands.forEach((t, k) => {
    const quantizer = view.producer.get(t);
    if (quantizer?.op_type !== 'DynamicQuantizeLinear') return;
    operands[k] = dequantizedActivation(shared, t, quantizer.output![1], quantizer.output![2], added);
    activations++;
  });
  const out = { input: operands, output: [mul.output![0]], name: n.name || mul.output![0] };
  // Two quantized activations multiply through Einsum: onnxruntime would fuse DequantizeLinear of
  // both operands and a MatMul into MatMulIntegerToFloat, whose kernel takes one zero point per
  // tensor, not the per-row ones quantizePerRow gives them.
  const float: NodeProto = activations === 2
    ? { op_type: 'Einsum', ...out, attribute: [{ name: 'equation', type: AttrType.STRING, s: new TextEncoder().encode('...ij,...jk->...ik') }] }
    : { ...n, op_type: FLOAT_OP[n.op_type!], ...out };
  // The scale product's Mul goes too when nothing else reads it.
  const scaleOnly = scaleMul && (view.consumers.get(scales) ?? []).length === 1 ? [[scaleMul, []] as [NodeProto, NodeProto[]]] : [];
  return [[n, [...added, float]], [cast, []], [mul, []], ...scaleOnly];
}

/** Gather of a constant integer table whose readers are all the same per-tensor DequantizeLinear. */
function gatherForm(view: GraphView, n: NodeProto, shared: Dequantized): [NodeProto, NodeProto[]][] | undefined {
  const [table, indices] = n.input!;
  const weights = view.initializers.has(table) ? view.constant(table) : undefined;
  const readers = view.consumers.get(n.output![0]) ?? [];
  if (!weights || !readers.length || !readers.every((r) => r.op_type === 'DequantizeLinear' && !r.domain)) return undefined;
  const [s, z] = [readers[0].input![1], readers[0].input![2] ?? ''];
  const scale = view.constant(s);
  const zero = z ? view.constant(z) : { dims: [], values: [0] };
  if (!scale || !zero || scale.values.length !== 1 || zero.values.length !== 1) return undefined;
  if (readers.some((r) => r.input![1] !== s || (r.input![2] ?? '') !== z)) return undefined;
  const floats = shared.table(table, dequantize(view.initializers.get(table)!, weights.dims, scale.values, zero.values, 0), weights.dims);
  const [first, ...rest] = readers.map((r) => r.output![0]);
  const gather: NodeProto = { ...n, input: [floats, indices], output: [first] };
  return [[n, [gather]], ...readers.map((r, k): [NodeProto, NodeProto[]] => [r, k === 0 ? [] : [{ op_type: 'Identity', input: [first], output: [rest[k - 1]], name: rest[k - 1] }]])];
}

/** Whether a node is a DynamicQuantizeLinear that quantizePerRow rewrites: its outputs only feed one DequantizeLinear form. */
export function readPerRow(view: GraphView, n: NodeProto): boolean {
  if (n.op_type !== 'DynamicQuantizeLinear' || n.domain) return false;
  const outs = n.output ?? [];
  const outputs = new Set((view.graph.output ?? []).map((o) => o.name));
  const readers = outs.flatMap((t) => view.consumers.get(t) ?? []);
  return !outs.some((t) => outputs.has(t)) && readers.every((r) => r.op_type === 'DequantizeLinear' && !r.domain && r.input!.join() === outs.join());
}

/**
 * DynamicQuantizeLinear with statistics per row: onnxruntime computes one scale and zero point
 * over the whole tensor, batch included, so a row's output would depend on the other rows of its
 * batch (integrated-gradients steps, baselines, other inputs). Each row is quantized as when it is
 * run alone: x_min = min(0, min of the row), x_max = max(0, max of the row), scale
 * (x_max − x_min)/255 (1 where the row is all zeros, as onnxruntime), zero point
 * round(clip(−x_min/scale, 0, 255)), then QuantizeLinear / DequantizeLinear along the batch axis.
 * A tensor without a batch axis (a model that fixes its batch) is quantized as one, as onnxruntime
 * does, in the same explicit form. Only quantizers read by DequantizeLinear alone (the form
 * integerOpsToQdq leaves) change; the scale and zero point feed nothing that is differentiated.
 * Undefined when nothing changes.
 */
export function quantizePerRow(view: GraphView, facts: TensorFacts): ModelProto | undefined {
  const em = new Emitter(view.opset, DataType.FLOAT, 'per-row');
  const replaced = new Map<NodeProto, NodeProto[]>();
  for (const n of view.nodes) {
    const [x] = n.input ?? [];
    const axis = facts.batchAxis.get(x) ?? -1;
    const shape = facts.shapes.get(x);
    if (!readPerRow(view, n) || !shape) continue;
    const [y, s, z] = n.output!;
    const readers = [y, s, z].flatMap((t) => view.consumers.get(t) ?? []);
    const start = em.nodes.length;
    const rest = shape.map((_, k) => k).filter((k) => k !== axis);
    const zero = em.scalar(0);
    // A row of one value ([N] input) is its own extreme (a reduction over no axes would take them all).
    const extreme = (op: 'ReduceMax' | 'ReduceMin') => (rest.length ? em.reduce(op, x, rest, false) : x);
    const high = em.op('Relu', [extreme('ReduceMax')]);
    const low = em.neg(em.op('Relu', [em.neg(extreme('ReduceMin'))]));
    const range = em.sub(high, low);
    const scale = em.where(em.compare('Equal', range, zero), em.scalar(1), em.div(range, em.scalar(255)));
    const zp = em.op('Cast', [em.op('Round', [em.op('Clip', [em.sub(zero, em.div(low, scale)), zero, em.scalar(255)])])], { to: DataType.UINT8 });
    const alongBatch = axis < 0 ? [] : [{ name: 'axis', type: AttrType.INT, i: axis }];
    em.nodes.push({ op_type: 'QuantizeLinear', input: [x, scale, zp], output: [y], name: n.name || y, attribute: alongBatch });
    replaced.set(n, em.nodes.slice(start));
    for (const r of readers) replaced.set(r, [{ ...r, input: [y, scale, zp], attribute: alongBatch }]);
  }
  if (!replaced.size) return undefined;
  const { model, graph } = view;
  const node = (graph.node ?? []).flatMap((n) => replaced.get(n) ?? [n]);
  return { ...model, graph: { ...graph, node, initializer: [...(graph.initializer ?? []), ...em.initializers] } };
}


/** The float MatMul of a dequantized activation and weight, then the bias Add where there is one. */
export function floatMatMul(n: NodeProto, input: string, weights: string, bias?: string): NodeProto[] {
  const [out, name] = [n.output![0], n.name || n.output![0]];
  if (!bias) return [{ op_type: 'MatMul', input: [input, weights], output: [out], name }];
  return [
    { op_type: 'MatMul', input: [input, weights], output: [`${out}/matmul`], name },
    { op_type: 'Add', input: [`${out}/matmul`, bias], output: [out], name: `${name}/bias` },
  ];
}

/** A constant integer tensor dequantized, its scale and zero point per tensor or along its last axis. */
function dequantizedConstant(view: GraphView, shared: Dequantized, q: string, s: string, z: string, fail: (what: string) => never): string {
  const t = view.initializers.get(q) ?? fail(`'${q}' must be a constant initializer`);
  const dims = view.constant(q)!.dims;
  const scale = view.constant(s)?.values ?? fail(`the scale '${s}' must be a constant`);
  const zero = z ? view.constant(z)?.values ?? fail(`the zero point '${z}' must be a constant`) : [0];
  return shared.table(q, dequantize(t, dims, scale, zero, Math.max(dims.length - 1, 0)), dims);
}

/** DequantizeLinear of a quantized activation (shared per activation). */
function dequantizedActivation(shared: Dequantized, q: string, s: string, z: string, added: NodeProto[]): string {
  const dq = shared.activation(q, s, z);
  added.push(...dq.nodes);
  return dq.name;
}

type MsForm = (view: GraphView, n: NodeProto, shared: Dequantized, fail: (what: string) => never) => NodeProto[];

const MS_FORMS: Record<string, MsForm> = lookupTable({
  // A, B, b_scale, b_zero_point, bias: A quantized at run time as by DynamicQuantizeLinear, then the integer product.
  DynamicQuantizeMatMul(view, n, shared, fail) {
    const [a, b, bs, bz, bias] = n.input ?? [];
    const q = `${n.output![0]}/quantized`;
    const added: NodeProto[] = [{ op_type: 'DynamicQuantizeLinear', input: [a], output: [q, `${q}/scale`, `${q}/zero_point`], name: q }];
    const input = dequantizedActivation(shared, q, `${q}/scale`, `${q}/zero_point`, added);
    return [...added, ...floatMatMul(n, input, dequantizedConstant(view, shared, b, bs, bz ?? '', fail), bias)];
  },
  // A, B, a_scale, b_scale, a_zero_point, b_zero_point, bias: onnxruntime's fusion of MatMulInteger, Cast and Mul.
  MatMulIntegerToFloat(view, n, shared, fail) {
    const [a, b, as, bs, az, bz, bias] = n.input ?? [];
    const added: NodeProto[] = [];
    const input = dequantizedActivation(shared, a, as, az ?? '', added);
    return [...added, ...floatMatMul(n, input, dequantizedConstant(view, shared, b, bs, bz ?? '', fail), bias)];
  },
  // input, weight, bias, input_scale, weight_scale, mask_index, input_zero_point, weight_zero_point, past.
  QAttention(view, n, shared, fail) {
    const [x, w, bias, xs, ws, mask, xz, wz, past] = n.input ?? [];
    const added: NodeProto[] = [];
    const input = dequantizedActivation(shared, x, xs, xz ?? '', added);
    const weights = dequantizedConstant(view, shared, w, ws, wz ?? '', fail);
    return [...added, { ...n, op_type: 'Attention', input: [input, weights, bias, mask ?? '', past ?? ''] }];
  },
  // ids, segments, word, position, segment tables, gamma, beta (quantized), mask, then their scales and zero points.
  QEmbedLayerNormalization(view, n, shared, fail) {
    const ins = n.input ?? [];
    const [ids, segments, , , , , , mask] = ins;
    const floats = [2, 3, 4, 5, 6].map((k, i) => (ins[k] ? dequantizedConstant(view, shared, ins[k], ins[8 + i], ins[13 + i] ?? '', fail) : ''));
    return [{ ...n, op_type: 'EmbedLayerNormalization', input: [ids, segments ?? '', ...floats, mask ?? ''] }];
  },
});
