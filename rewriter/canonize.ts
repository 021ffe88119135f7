import { attrInt, attrInts, attrString } from './attributes';
import { ExplainError } from './errors';
import { GraphView } from './graph-view';
import { withAttrs } from './opset-lift';
import { DataType, makeTensor, ModelProto, NodeProto } from './proto';

/** Ops that only move a tensor's axes around (or add and drop axes of size 1) on the way from the input to its Conv. */
const LAYOUT = ['Transpose', 'Reshape', 'Squeeze', 'Unsqueeze', 'Identity'];

/**
 * DeepLIFT §2.6 weight normalisation for one-hot inputs: the Conv reading `input` (directly or
 * through layout ops: a channels-last [N, L, 4] permuted for the Conv, the paper's own [N, 1, 4, L]
 * unsqueezed) gets W' = W − M with M the mean of W over the one-hot axis — the input channels, or
 * a spatial axis the kernel spans whole — and outputs Conv(x, W') + Conv(1, M), where 1 stands for
 * Σ over the one-hot axis of x, which is 1 at every position of a one-hot input and 0 in the
 * padding: without padding Conv(1, M) is a constant folded into the bias, with padding a constant
 * map. The model's outputs are unchanged on one-hot inputs; a zero reference then means "no base
 * preferred". Returns a copy; the original model is untouched.
 */
export function normalizeOneHotWeights(view: GraphView, input: string, axis: number, rowDims: number[]): ModelProto {
  const where = `${view.label}: --onehot-axis ${axis}`;
  let dims = [1, ...rowDims];
  if (axis < 1 - dims.length || axis === 0 || axis >= dims.length) throw new ExplainError(`${where}: input '${input}' [N, ${rowDims.join(', ')}] has no such axis after its batch axis`);
  let at = axis < 0 ? axis + dims.length : axis;
  let tensor = input;
  let conv: NodeProto;
  for (;;) {
    const consumers = view.consumers.get(tensor) ?? [];
    const [n] = consumers;
    const found = () => new ExplainError(`${where}: input '${input}' must feed exactly one Conv, directly or through ${LAYOUT.slice(0, -1).join(', ')} (found ${consumers.map((c) => c.op_type).join(', ') || 'none'}${tensor === input ? '' : ` after '${tensor}'`})`);
    if (consumers.length !== 1 || n.domain) throw found();
    if (n.op_type === 'Conv' && n.input![0] === tensor) {
      conv = n;
      break;
    }
    const moved = LAYOUT.includes(n.op_type!) && n.input![0] === tensor ? relayout(view, n, dims, at) : undefined;
    if (!moved) throw found();
    [dims, at, tensor] = [moved.dims, moved.at, n.output![0]];
  }
  const label = view.nodeLabel(conv);
  const w = view.constant(conv.input![1]) ?? (() => { throw new ExplainError(`${where}: the weights of ${label} must be constant`); })();
  const spatial = dims.length - 2;
  const padded = attrString(conv, 'auto_pad', 'NOTSET').startsWith('SAME') || (attrInts(conv, 'pads') ?? []).some((p) => p !== 0);
  if (at === 1) {
    if (attrInt(conv, 'group', 1) !== 1) throw new ExplainError(`${where}: ${label} is grouped; weight normalisation over its input channels needs group = 1`);
  } else {
    const pads = attrInts(conv, 'pads') ?? [];
    if (w.dims[at] !== dims[at] || pads[at - 2] || pads[at - 2 + spatial]) {
      throw new ExplainError(`${where}: the one-hot axis is spatial axis ${at} (size ${dims[at]}) of ${label}, whose kernel (size ${w.dims[at]}) must span it whole, unpadded`);
    }
  }
  // The weight's axis `at` runs over the one-hot values: its input channels (1) or that kernel axis.
  const [mean, normalized] = centred(w.values, w.dims, at);
  const meanDims = w.dims.map((d, i) => (i === at ? 1 : d));
  const base = `${conv.name || conv.output![0]}/onehot_normalized`;
  const [wName, bName, mName, onesName, shiftName] = ['W', 'B', 'M', 'ones', 'shift'].map((s) => `${base}/${s}`);
  const bias = conv.input![2] ? view.constant(conv.input![2])?.values ?? [] : [];
  const f = w.dims[0];
  const graph = view.graph;
  const initializer = [...(graph.initializer ?? []), makeTensor(wName, w.dims, normalized, DataType.FLOAT)];
  let nodes: NodeProto[];
  if (!padded) {
    // Every output position sees every kernel tap: Conv(1, M) is Σ M[f, …] at each of them.
    const perFilter = mean.length / f;
    const shift = Array.from({ length: f }, (_, o) => mean.slice(o * perFilter, (o + 1) * perFilter).reduce((a, v) => a + v, 0) + (bias[o] ?? 0));
    initializer.push(makeTensor(bName, [f], shift, DataType.FLOAT));
    nodes = [{ ...conv, input: [tensor, wName, bName] }];
  } else {
    const onesDims = dims.map((d, i) => (i === 0 || i === at ? 1 : d));
    initializer.push(
      ...(bias.length ? [makeTensor(bName, [f], bias, DataType.FLOAT)] : []),
      makeTensor(mName, meanDims, mean, DataType.FLOAT),
      makeTensor(onesName, onesDims, new Array(onesDims.reduce((a, d) => a * d, 1)).fill(1), DataType.FLOAT),
    );
    const y = `${base}/y`;
    nodes = [
      { ...conv, input: [tensor, wName, ...(bias.length ? [bName] : [])], output: [y] },
      { ...withAttrs(conv, ['kernel_shape'], {}), name: `${base}/shift_map`, input: [onesName, mName], output: [shiftName] },
      { op_type: 'Add', name: `${base}/add_shift`, input: [y, shiftName], output: [conv.output![0]] },
    ];
  }
  return { ...view.model, graph: { ...graph, node: graph.node!.flatMap((n) => (n === conv ? nodes : [n])), initializer } };
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

/** Where a layout node takes the one-hot axis `at` of its input (dims `dims`), or undefined when it does not keep it whole. */
function relayout(view: GraphView, n: NodeProto, dims: number[], at: number): { dims: number[]; at: number } | undefined {
  const axesOf = () => (view.opset >= 13 && n.input?.[1] ? view.constant(n.input[1])?.values : attrInts(n, 'axes'));
  switch (n.op_type) {
    case 'Identity': return { dims, at };
    case 'Transpose': {
      const perm = attrInts(n, 'perm') ?? dims.map((_, i) => dims.length - 1 - i);
      return { dims: perm.map((p) => dims[p]), at: perm.indexOf(at) };
    }
    case 'Unsqueeze': {
      const axes = axesOf();
      if (!axes) return undefined;
      const rank = dims.length + axes.length;
      const added = new Set(axes.map((a) => (a < 0 ? a + rank : a)));
      const out: number[] = [];
      let from = 0;
      let moved = -1;
      for (let i = 0; i < rank; i++) {
        if (added.has(i)) out.push(1);
        else {
          if (from === at) moved = i;
          out.push(dims[from++]);
        }
      }
      return { dims: out, at: moved };
    }
    case 'Squeeze': {
      const axes = (axesOf() ?? dims.flatMap((d, i) => (d === 1 ? [i] : []))).map((a) => (a < 0 ? a + dims.length : a));
      if (axes.includes(at)) return undefined;
      return { dims: dims.filter((_, i) => !axes.includes(i)), at: at - axes.filter((a) => a < at).length };
    }
    case 'Reshape': {
      // Only a reshape that adds or drops axes of size 1 keeps the one-hot axis as it is.
      const shape = view.constant(n.input?.[1] ?? '')?.values;
      if (!shape || attrInt(n, 'allowzero', 0)) return undefined;
      const total = dims.reduce((a, d) => a * d, 1);
      const known = shape.map((s, i) => (s === 0 ? dims[i] : s));
      const out = known.map((s) => (s === -1 ? total / known.reduce((a, d) => (d === -1 ? a : a * d), 1) : s));
      const kept = (d: number[]) => d.flatMap((v, i) => (v === 1 ? [] : [[v, i]]));
      const [before, after] = [kept(dims), kept(out)];
      const k = before.findIndex(([, i]) => i === at);
      if (before.length !== after.length || before.some(([v], i) => v !== after[i][0]) || k < 0) return undefined;
      return { dims: out, at: after[k][1] };
    }
    default: return undefined;
  }
}
