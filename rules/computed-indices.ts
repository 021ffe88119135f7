import { attrInt, attrString } from '../rewriter/attributes';
import { DataType } from '../rewriter/proto';
import { Constant } from '../rewriter/graph-view';
import { Emitter } from '../rewriter/emitter';
import { contractAlongAxis, lastWritesOnly, normAxis } from './op-forms';
import { RuleContext } from './types';

const product = (dims: number[]) => dims.reduce((a, b) => a * b, 1);

/**
 * Positions 0…D−1 along `axis` of x, of static shape xs (float [D]), and D (float scalar). Static
 * unless the axis holds the batch (rows flattened with their batch, as torch.onnx writes
 * logits[arange(N), i]): then counted at run time, a CumSum of ones along a one-wide slice of x.
 */
function axisPositions(ctx: RuleContext, x: string, axis: number, xs: number[], batch: boolean): { positions: () => string; length: string } {
  const { em } = ctx;
  if (!batch) return { positions: () => em.constFloat(Array.from({ length: xs[axis] }, (_, k) => k), [xs[axis]]), length: em.scalar(xs[axis]) };
  if (ctx.opset < 11) ctx.fail('indices computed at run time along the batch axis need opset 11 or later (CumSum)');
  const others = xs.map((_, k) => k).filter((k) => k !== axis);
  const line = others.length ? em.slice(x, others.map(() => 0), others.map(() => 1), others) : x;
  const ones = em.onesLike(line);
  return { positions: () => em.reshape(em.sub(em.op('CumSum', [ones, em.constInt([axis], [])]), ones), [-1]), length: em.reduceSum(ones, xs.map((_, k) => k), false) };
}

/** Indices as floats (exact below 2²⁴), negative ones counted from the end (`length`). */
function floatIndices(ctx: RuleContext, indices: string, positions: () => string): string {
  // A Gather of the positions 0…D−1 (float data, int64 indices: native on WebGPU) rather than a Cast
  // of the int64 indices, which WebGPU runs on the CPU; Gather counts negative indices from the end.
  return ctx.em.op('Gather', [positions(), indices], { axis: 0 });
}

/**
 * 1 where no later index along `axis` (of `length` positions) names the same position, else 0,
 * shaped like the indices: the writes a scatter without reduction keeps (onnxruntime's last).
 */
export function lastAlongAxis(ctx: RuleContext, indices: string, axis: number, length: number): string {
  const { em } = ctx;
  const k = ctx.shape(indices)[axis];
  const f = floatIndices(ctx, indices, () => em.constFloat(Array.from({ length }, (_, i) => i), [length]));
  // [.., K, K', ..]: index k equals index k' and k' comes later.
  const later = Array<number>(ctx.shape(indices).length + 1).fill(1);
  later[axis] = k;
  later[axis + 1] = k;
  const after = em.constFloat(Array.from({ length: k * k }, (_, i) => (i % k > Math.floor(i / k) ? 1 : 0)), later);
  const repeats = em.reduceSum(em.mul(em.mask('Equal', em.unsqueeze(f, [axis + 1]), em.unsqueeze(f, [axis])), after), [axis + 1], false);
  return em.mask('Equal', repeats, em.scalar(0));
}

/**
 * dX of Gather(x, indices) for indices computed at run time (`indices`: the node's or another
 * pass's): dY with its index axes merged into one of K entries, contracted along the gathered
 * axis with the one-hot M[k, d] = [indices_k = d] (K × D).
 */
export function gatherBackAt(ctx: RuleContext, dY: string, indices: string): string {
  const { em, node } = ctx;
  const x = node.input![0];
  const xs = ctx.shape(x);
  const axis = normAxis(ctx, attrInt(node, 'axis', 0), xs.length);
  const r = ctx.shape(node.input![1]).length;
  const y = node.output![0];
  let g = dY;
  if (r === 0) g = em.unsqueeze(dY, [axis]);
  if (r > 1) {
    const ys = ctx.shape(y);
    const by = ctx.batchAxis(y);
    const merged = [...ys.slice(0, axis), product(ys.slice(axis, axis + r)), ...ys.slice(axis + r)];
    if (by >= 0) merged[by < axis ? by : by < axis + r ? axis : by - r + 1] = -1;
    g = em.reshape(dY, merged);
  }
  const { positions } = axisPositions(ctx, x, axis, xs, ctx.batchAxis(x) === axis);
  const flat = em.reshape(floatIndices(ctx, indices, positions), [-1]);
  const m = em.mask('Equal', em.unsqueeze(flat, [1]), positions());
  return contractAlongAxis(em, g, axis, xs.length, () => m, () => em.transpose(m, [1, 0]));
}

/**
 * dX of GatherElements(x, indices) for indices computed at run time: dY spread over a new last
 * axis by the one-hot [indices = d], summed over the gathered axis, that axis then moved in place.
 */
export function gatherElementsBackAt(ctx: RuleContext, dY: string, indices: string): string {
  const { em, node } = ctx;
  const x = node.input![0];
  const xs = ctx.shape(x);
  const rank = xs.length;
  const axis = normAxis(ctx, attrInt(node, 'axis', 0), rank);
  const is = ctx.shape(node.input![1]);
  const b = ctx.batchAxis(x);
  if (b >= 0 && b !== axis && is[b] !== xs[b]) ctx.fail(`indices of shape [${is}] cover ${is[b]} of the ${xs[b]} rows of the batch axis ${b}, which is not supported`);
  const { positions } = axisPositions(ctx, x, axis, xs, b === axis);
  const hits = em.mask('Equal', em.unsqueeze(floatIndices(ctx, indices, positions), [rank]), positions());
  const summed = em.reduceSum(em.mul(em.unsqueeze(dY, [rank]), hits), [axis]);
  const perm = Array.from({ length: rank + 1 }, (_, k) => (k === axis ? rank : k === rank ? axis : k));
  const g = em.squeeze(em.transpose(summed, perm), [rank]);
  // Indices narrower than x off the axis (torch.gather's index may be): zeros past them.
  const short = xs.map((d, k) => (k === axis || k === b ? 0 : d - is[k]));
  return short.some((d) => d > 0) ? em.pad(g, [...xs.map(() => 0), ...short]) : g;
}

/**
 * GatherND/ScatterND index tuples (batch_dims 0) as positions of x viewed as [D, P] (its first r
 * axes flattened, r the tuples' length): the one-hot M[k, d] = [Σ_j t_kj·S_j = d] (K × D) and that
 * view's shape (−1 for the batch).
 */
function tupleOneHot(ctx: RuleContext, x: string, indices: string): { m: string; view: number[] } {
  const { linear, positions, view } = tuplePositions(ctx, x, indices);
  return { m: ctx.em.mask('Equal', ctx.em.unsqueeze(linear, [1]), positions()), view };
}

/**
 * The index tuples' rows of x's [D, P] view (see tupleOneHot) as floats [K], exact below 2²⁴;
 * negative entries count from the end of their axis. Also the view's row positions 0…D−1.
 */
function tuplePositions(ctx: RuleContext, x: string, indices: string): { linear: string; positions: () => string; view: number[] } {
  const { em, node } = ctx;
  const xs = ctx.shape(x);
  const b = ctx.batchAxis(x);
  const is = ctx.shape(indices);
  const r = is[is.length - 1];
  if (attrInt(node, 'batch_dims', 0) !== 0) ctx.fail('batch_dims with indices computed at run time is not supported');
  if (b > 0 && b < r) ctx.fail(`index tuples of length ${r} run over the batch axis ${b}, which is not supported`);
  const view = [b === 0 ? -1 : product(xs.slice(0, r)), b >= r ? -1 : product(xs.slice(r))];
  const flat = b === 0 ? em.reshape(x, view) : x;
  const { positions, length } = axisPositions(ctx, flat, 0, [product(xs.slice(0, r)), 1], b === 0);
  const strides = xs.slice(0, r).map((_, j) => product(xs.slice(j + 1, r)));
  // The batch axis's length is D / S_0.
  const sizes = b === 0
    ? em.concat([em.reshape(em.div(length, em.scalar(strides[0])), [1]), ...(r > 1 ? [em.constFloat(xs.slice(1, r), [r - 1])] : [])], 0)
    : em.constFloat(xs.slice(0, r), [r]);
  return { linear: em.reshape(flatTuples(em, indices, sizes, strides, is.length), [-1]), positions, view };
}

/**
 * The index tuples on the last of `rank` axes of `indices` as row-major flat positions (floats),
 * negative entries counted from the end of axes of `sizes`.
 */
function flatTuples(em: Emitter, indices: string, sizes: string, strides: number[], rank: number): string {
  const t = em.cast(indices, em.floatType);
  const entries = em.add(t, em.mul(em.mask('Less', t, em.scalar(0)), sizes));
  return em.reduceSum(em.mul(entries, em.constFloat(strides, [strides.length])), [rank - 1], false);
}

/** dY reshaped to [K, P], the rows of the index tuples (−1 where the batch is). */
function tupleRows(ctx: RuleContext, g: string, indices: string, view: number[]): string {
  const rows = ctx.batchAxis(indices) >= 0 ? -1 : product(ctx.shape(indices).slice(0, -1));
  if (rows < 0 && view[1] < 0) ctx.fail('index tuples and the gathered slices both hold the batch, which is not supported');
  return ctx.em.reshape(g, [rows, view[1]]);
}

/**
 * dX of GatherND(x, indices) with batch_dims B ≥ 1 for indices computed at run time (tf.gather_nd's
 * batch_dims=1, the hidden state at each row's last step): per batch entry, the tuples' one-hot
 * M[b, k, d] over x's indexed axes flattened (D), and dX[b] = M[b]ᵀ·dY[b] on [D, P] views.
 */
function gatherNDBatchBackAt(ctx: RuleContext, dY: string, indices: string, b: number): string {
  const { em } = ctx;
  const x = ctx.node.input![0];
  const xs = ctx.shape(x);
  // (`indices` may be the reference pass's, shaped as the node's.)
  const is = ctx.shape(ctx.node.input![1]);
  const r = is[is.length - 1];
  const batch = ctx.batchAxis(x);
  if (batch >= b) ctx.fail(`index tuples run over the batch axis ${batch} (batch_dims ${b}), which is not supported`);
  const indexed = xs.slice(b, b + r);
  const positions = product(indexed);
  const strides = indexed.map((_, j) => product(indexed.slice(j + 1)));
  const [k, p] = [product(is.slice(b, -1)), product(xs.slice(b + r))];
  const linear = em.reshape(flatTuples(em, indices, em.constFloat(indexed, [r]), strides, is.length), [-1, k, 1]);
  const m = em.mask('Equal', linear, em.constFloat(Array.from({ length: positions }, (_, d) => d), [positions]));
  return ctx.reshapeLike(em.matmul(em.transpose(m, [0, 2, 1]), em.reshape(dY, [-1, k, p])), x);
}

/** dX of GatherND(x, indices) for indices computed at run time: Mᵀ·dY on x's [D, P] view. */
export function gatherNDBackAt(ctx: RuleContext, dY: string, indices: string): string {
  const { em, node } = ctx;
  const x = node.input![0];
  const batchDims = attrInt(node, 'batch_dims', 0);
  if (batchDims > 0 && node.op_type === 'GatherND') return gatherNDBatchBackAt(ctx, dY, indices, batchDims);
  const { m, view } = tupleOneHot(ctx, x, indices);
  return ctx.reshapeLike(em.matmul(em.transpose(m, [1, 0]), tupleRows(ctx, dY, indices, view)), x);
}

/**
 * dData and dUpdates of a scatter with reduction max or min: each position's dY goes to the values
 * equal to its result — data's and the updates written there — shared evenly between ties, as
 * ReduceMax's rule. `atWrites` reads a data-shaped tensor at every update's position;
 * `sumAtWrites` adds update-shaped values into the data's shape at those positions.
 */
export function scatterExtremumBack(ctx: RuleContext, dY: string, atWrites: (t: string) => string, sumAtWrites: (t: string) => string): (string | null)[] {
  const { em, node } = ctx;
  const [data, , updates] = node.input!;
  const y = node.output![0];
  const kept = em.mask('Equal', data, y);
  const won = em.mask('Equal', updates, atWrites(y));
  const share = em.div(dY, em.add(kept, sumAtWrites(won)));
  return [ctx.needsGrad(0) ? em.mul(share, kept) : null, null, ctx.needsGrad(2) ? em.mul(atWrites(share), won) : null];
}

/**
 * ScatterND(data, indices, updates) (reduction none or add): dData = dY with zeros scattered where
 * the tuples write (dY itself for add); dUpdates = the rows of dY's [D, P] view the tuples name,
 * gathered (GatherElements with each tuple's row repeated over P; linear in the batch, where a
 * one-hot of tuples × rows would grow with its square when both hold it, as torch.onnx's slice
 * assignments h[:, a:b] = v on batched tensors do). Reduction max or min: each position's dY goes
 * to the values equal to it, data's and the updates written there, shared evenly between ties.
 */
export function scatterNDBack(ctx: RuleContext, dY: string, indices: string): (string | null)[] {
  const { em, node } = ctx;
  const [data, , updates] = node.input!;
  const reduction = attrString(node, 'reduction', 'none');
  // The rows of t (shaped like the data) that the tuples name, shaped like the updates; the tuples'
  // rows of the [D, P] view are found once.
  let at: { view: number[]; rows: string } | undefined;
  const atTuples = (t: string) => {
    if (!at) {
      const { linear, view } = tuplePositions(ctx, data, indices);
      const first = em.slice(em.reshape(t, view), [0], [1], [0]);
      at = { view, rows: em.cast(em.add(em.unsqueeze(linear, [1]), em.zerosLike(first)), DataType.INT64) };
    }
    return ctx.reshapeLike(em.op('GatherElements', [em.reshape(t, at.view), at.rows], { axis: 0 }), updates);
  };
  if (reduction === 'max' || reduction === 'min') return scatterExtremumBack(ctx, dY, atTuples, (t) => gatherNDBackAt(ctx, t, indices));
  if (reduction !== 'none' && reduction !== 'add') ctx.fail(`reduction '${reduction}' is not supported (none, add, max and min are)`);
  const dData = !ctx.needsGrad(0) ? null : reduction === 'add' ? dY : em.op('ScatterND', [dY, indices, em.zerosLike(updates)]);
  const tuples = reduction === 'none' && ctx.needsGrad(2) ? ctx.constant(indices) : undefined;
  const dUpdates = !ctx.needsGrad(2) ? null : tuples ? lastWritesOnly(ctx, atTuples(dY), tuplesAt(tuples, ctx.shape(data)), tupleMaskDims(tuples, ctx.shape(data))) : atTuples(dY);
  return [dData, null, dUpdates];
}

/** The flat position in the [∏ dims[:r], …] view of data of each constant index tuple (of length r). */
function tuplesAt(tuples: Constant, dims: number[]): number[] {
  const r = tuples.dims[tuples.dims.length - 1];
  const strides = dims.slice(0, r).map((_, j) => product(dims.slice(j + 1, r)));
  return Array.from({ length: tuples.values.length / r }, (_, t) => strides.reduce((acc, s, j) => {
    const v = tuples.values[t * r + j];
    return acc + (v < 0 ? v + dims[j] : v) * s;
  }, 0));
}

/** A per-tuple mask's shape against the updates (the tuples' shape, then 1 per axis of the written slices). */
const tupleMaskDims = (tuples: Constant, dims: number[]) => [...tuples.dims.slice(0, -1), ...dims.slice(tuples.dims[tuples.dims.length - 1]).map(() => 1)];
