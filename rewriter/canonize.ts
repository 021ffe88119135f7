import { attrFloat, attrInt, attrInts, attrString } from './attributes';
import { ExplainError } from './errors';
import { GraphView, TensorFacts } from './graph-view';
import { withAttrs } from './opset-lift';
import { DataType, makeTensor, ModelProto, NodeProto, TensorProto } from './proto';

/** Ops that only move a tensor's axes around, add and drop axes of size 1 or pad with zeros, on the way from the input to its Conv. */
const LAYOUT = ['Transpose', 'Reshape', 'Squeeze', 'Unsqueeze', 'Pad', 'Identity'];

/**
 * DeepLIFT §2.6 weight normalisation for one-hot inputs: the first layer reading `input` (directly or
 * through layout ops: a channels-last [N, L, 4] permuted for the Conv, the paper's own [N, 1, 4, L]
 * unsqueezed, zeros padded) — a Conv, or a Gemm or MatMul of the flattened rows — gets W' = W − M
 * with M the mean of W over the one-hot axis, and M's share back as a constant: Σ over the one-hot
 * axis of x is 1 at every position of a one-hot input and 0 in padding. The model's outputs are
 * unchanged on one-hot inputs; a zero reference then means "no base preferred". Returns a copy;
 * the original model is untouched.
 */
export function normalizeOneHotWeights(view: GraphView, input: string, axis: number, rowDims: number[], probed?: Pick<TensorFacts, 'values' | 'shapes'>): ModelProto {
  const where = `${view.label}: --onehot-axis ${axis}`;
  const rank = rowDims.length + 1;
  if (axis < 1 - rank || axis === 0 || axis >= rank) throw new ExplainError(`${where}: input '${input}' [N, ${rowDims.join(', ')}] has no such axis after its batch axis`);
  // Per axis of the tensor followed, which positions hold the input's values (not a Pad's zeros).
  let at = axis < 0 ? axis + rank : axis;
  let valid = [1, ...rowDims].map((d) => new Array<boolean>(d).fill(true));
  if (valid[at].length < 2) throw new ExplainError(`${where}: axis ${at} of input '${input}' [N, ${rowDims.join(', ')}] has size ${valid[at].length}; a one-hot axis has a slot per value`);
  for (let tensor = input; ;) {
    // Shape readers (a batch size read for a view) see the same shape after the normalisation.
    const consumers = (view.consumers.get(tensor) ?? []).filter((c) => c.op_type !== 'Shape' || c.domain);
    const [n] = consumers;
    const found = () => new ExplainError(`${where}: input '${input}' must feed exactly one Conv, directly or through ${LAYOUT.slice(0, -1).join(', ')}, or a Gemm or MatMul through a Flatten (found ${consumers.map((c) => c.op_type).join(', ') || 'none'}${tensor === input ? '' : ` after '${tensor}'`})`);
    if (consumers.length !== 1 || n.domain) throw found();
    if (n.op_type === 'Conv' && n.input![0] === tensor) return convNormalized(view, where, n, valid, at);
    // Flattened rows into a dense layer (a Keras Sequential's Flatten → Dense on one-hot DNA).
    const flat = n.input![0] === tensor && flattensRows(view, probed, n, valid) ? n.output![0] : undefined;
    const dense = flat ? view.consumers.get(flat) : undefined;
    if (dense?.length === 1 && !dense[0].domain && ['Gemm', 'MatMul'].includes(dense[0].op_type!) && dense[0].input![0] === flat && !attrInt(dense[0], 'transA', 0)) return denseNormalized(view, where, dense[0], valid, at);
    const moved = LAYOUT.includes(n.op_type!) && n.input![0] === tensor ? relayout(view, probed, n, valid, at) : undefined;
    if (!moved) throw found();
    [valid, at, tensor] = [moved.valid, moved.at, n.output![0]];
  }
}

/**
 * The Conv's weights centred over the one-hot axis — its input channels, or a spatial axis the kernel
 * spans whole — and Conv(1, M) added: without padding a constant folded into the bias, with padding
 * (the Conv's or a Pad's) a constant map.
 */
function convNormalized(view: GraphView, where: string, conv: NodeProto, valid: boolean[][], at: number): ModelProto {
  const dims = valid.map((v) => v.length);
  const label = view.nodeLabel(conv);
  const w = view.constant(conv.input![1]) ?? (() => { throw new ExplainError(`${where}: the weights of ${label} must be constant`); })();
  const spatial = dims.length - 2;
  const samePad = attrString(conv, 'auto_pad', 'NOTSET').startsWith('SAME');
  const padded = samePad || (attrInts(conv, 'pads') ?? []).some((p) => p !== 0) || valid.some((v) => v.includes(false));
  if (at === 1) {
    if (attrInt(conv, 'group', 1) !== 1) throw new ExplainError(`${where}: ${label} is grouped; weight normalisation over its input channels needs group = 1`);
  } else {
    const pads = attrInts(conv, 'pads') ?? [];
    if (w.dims[at] !== dims[at] || samePad || pads[at - 2] || pads[at - 2 + spatial]) {
      throw new ExplainError(`${where}: the one-hot axis is spatial axis ${at} (size ${dims[at]}) of ${label}, whose kernel (size ${w.dims[at]}) must span it whole, unpadded${samePad ? ` (auto_pad ${attrString(conv, 'auto_pad', '')} pads it)` : ''}`);
    }
  }
  // The weight's axis `at` runs over the one-hot values: its input channels (1) or that kernel axis.
  const [mean, normalized] = centred(w.values, w.dims, at);
  const meanDims = w.dims.map((d, i) => (i === at ? 1 : d));
  const base = `${conv.name || conv.output![0]}/onehot_normalized`;
  const [wName, bName, mName, onesName, shiftName] = ['W', 'B', 'M', 'ones', 'shift'].map((s) => `${base}/${s}`);
  const bias = conv.input![2] ? view.constant(conv.input![2])?.values ?? [] : [];
  const f = w.dims[0];
  const initializer = [makeTensor(wName, w.dims, normalized, DataType.FLOAT)];
  let nodes: NodeProto[];
  if (!padded) {
    // Every output position sees every kernel tap: Conv(1, M) is Σ M[f, …] at each of them.
    const perFilter = mean.length / f;
    const shift = Array.from({ length: f }, (_, o) => mean.slice(o * perFilter, (o + 1) * perFilter).reduce((a, v) => a + v, 0) + (bias[o] ?? 0));
    initializer.push(makeTensor(bName, [f], shift, DataType.FLOAT));
    nodes = [{ ...conv, input: [conv.input![0], wName, bName] }];
  } else {
    const ones = filled(valid, at);
    initializer.push(
      ...(bias.length ? [makeTensor(bName, [f], bias, DataType.FLOAT)] : []),
      makeTensor(mName, meanDims, mean, DataType.FLOAT),
      makeTensor(onesName, ones.dims, ones.data, DataType.FLOAT),
    );
    const y = `${base}/y`;
    nodes = [
      { ...conv, input: [conv.input![0], wName, ...(bias.length ? [bName] : [])], output: [y] },
      { ...withAttrs(conv, ['kernel_shape'], {}), name: `${base}/shift_map`, input: [onesName, mName], output: [shiftName] },
      { op_type: 'Add', name: `${base}/add_shift`, input: [y, shiftName], output: [conv.output![0]] },
    ];
  }
  return replaced(view, conv, nodes, initializer);
}

/** Whether `n` (a Flatten at axis 1, or a Reshape to [N, P]) makes each row of its input (dims of `valid`) one vector. */
function flattensRows(view: GraphView, probed: Pick<TensorFacts, 'values' | 'shapes'> | undefined, n: NodeProto, valid: boolean[][]): boolean {
  if (n.domain) return false;
  if (n.op_type === 'Flatten') return attrInt(n, 'axis', 1) === 1;
  const shape = n.op_type === 'Reshape' ? probed?.shapes.get(n.output![0]) : undefined;
  return shape?.length === 2 && shape[1] === valid.slice(1).reduce((a, v) => a * v.length, 1);
}

/**
 * §2.6 for a dense first layer y = x·W (+ b) on the flattened one-hot rows: each group of weights
 * over the one-hot axis (the rows of W whose inputs differ only there) less its mean M, and Σ M over
 * the groups the input fills (not a Pad's zeros) added to the bias (Gemm: its C, scaled by α/β).
 */
function denseNormalized(view: GraphView, where: string, dense: NodeProto, valid: boolean[][], at: number): ModelProto {
  const label = view.nodeLabel(dense);
  const w = view.constant(dense.input![1]);
  if (!w || w.dims.length !== 2) throw new ExplainError(`${where}: ${label} needs constant two-dimensional weights`);
  const transB = dense.op_type === 'Gemm' && attrInt(dense, 'transB', 0) !== 0;
  const outputs = w.dims[transB ? 0 : 1];
  // W's input axis unfolded into the row's axes: [outputs, …row] (transB) or [...row, outputs].
  const row = valid.slice(1).map((v) => v.length);
  const [mean, normalized] = centred(w.values, transB ? [outputs, ...row] : [...row, outputs], transB ? at : at - 1);
  const groups = filled(valid, at).data;
  const shift = Array.from({ length: outputs }, (_, o) => groups.reduce((sum, g, k) => sum + g * mean[transB ? o * groups.length + k : k * outputs + o], 0));
  const base = `${dense.name || dense.output![0]}/onehot_normalized`;
  const initializer = [makeTensor(`${base}/W`, w.dims, normalized, DataType.FLOAT)];
  let nodes: NodeProto[];
  if (dense.op_type === 'Gemm') {
    const [alpha, beta] = [attrFloat(dense, 'alpha', 1), attrFloat(dense, 'beta', 1)];
    const c = dense.input![2] ? view.constant(dense.input![2]) : undefined;
    if ((dense.input![2] && (!c || (c.values.length !== 1 && c.values.length !== outputs))) || beta === 0) throw new ExplainError(`${where}: ${label} needs a constant bias of one value per output (and β ≠ 0)`);
    initializer.push(makeTensor(`${base}/C`, [outputs], shift.map((v, o) => (c ? c.values[c.values.length === 1 ? 0 : o] : 0) + (alpha * v) / beta), DataType.FLOAT));
    nodes = [{ ...dense, input: [dense.input![0], `${base}/W`, `${base}/C`] }];
  } else {
    initializer.push(makeTensor(`${base}/shift`, [outputs], shift, DataType.FLOAT));
    nodes = [
      { ...dense, input: [dense.input![0], `${base}/W`], output: [`${base}/y`] },
      { op_type: 'Add', name: `${base}/add_shift`, input: [`${base}/y`, `${base}/shift`], output: [dense.output![0]] },
    ];
  }
  return replaced(view, dense, nodes, initializer);
}

/**
 * Σ over the one-hot axis `at` of a one-hot input at batch 1: 1 where a position holds the input's
 * values, 0 in a Pad's zeros (`valid`, with the batch and one-hot axes of size 1), row-major.
 */
function filled(valid: boolean[][], at: number): { dims: number[]; data: number[] } {
  const axes = valid.map((v, i) => (i === 0 || i === at ? [true] : v));
  const dims = axes.map((v) => v.length);
  const data = Array.from({ length: dims.reduce((a, d) => a * d, 1) }, (_, flat) => {
    let inside = true;
    for (let i = axes.length - 1; i >= 0; i--) {
      inside &&= axes[i][flat % dims[i]];
      flat = Math.floor(flat / dims[i]);
    }
    return inside ? 1 : 0;
  });
  return { dims, data };
}

/** The model with `node` replaced by `nodes` and `initializer` added. */
function replaced(view: GraphView, node: NodeProto, nodes: NodeProto[], initializer: TensorProto[]): ModelProto {
  const graph = view.graph;
  return { ...view.model, graph: { ...graph, node: graph.node!.flatMap((n) => (n === node ? nodes : [n])), initializer: [...(graph.initializer ?? []), ...initializer] } };
}

/** The mean of `values` (dims `dims`) over `axis`, and the values less that mean. */
function centred(values: ArrayLike<number>, dims: number[], axis: number): [number[], Float32Array] {
  const inner = dims.slice(axis + 1).reduce((a, d) => a * d, 1);
  const size = dims[axis];
  const outer = values.length / (inner * size);
  const mean = new Array<number>(outer * inner).fill(0);
  const normalized = Float32Array.from(values);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      for (let k = 0; k < size; k++) mean[o * inner + j] += values[(o * size + k) * inner + j] / size;
      for (let k = 0; k < size; k++) normalized[(o * size + k) * inner + j] -= mean[o * inner + j];
    }
  }
  return [mean, normalized];
}

/**
 * Where a layout node takes the one-hot axis `at` of its input, and which positions of each axis
 * of its output hold the input's values (`valid`: one list per axis, its length the axis's size);
 * undefined where it does not keep the one-hot axis whole. Pads and shapes are constants, or what
 * the probe found (`probed`).
 */
function relayout(view: GraphView, probed: Pick<TensorFacts, 'values' | 'shapes'> | undefined, n: NodeProto, valid: boolean[][], at: number): { valid: boolean[][]; at: number } | undefined {
  const constantInput = (k: number) => (n.input?.[k] ? view.constant(n.input[k])?.values ?? probed?.values.get(n.input[k]) : undefined);
  const axesOf = () => (view.opset >= 13 && n.input?.[1] ? constantInput(1) : attrInts(n, 'axes'));
  const dims = valid.map((v) => v.length);
  switch (n.op_type) {
    case 'Identity': return { valid, at };
    case 'Transpose': {
      const perm = attrInts(n, 'perm') ?? dims.map((_, i) => dims.length - 1 - i);
      return { valid: perm.map((p) => valid[p]), at: perm.indexOf(at) };
    }
    case 'Unsqueeze': {
      const axes = axesOf();
      if (!axes) return undefined;
      const rank = dims.length + axes.length;
      const added = new Set(axes.map((a) => (a < 0 ? a + rank : a)));
      const out: boolean[][] = [];
      let from = 0;
      let moved = -1;
      for (let i = 0; i < rank; i++) {
        if (added.has(i)) out.push([true]);
        else {
          if (from === at) moved = i;
          out.push(valid[from++]);
        }
      }
      return { valid: out, at: moved };
    }
    case 'Squeeze': {
      const axes = (axesOf() ?? dims.flatMap((d, i) => (d === 1 ? [i] : []))).map((a) => (a < 0 ? a + dims.length : a));
      if (axes.includes(at)) return undefined;
      return { valid: valid.filter((_, i) => !axes.includes(i)), at: at - axes.filter((a) => a < at).length };
    }
    case 'Reshape': {
      // Only a reshape that adds or drops axes of size 1 keeps the one-hot axis as it is.
      // A shape computed from the input's (x.view(x.size(0), 1, 4, L)): the one the probe found, at batch 1 as `valid`.
      const shape = constantInput(1) ?? probed?.shapes.get(n.output![0]);
      if (!shape || attrInt(n, 'allowzero', 0)) return undefined;
      const total = dims.reduce((a, d) => a * d, 1);
      const known = shape.map((s, i) => (s === 0 ? dims[i] : s));
      const out = known.map((s) => (s === -1 ? total / known.reduce((a, d) => (d === -1 ? a : a * d), 1) : s));
      const kept = (d: number[]) => d.flatMap((v, i) => (v === 1 ? [] : [i]));
      const [before, after] = [kept(dims), kept(out)];
      const k = before.indexOf(at);
      if (before.length !== after.length || before.some((i, j) => dims[i] !== out[after[j]]) || k < 0) return undefined;
      return { valid: out.map((d, i) => (after.includes(i) ? valid[before[after.indexOf(i)]] : [true])), at: after[k] };
    }
    case 'Pad': {
      // Zeros around the positions (torch's F.pad before a Conv): the Conv's own padding, written apart.
      const mode = attrString(n, 'mode', 'constant');
      const pads = view.opset >= 11 ? constantInput(1) : attrInts(n, 'pads');
      const value = view.opset >= 11 ? (n.input?.[2] ? constantInput(2)?.[0] : 0) : attrFloat(n, 'value', 0);
      const axes = view.opset >= 18 && n.input?.[3] ? constantInput(3)?.map((a) => (a < 0 ? a + dims.length : a)) : dims.map((_, i) => i);
      if (mode !== 'constant' || value !== 0 || !pads || !axes || pads.length !== 2 * axes.length || pads.some((p) => p < 0)) return undefined;
      const before = new Array<number>(dims.length).fill(0);
      const after = new Array<number>(dims.length).fill(0);
      axes.forEach((a, k) => { [before[a], after[a]] = [pads[k], pads[k + axes.length]]; });
      if (before[0] || after[0] || before[at] || after[at]) return undefined;
      return { valid: valid.map((v, i) => [...new Array<boolean>(before[i]).fill(false), ...v, ...new Array<boolean>(after[i]).fill(false)]), at };
    }
    default: return undefined;
  }
}
