import { attrInt, attrInts, attrString, hasAttr } from './attributes';
import { ExplainError } from './errors';
import { GraphView, shapeConstant } from './graph-view';
import { AttrType, DataType, declaredDims, FLOAT8_TYPES, NodeProto, TensorProto, tensorDims, tensorValues } from './proto';
import { lookupTable } from './lookup-table';

/**
 * Declarations onnxruntime refuses when it loads or runs the model, named here first (its messages
 * name a C++ source line, or no tensor): names holding NUL, an output named `__proto__`, a graph
 * output that nothing computes, and an input whose initializer (its default value) has another
 * shape than the input declares.
 */
export function validateDeclarations(view: GraphView): void {
  const { graph, label } = view;
  // onnxruntime's C API takes names as C strings, cut at a NUL: feeds and fetches would name another tensor, or none.
  const names = [...(graph.input ?? []), ...(graph.output ?? [])].map((v) => v.name ?? '').concat(view.nodes.flatMap((n) => [...(n.input ?? []), ...(n.output ?? [])]), [...view.initializers.keys()]);
  const cut = names.find((n) => n.includes('\0'));
  if (cut !== undefined) throw new ExplainError(`${label}: tensor name ${JSON.stringify(cut)} holds a NUL character, where onnxruntime's API cuts names; rename it`);
  // onnxruntime's JavaScript API gathers results in a plain object, where that name sets the object's prototype instead.
  if ((graph.output ?? []).some((o) => o.name === '__proto__')) throw new ExplainError(`${label}: output '__proto__': onnxruntime's JavaScript API cannot return a tensor of that name (its results object takes it for its prototype); rename the output`);
  // Each tensor has one source: a node writing an input's or initializer's name, or another node's, is a second one.
  const written = new Set<string>([...view.initializers.keys(), ...(graph.input ?? []).map((i) => i.name ?? '')]);
  for (const n of view.nodes) {
    for (const o of n.output ?? []) {
      if (!o) continue;
      if (written.has(o)) throw new ExplainError(`${label}: ${view.nodeLabel(n)} writes '${o}', which ${view.initializers.has(o) ? 'an initializer holds' : (graph.input ?? []).some((i) => i.name === o) ? 'is a graph input' : 'another node writes'}: a tensor has one source`);
      written.add(o);
    }
  }
  const known = new Set([...view.producer.keys(), ...view.initializers.keys(), ...(graph.input ?? []).map((i) => i.name)]);
  const ghost = (graph.output ?? []).find((o) => !known.has(o.name));
  if (ghost) throw new ExplainError(`${label}: output '${ghost.name}' is computed by no node, nor is it an input or initializer`);
  for (const input of graph.input ?? []) {
    const t = view.initializers.get(input.name ?? '');
    if (!t || !input.type?.tensor_type?.shape) continue;
    const [declared, held] = [declaredDims(input), tensorDims(t)];
    if (declared.length !== held.length || declared.some((d, k) => d >= 0 && d !== held[k])) throw new ExplainError(`${label}: input '${input.name}' is declared [${declared.map((d) => (d < 0 ? '?' : d))}], but its initializer (the input's default value) holds [${held}]`);
  }
}

/**
 * Checks node attributes against the ONNX operator specs and the tensor shapes that follow from
 * the input's shape, before onnxruntime sees the model: onnxruntime aborts the process, allocates
 * without bound or prints multi-line native logs on absurd attributes (pads or dilations near
 * 2^63, group 0, unknown auto_pad, axes out of range). Shapes are propagated through the common
 * ops; after an op this file does not know, only the checks that need no shape apply.
 */
export function validateGraph(view: GraphView, input: string, dims: number[]): void {
  const shapes = new Map<string, number[]>([[input, dims]]);
  for (const [name, t] of view.initializers) shapes.set(name, tensorDims(t));
  // Constant nodes' values (scalars of an exported GELU, masks) have their shapes as initializers do.
  for (const n of view.nodes) if (n.op_type === 'Constant' && !n.domain && view.constant(n.output![0])) shapes.set(n.output![0], view.constant(n.output![0])!.dims);
  // The values of whole Shape outputs of known shapes (Reshape(y, Shape(x)), as torch writes GroupNorm).
  const sizes = new Map<string, number[]>();
  const valueOf = (name: string) => view.constant(name)?.values ?? sizes.get(name);
  for (const node of view.nodes) {
    const fail = failAt(view, node);
    const ins = (node.input ?? []).map((i) => (i ? shapes.get(i) : undefined));
    checkFloats(node, fail);
    const rule = RULES[node.op_type ?? ''];
    const outs = rule ? rule(node, ins, fail, view, valueOf) : [];
    if (node.op_type === 'Shape' && !node.domain && !node.attribute?.length && ins[0]) sizes.set(node.output![0], ins[0]);
    (node.output ?? []).forEach((o, k) => {
      const s = outs[k];
      if (!o || !s) return;
      if (s.some((d) => !Number.isSafeInteger(d) || d < 0)) fail(`gives output shape [${s}]`);
      if (s.reduce((a, d) => a * d, 1) > MAX_ELEMENTS) fail(`output '${o}' would have shape [${s}] (${s.reduce((a, d) => a * d, 1)} elements for one row)`);
      shapes.set(o, s);
    });
  }
}

const failAt = (view: GraphView, node: NodeProto) => (what: string): never => { throw new ExplainError(`${view.label}: ${view.nodeLabel(node)}: ${what}`); };

/**
 * Checks at the shapes a probe found. The pools again, where validateGraph's propagation stopped
 * before them (an op it does not know, as in quantized graphs): their windows against onnxruntime's
 * shape inference. A ConvTranspose that onnxruntime 1.30's shape inference answers with another
 * rank (some output_shape/dilations combinations): every graph built on its output fails that
 * inference, whether the walk passes the node or starts at it (a layer). A PRelu slope larger
 * than its input (onnxruntime broadcasts both ways, ONNX one way).
 */
export function validateProbed(view: GraphView, shapes: Map<string, number[]>): void {
  for (const node of view.nodes) {
    const x = shapes.get(node.input?.[0] ?? '');
    if (!x) continue;
    if (['MaxPool', 'AveragePool', 'LpPool'].includes(node.op_type ?? '')) RULES[node.op_type!](node, [x], failAt(view, node), view);
    if (node.op_type === 'PRelu') {
      // ONNX: the slope broadcasts to X one way; onnxruntime also broadcasts X to a larger slope, which then fixes a batch the input declares free.
      const slope = shapes.get(node.input![1]) ?? view.constantDims(node.input![1]);
      if (slope && (slope.length > x.length || slope.some((d, k) => d !== 1 && d !== x[x.length - slope.length + k]))) failAt(view, node)(`slope [${slope}] does not broadcast to the input [${x}] (ONNX PRelu broadcasts the slope to X only); a slope with one row per input row fixes the batch: export with a fixed batch or a per-channel slope`);
    }
    const y = shapes.get(node.output?.[0] ?? '');
    if (node.op_type === 'ConvTranspose' && y && y.length !== x.length) failAt(view, node)(`shape inference gives output shape [${y}] for input shape [${x}]: its output_shape, pads and dilations do not fit that input`);
  }
}

/** Bytes per element of the tensor types with a fixed width (TensorProto.DataType). */
const WIDTH: Record<number, number> = { 1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8, 14: 8, 15: 16, 16: 2, 17: 1, 18: 1, 19: 1, 20: 1, 21: 0.5, 22: 0.5, 23: 0.5 };

/** The last TensorProto.DataType ONNX defines (FLOAT4E2M1); 0 (UNDEFINED) declares none, which onnxruntime refuses. */
const LAST_ONNX_TYPE = 23;

/**
 * Initializers whose data fits their shape and type, float weights without NaN or ±Inf (every
 * result computed from them would be silently wrong), and declared tensor types that ONNX defines.
 */
export function validateWeights(view: GraphView): void {
  const { graph } = view;
  for (const vi of [...(graph.input ?? []), ...(graph.output ?? []), ...(graph.value_info ?? [])]) {
    if (!vi.type?.tensor_type) continue;
    const type = vi.type.tensor_type.elem_type ?? 0;
    if (!Number.isInteger(type) || type < 1 || type > LAST_ONNX_TYPE) throw new ExplainError(`${view.label}: tensor '${vi.name}' is declared with data type ${type}, which is not an ONNX tensor type`);
  }
  for (const t of view.initializers.values()) {
    const fail = (what: string): never => { throw new ExplainError(`${view.label}: initializer '${t.name}' ${what}`); };
    const dims = tensorDims(t);
    if (dims.some((d) => !Number.isSafeInteger(d) || d < 0)) fail(`has shape [${dims}]`);
    const count = dims.reduce((a, d) => a * d, 1);
    const width = WIDTH[t.data_type ?? 0];
    if (t.data_type === 8) continue; // STRING: no fixed width
    if (!width) fail(`has data type ${t.data_type}, which is not an ONNX tensor type`);
    // 4-bit types pack two values a byte (raw, or one byte per int32_data entry).
    const packed = width < 1;
    const stored = t.raw_data?.length ? t.raw_data.length / (packed ? 1 : width)
      : Math.max(t.float_data?.length ?? 0, t.int32_data?.length ?? 0, t.int64_data?.length ?? 0, t.double_data?.length ?? 0, t.uint64_data?.length ?? 0);
    if (stored !== (packed ? Math.ceil(count / 2) : count)) fail(`holds ${stored} ${packed ? 'bytes' : 'values'} for shape [${dims}]`);
    const k = firstNonFiniteWeight(t);
    if (k >= 0 && !(additiveMask(view, t.name!) && tensorValues(t).every((v) => v === 0 || v === -Infinity))) fail(`holds a non-finite value at flat index ${k}`);
  }
}

/** Ops that move or select a mask's values (data input first; Concat's every input). */
const CARRIES_MASK = new Set(['Slice', 'Reshape', 'Unsqueeze', 'Squeeze', 'Expand', 'Gather', 'Transpose', 'Cast', 'Concat', 'Identity', 'Tile', 'Flatten']);

/**
 * Whether a tensor is read as an additive mask: a registered causal mask of −Inf above the diagonal
 * (torch's `torch.triu(torch.full((T, T), -inf), 1)` buffer), sliced and reshaped, then added to
 * scores, chosen by Where or given to the Attention op as its attn_mask, or the −Inf a Pad fills with before a max pool. Holding only 0 and −Inf,
 * its −Inf are meant; any other weight must be finite.
 */
function additiveMask(view: GraphView, name: string): boolean {
  const readers = view.consumers.get(name) ?? [];
  return readers.length > 0 && readers.every((n) => {
    const at = n.input!.indexOf(name);
    // Shape and Size read no values.
    if (n.op_type === 'Add' || n.op_type === 'Shape' || n.op_type === 'Size') return true;
    if (n.op_type === 'Where') return at > 0;
    // The Attention op's float attn_mask (opset 23).
    if (n.op_type === 'Attention' && !n.domain) return at === 3;
    // A −Inf pad value before a max pool (timm's MaxPool2dSame).
    if (n.op_type === 'Pad') return at === 2;
    // torch's baddbmm(mask, q, kᵀ) scales the mask by beta first.
    const scale = n.op_type === 'Mul' ? view.constant(n.input![1 - at]) : undefined;
    if (scale) return scale.values.every((v) => v > 0) && additiveMask(view, n.output![0]);
    return CARRIES_MASK.has(n.op_type ?? '') && (at === 0 || n.op_type === 'Concat') && (n.output ?? []).every((o) => additiveMask(view, o));
  });
}

/**
 * IEEE-754 exponent bits in the two most significant bytes (little-endian) of a value; all ones
 * means Inf or NaN. Read from the stored bytes: no copy, no conversion to numbers.
 */
const EXPONENT: Record<number, { width: number; high: number; low: number }> = {
  [DataType.FLOAT16]: { width: 2, high: 0x7c, low: 0x00 },
  [DataType.FLOAT]: { width: 4, high: 0x7f, low: 0x80 },
  [DataType.DOUBLE]: { width: 8, high: 0x7f, low: 0xf0 },
};

function firstNonFiniteWeight(t: TensorProto): number {
  const raw = t.raw_data;
  const bits = EXPONENT[t.data_type ?? 0];
  if (!bits) return FLOAT8_TYPES.has(t.data_type ?? 0) ? tensorValues(t).findIndex((v) => !Number.isFinite(v)) : -1;
  if (raw?.length) {
    const { width, high, low } = bits;
    for (let i = width - 1; i < raw.length; i += width) if ((raw[i] & high) === high && (raw[i - 1] & low) === low) return (i + 1) / width - 1;
    return -1;
  }
  return tensorValues(t).findIndex((v) => !Number.isFinite(v));
}

/** Largest tensor (elements for one input row) and attribute value accepted. */
const MAX_ELEMENTS = 2 ** 31 - 1;
const MAX_INT = 2 ** 31 - 1;

type Shape = number[] | undefined;
type Fail = (what: string) => never;
type Rule = (node: NodeProto, ins: Shape[], fail: Fail, view: GraphView, valueOf?: (name: string) => number[] | undefined) => Shape[];

/**
 * Float attributes must be finite, except Clip's bounds (±∞ means unbounded) and a Constant's
 * value_float(s), which may be a mask's −∞ (as a masked_fill value; torch writes it as a tensor).
 */
function checkFloats(node: NodeProto, fail: Fail): void {
  for (const a of node.attribute ?? []) {
    if (node.op_type === 'Clip') continue;
    if (node.op_type === 'Constant' && [a.f, ...(a.floats ?? [])].every((f) => f === undefined || f === null || Number.isFinite(f) || f === -Infinity)) continue;
    if (a.type === AttrType.FLOAT && a.f !== undefined && a.f !== null && !Number.isFinite(a.f)) fail(`attribute ${a.name} is ${a.f}`);
    if (a.type === AttrType.FLOATS && (a.floats ?? []).some((f) => !Number.isFinite(f))) fail(`attribute ${a.name} has a non-finite value`);
  }
  for (const name of ['epsilon']) if (hasAttr(node, name) && (node.attribute!.find((a) => a.name === name)!.f ?? 0) < 0) fail(`attribute ${name} is negative`);
}

function ints(node: NodeProto, name: string, length: number, min: number, fail: Fail): number[] | undefined {
  const v = attrInts(node, name);
  if (!v) return undefined;
  if (v.length !== length) fail(`${name} [${v}] needs ${length} values`);
  if (v.some((x) => !Number.isSafeInteger(x) || x < min || x > MAX_INT)) fail(`${name} [${v}] must be integers in [${min}, ${MAX_INT}]`);
  return v;
}

function flag(node: NodeProto, name: string, fail: Fail): void {
  const v = attrInt(node, name, 0);
  if (v !== 0 && v !== 1) fail(`${name} is ${v}, must be 0 or 1`);
}

function axisIn(axis: number, rank: number, name: string, fail: Fail): number {
  if (!Number.isSafeInteger(axis) || axis < -rank || axis >= rank) fail(`${name} ${axis} is out of range for rank ${rank}`);
  return axis < 0 ? axis + rank : axis;
}

const AUTO_PAD = ['NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID'];

/** Conv, ConvTranspose and the pools: kernel, strides, dilations, pads, auto_pad, group; output shape. */
function windowed(kind: 'conv' | 'convT' | 'pool'): Rule {
  return (node, [x, w], fail, view) => {
    if (x && x.length < 3) fail(`input has shape [${x}], needs rank ≥ 3 (batch, channels, spatial)`);
    const kernelAttr = attrInts(node, 'kernel_shape');
    const spatial = x ? x.length - 2 : w ? w.length - 2 : kernelAttr?.length;
    if (spatial === undefined) return [];
    if (w && w.length < 3) fail(`weight has shape [${w}], needs rank ≥ 3 (out channels, in channels, spatial)`);
    if (spatial < 1) fail('kernel_shape names no spatial axis');
    if (w && w.length !== spatial + 2) fail(`weight has shape [${w}], expected rank ${spatial + 2}`);
    if (kind === 'pool' && !kernelAttr) fail('kernel_shape is required');
    let kernel = ints(node, 'kernel_shape', spatial, 1, fail);
    if (kernel && w && kernel.some((k, i) => k !== w[i + 2])) fail(`kernel_shape [${kernel}] differs from the weight's [${w.slice(2)}]`);
    kernel ??= w?.slice(2);
    const strides = ints(node, 'strides', spatial, 1, fail) ?? Array(spatial).fill(1);
    const dilations = ints(node, 'dilations', spatial, 1, fail) ?? Array(spatial).fill(1);
    const pads = ints(node, 'pads', 2 * spatial, 0, fail) ?? Array(2 * spatial).fill(0);
    const autoPad = stringAttr(node, 'auto_pad') ?? 'NOTSET';
    if (!AUTO_PAD.includes(autoPad)) fail(`auto_pad '${autoPad}' is not one of ${AUTO_PAD.join(', ')}`);
    // ONNX: pads are not used with auto_pad. Zeros beside SAME_* still count: onnxruntime's shape
    // inference reads the pads and its kernel the auto_pad, so the two disagree on the output size.
    const samePad = autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER';
    if ((samePad && attrInts(node, 'pads') !== undefined) || (autoPad !== 'NOTSET' && pads.some((p) => p !== 0))) fail(`pads [${pads}] and auto_pad ${autoPad} are both set`);
    for (const f of ['ceil_mode', 'count_include_pad', 'storage_order']) flag(node, f, fail);
    const group = attrInt(node, 'group', 1);
    if (kind !== 'pool') {
      if (!Number.isSafeInteger(group) || group < 1 || group > MAX_INT) fail(`group ${group} must be a positive integer`);
      if (w && w[0] % group !== 0) fail(`group ${group} does not divide the weight's ${w[0]} ${kind === 'conv' ? 'output' : 'input'} channels`);
      if (x && w && kind === 'conv' && x[1] !== w[1] * group) fail(`input has ${x[1]} channels, the weight expects ${w[1]} × group ${group}`);
      if (x && w && kind === 'convT' && x[1] !== w[0]) fail(`input has ${x[1]} channels, the weight expects ${w[0]}`);
    }
    const extent = kernel?.map((k, i) => (k - 1) * dilations[i] + 1);
    if (extent?.some((e) => e > MAX_INT)) fail(`dilated kernel [${extent}] is too large`);
    if (kind === 'pool' && kernel && pads.some((p, i) => p >= kernel[i % spatial])) fail(`pads [${pads}] must be smaller than kernel_shape [${kernel}]`);
    // Pads past the kernel's reach add outputs that see no input; beyond 64 times the input's area
    // they only cost time (a fuzzed pads = 1000 ran for minutes).
    if (kind === 'conv' && x && extent) {
      const growth = x.slice(2).reduce((g, d, i) => g * (d + pads[i] + pads[i + spatial]) / d, 1);
      if (growth > 64 && pads.some((p, i) => p >= extent[i % spatial])) fail(`pads [${pads}] reach past the dilated kernel [${extent}] and grow the input [${x}] ${Math.round(growth)}-fold`);
    }
    if (kind === 'convT') {
      const outPad = ints(node, 'output_padding', spatial, 0, fail) ?? Array(spatial).fill(0);
      // ONNX allows output_padding below the stride or the dilation; onnxruntime's kernel (1.30) checks
      // that a Conv of its output gives back the input, which holds only below the stride.
      if (outPad.some((p, i) => p >= strides[i])) fail(`output_padding [${outPad}] must be smaller than the strides [${strides}] (onnxruntime's kernel refuses it otherwise, whatever the dilations)`);
      if (hasAttr(node, 'output_shape')) return [];
      if (samePad && outPad.some((p) => p !== 0)) fail(`auto_pad ${autoPad} with output_padding [${outPad}] and weights of unknown shape: onnx's shape inference sizes the output otherwise than onnxruntime's kernel (checked on 1.30); give kernel_shape or explicit pads`);
      if (!x || !w || !kernel) return [];
      const size = x.slice(2).map((d, i) => strides[i] * (d - 1) + outPad[i] + extent![i] - pads[i] - pads[i + spatial]);
      // Taps dilated farther apart than the input's stretched extent leave outputs between them
      // that see no input; beyond 64 times the input's length on an axis they only cost time and
      // memory (a fuzzed dilation of 65536 made a 400,000-wide map).
      const sparse = size.findIndex((e, i) => dilations[i] > strides[i] * (x[i + 2] - 1) + 1 && e > 64 * x[i + 2]);
      if (sparse >= 0) fail(`dilations [${dilations}] spread the kernel [${extent}] past the input [${x}]: ${size[sparse]} outputs on axis ${sparse + 2} for ${x[sparse + 2]} inputs`);
      if (autoPad !== 'NOTSET') return [];
      return [[x[0], w[1] * group, ...size]];
    }
    // Where onnxruntime's pooling kernels and its shape inference disagree on the output size
    // (checked on 1.30), every shape after the node is wrong in the graphs built on it: refused.
    const disagree = (why: string) => fail(`${why}, so onnxruntime's shape inference disagrees with its kernel and graphs built on the node cannot run (checked on onnxruntime 1.30)`);
    if (kind === 'pool' && samePad && dilations.some((d) => d > 1)) disagree(`auto_pad ${autoPad} with dilations [${dilations}]: onnxruntime's kernel pads as if the kernel were not dilated and runs fewer windows than SAME's ceil(x / stride)`);
    if (!x || !kernel) return [];
    const ceil = attrInt(node, 'ceil_mode', 0) === 1;
    const size = x.slice(2).map((d, i) => {
      if (samePad) {
        const out = Math.ceil(d / strides[i]);
        // SAME's total padding (out − 1)·stride + kernel − d is negative where the kernel is
        // shorter than the stride's overhang: onnxruntime's MaxPool kernels (every opset) and
        // AveragePool's before opset 19 stop ("padding values must be non-negative"); AveragePool
        // 19–21 with ceil_mode counts one window more in its inference than its kernel runs.
        const negative = (out - 1) * strides[i] + extent![i] < d;
        const refused = node.op_type === 'MaxPool' || (node.op_type === 'AveragePool' && (view.opset < 19 || (view.opset < 22 && ceil)));
        if (negative && refused) disagree(`auto_pad ${autoPad} with kernel ${extent![i]} and stride ${strides[i]} on axis ${i + 2} of size ${d}: SAME's padding is negative`);
        return out;
      }
      const room = d + pads[i] + pads[i + spatial] - extent![i];
      if (room < 0) fail(`input spatial size ${d} (padded ${d + pads[i] + pads[i + spatial]}) is smaller than the ${autoPad === 'VALID' ? '' : 'dilated '}kernel ${extent![i]} on axis ${i + 2}`);
      if (!ceil) return Math.floor(room / strides[i]) + 1;
      // onnxruntime's kernel drops a last window that would start past the input and its begin
      // padding (PyTorch's rule); its shape inference does so from opset 22 on.
      const out = Math.ceil(room / strides[i]) + 1;
      const lastStart = (out - 1) * strides[i] - pads[i];
      if (lastStart < d) return out;
      if (view.opset < 22) disagree(`ceil_mode: the last window on axis ${i + 2} would start past the input and its padding; the kernel runs ${out - 1} windows there, the shape inference before opset 22 counts ${out} (export with opset 22)`);
      return out - 1;
    });
    // A Conv's output channels are its weight's (unknown where the weight's shape is).
    if (kind === 'conv' && !w) return [];
    return [[x[0], kind === 'conv' ? w![0] : x[1], ...size]];
  };
}

const same: Rule = (_node, [x]) => [x];

/** Same shape out; an `axis` attribute, where set, names an axis of the input. */
const sameWithAxis: Rule = (node, [x], fail) => {
  if (x && hasAttr(node, 'axis')) axisIn(attrInt(node, 'axis', 0), x.length, 'axis', fail);
  return [x];
};

function broadcast(shapes: Shape[], fail: Fail): Shape {
  if (shapes.some((s) => !s)) return undefined;
  const rank = Math.max(...shapes.map((s) => s!.length));
  const out = Array(rank).fill(1);
  for (const s of shapes) {
    s!.forEach((d, k) => {
      const j = rank - s!.length + k;
      if (d !== 1 && out[j] !== 1 && out[j] !== d) fail(`input shapes ${shapes.map((t) => `[${t}]`).join(', ')} do not broadcast`);
      if (d !== 1) out[j] = d;
    });
  }
  return out;
}

const elementwise: Rule = (node, ins, fail) => [broadcast(ins.filter((_, k) => node.input![k]), fail)];

/** Axes given as attribute (older opsets) or as constant input 1. */
function axesOf(node: NodeProto, view: GraphView): number[] | undefined {
  return attrInts(node, 'axes') ?? view.constant(node.input?.[1] ?? '')?.values;
}

/** The axes as given, normalised for their rank, name no axis twice (the wording of the rules' check). */
function unique(norm: number[], given: number[], rank: number, fail: Fail): void {
  if (new Set(norm).size !== norm.length) fail(`axes [${given}] name an axis twice (rank ${rank})`);
}

const upsampleModes = modes({ mode: ['nearest', 'linear', 'bilinear'] });

/** Input i of the node, where given and of known rank, is a 1-D tensor. */
function oneDimensional(node: NodeProto, i: number, shape: Shape | undefined, fail: Fail, view: GraphView): void {
  const name = node.input?.[i];
  const rank = name ? shape?.length ?? view.rank(name) : undefined;
  if (rank !== undefined && rank !== 1) fail(`input ${i} ('${name}') has rank ${rank}; it must be a 1-D tensor`);
}

const resizeModes = modes({ mode: ['nearest', 'linear', 'cubic'], coordinate_transformation_mode: ['half_pixel', 'half_pixel_symmetric', 'pytorch_half_pixel', 'align_corners', 'asymmetric', 'tf_half_pixel_for_nn', 'tf_half_pixel_for_nearest', 'tf_crop_and_resize'], nearest_mode: ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'] });
const padModes = modes({ mode: ['constant', 'reflect', 'edge', 'wrap'] });

const RULES: Record<string, Rule> = lookupTable({
  Conv: windowed('conv'),
  ConvTranspose: windowed('convT'),
  MaxPool: windowed('pool'),
  AveragePool: windowed('pool'),
  LpPool: windowed('pool'),
  // The shape is input 0's value (weights written as ConstantOfShape: onnx's light models).
  ConstantOfShape: (node, _ins, _fail, _view, valueOf) => [valueOf?.(node.input?.[0] ?? '')],
  GlobalAveragePool: (_n, [x]) => [x?.map((d, k) => (k < 2 ? d : 1))],
  GlobalMaxPool: (_n, [x]) => [x?.map((d, k) => (k < 2 ? d : 1))],
  ...Object.fromEntries(['Relu', 'Sigmoid', 'Tanh', 'LeakyRelu', 'Elu', 'Selu', 'Abs', 'Neg', 'Exp', 'Log', 'Sqrt', 'Reciprocal', 'Erf', 'HardSigmoid',
    'HardSwish', 'Softplus', 'Dropout', 'Identity', 'Cast', 'Clip', 'BatchNormalization', 'InstanceNormalization', 'Sign', 'Floor', 'Ceil',
    // Quantized graphs (QDQ) keep shapes through their quantize/dequantize pairs.
    'QuantizeLinear', 'DequantizeLinear', 'Gelu', 'Mish', 'Softsign', 'Celu', 'ThresholdedRelu', 'Shrink', 'Round'].map((op) => [op, same])),
  ...Object.fromEntries(['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min', 'Sum', 'Mean', 'Where', 'PRelu', 'Equal', 'Greater', 'Less'].map((op) => [op, elementwise])),
  Softmax: sameWithAxis,
  LogSoftmax: sameWithAxis,
  LayerNormalization: sameWithAxis,
  LRN: (node, [x], fail) => {
    const size = attrInt(node, 'size', 0);
    if (!Number.isSafeInteger(size) || size < 1 || size > MAX_INT) fail(`size ${size} must be a positive integer`);
    return [x];
  },
  Flatten: (node, [x], fail) => {
    if (!x) return [];
    const axis = attrInt(node, 'axis', 1);
    if (!Number.isSafeInteger(axis) || axis < -x.length || axis > x.length) fail(`axis ${axis} is out of range for rank ${x.length}`);
    const a = axis < 0 ? axis + x.length : axis;
    return [[x.slice(0, a).reduce((p, d) => p * d, 1), x.slice(a).reduce((p, d) => p * d, 1)]];
  },
  Gemm: (node, [a, b, c], fail) => {
    flag(node, 'transA', fail);
    flag(node, 'transB', fail);
    if (!a || !b) return [];
    if (a.length !== 2 || b.length !== 2) fail(`inputs have shapes [${a}] and [${b}], Gemm needs matrices`);
    const [m, ka] = attrInt(node, 'transA', 0) ? [a[1], a[0]] : a;
    const [kb, n] = attrInt(node, 'transB', 0) ? [b[1], b[0]] : b;
    if (ka !== kb) fail(`inner dimensions ${ka} and ${kb} differ (shapes [${a}], [${b}])`);
    if (c) broadcast([[m, n], c], fail);
    return [[m, n]];
  },
  MatMul: (_node, [a, b], fail) => {
    if (!a || !b || !a.length || !b.length) return [];
    const a2 = a.length === 1 ? [1, a[0]] : a;
    const b2 = b.length === 1 ? [b[0], 1] : b;
    if (a2[a2.length - 1] !== b2[b2.length - 2]) fail(`inner dimensions differ (shapes [${a}], [${b}])`);
    const batch = broadcast([a2.slice(0, -2), b2.slice(0, -2)], fail)!;
    return [[...batch, ...(a.length > 1 ? [a2[a2.length - 2]] : []), ...(b.length > 1 ? [b2[b2.length - 1]] : [])]];
  },
  Transpose: (node, [x], fail) => {
    const perm = attrInts(node, 'perm');
    if (!x) return [];
    const p = perm ?? x.map((_, k) => x.length - 1 - k);
    if (p.length !== x.length || [...p].sort((u, v) => u - v).some((v, k) => v !== k)) fail(`perm [${p}] is not a permutation of the ${x.length} axes`);
    return [p.map((k) => x[k])];
  },
  Concat: (node, ins, fail) => {
    if (ins.some((s) => !s) || !ins.length) return [];
    const rank = ins[0]!.length;
    const axis = axisIn(attrInt(node, 'axis', 0), rank, 'axis', fail);
    for (const s of ins) if (s!.length !== rank || s!.some((d, k) => k !== axis && d !== ins[0]![k])) fail(`input shapes ${ins.map((t) => `[${t}]`).join(', ')} differ off axis ${axis}`);
    return [ins[0]!.map((d, k) => (k === axis ? ins.reduce((a, s) => a + s![k], 0) : d))];
  },
  Reshape: (node, [x], fail, view, valueOf) => {
    const target = (valueOf ?? ((n: string) => view.constant(n)?.values))(node.input?.[1] ?? '');
    if (!x || !target) return [];
    const count = x.reduce((a, d) => a * d, 1);
    const out = target.map((d, k) => (d === 0 && !attrInt(node, 'allowzero', 0) ? x[k] : d));
    if (out.some((d) => d === undefined || d < -1) || out.filter((d) => d === -1).length > 1) fail(`shape [${target}] is not valid for input [${x}]`);
    const known = out.reduce((a, d) => (d === -1 ? a : a * d), 1);
    const k = out.indexOf(-1);
    if (k >= 0) {
      if (known === 0 || count % known !== 0) fail(`cannot reshape [${x}] to [${target}]`);
      out[k] = count / known;
    } else if (known !== count) fail(`cannot reshape [${x}] (${count} elements) to [${target}]`);
    return [out];
  },
  Squeeze: (node, [x], fail, view) => {
    const axes = axesOf(node, view);
    // Axes given as a computed input: which ones is not known here.
    if (!x || (!axes && node.input?.[1])) return [];
    if (!axes) return [x.filter((d) => d !== 1)];
    const norm = axes.map((a) => axisIn(a, x.length, 'axis', fail));
    unique(norm, axes, x.length, fail);
    return [x.filter((_, k) => !norm.includes(k))];
  },
  Unsqueeze: (node, [x], fail, view) => {
    const axes = axesOf(node, view);
    if (!x || !axes) return [];
    const rank = x.length + axes.length;
    const norm = axes.map((a) => axisIn(a, rank, 'axis', fail));
    unique(norm, axes, rank, fail);
    const rest = [...x];
    return [Array.from({ length: rank }, (_, k) => (norm.includes(k) ? 1 : rest.shift()!))];
  },
  Resize: (node, shapes, fail, view) => {
    const [x] = shapes;
    resizeModes(node, [x], fail, view);
    // roi, scales and sizes (scales alone at opset 10) are 1-D: onnxruntime 1.30 overruns its stack on others.
    (view.opset >= 11 ? [1, 2, 3] : [1]).forEach((i) => oneDimensional(node, i, shapes[i], fail, view));
    // Output size from constant sizes (input 3), else scales (input 2; input 1 at opset 10), over every axis.
    const constant = (i: number) => (node.input?.[i] ? view.constant(node.input[i])?.values : undefined);
    const sizes = constant(3);
    const scales = view.opset >= 11 ? constant(2) : constant(1);
    if (!x || attrInts(node, 'axes') || (!sizes?.length && !scales?.length)) return [];
    const out = sizes?.length ? sizes : x.map((d, k) => Math.floor(d * scales![k]));
    if (out.length !== x.length || out.some((d) => !Number.isSafeInteger(d) || d < 0)) fail(`output size [${out}] does not fit the input [${x}]`);
    return [out];
  },
  Upsample: (node, shapes, fail, view) => {
    oneDimensional(node, 1, shapes[1], fail, view);
    return upsampleModes(node, shapes, fail, view);
  },
  Pad: (node, [x], fail, view) => {
    padModes(node, [x], fail, view);
    // pads: an attribute before opset 11, then a constant input; axes (opset 18) an optional input.
    const pads = attrInts(node, 'pads') ?? shapeConstant(view, node.input?.[1] ?? '')?.values;
    const axesGiven = node.input?.[3] ? view.constant(node.input[3])?.values : undefined;
    if (!x || !pads || (node.input?.[3] && !axesGiven)) return [];
    const axes = (axesGiven ?? x.map((_, k) => k)).map((a) => axisIn(a, x.length, 'axis', fail));
    if (pads.length !== 2 * axes.length) fail(`pads [${pads}] need ${2 * axes.length} values (begin and end of ${axes.length} axes)`);
    if (pads.some((v) => !Number.isSafeInteger(v) || Math.abs(v) > MAX_INT)) fail(`pads [${pads}] must be integers of magnitude at most ${MAX_INT}`);
    const out = [...x];
    axes.forEach((a, i) => { out[a] = x[a] + pads[i] + pads[i + axes.length]; });
    if (out.some((d) => d < 0)) fail(`pads [${pads}] remove more than the input [${x}] holds`);
    return [out];
  },
  ReduceSum: reduce,
  ReduceMean: reduce,
  Gather: (node, [x, idx], fail) => {
    if (!x) return [];
    const axis = axisIn(attrInt(node, 'axis', 0), x.length, 'axis', fail);
    return idx ? [[...x.slice(0, axis), ...idx, ...x.slice(axis + 1)]] : [];
  },
  Split: (node, [x], fail) => {
    if (x) axisIn(attrInt(node, 'axis', 0), x.length, 'axis', fail);
    return [];
  },
});

/** String attributes limited to the values the op's spec lists. */
function modes(allowed: Record<string, string[]>): Rule {
  return (node, _ins, fail) => {
    for (const [name, values] of Object.entries(allowed)) {
      const v = stringAttr(node, name);
      if (v !== undefined && !values.includes(v)) fail(`${name} '${v}' is not one of ${values.join(', ')}`);
    }
    return [];
  };
}

/** A string attribute as set (an empty string included, as is one whose bytes are missing), or undefined when absent. */
function stringAttr(node: NodeProto, name: string): string | undefined {
  return hasAttr(node, name) ? attrString(node, name, '') : undefined;
}

function reduce(node: NodeProto, [x]: Shape[], fail: Fail, view: GraphView): Shape[] {
  flag(node, 'keepdims', fail);
  const axes = axesOf(node, view);
  if (!x || (!axes && node.input?.[1])) return [];
  const keep = attrInt(node, 'keepdims', 1) === 1;
  if (!axes?.length) return attrInt(node, 'noop_with_empty_axes', 0) ? [x] : [keep ? x.map(() => 1) : []];
  const norm = axes.map((a) => axisIn(a, x.length, 'axis', fail));
  unique(norm, axes, x.length, fail);
  return [keep ? x.map((d, k) => (norm.includes(k) ? 1 : d)) : x.filter((_, k) => !norm.includes(k))];
}
