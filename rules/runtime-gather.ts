import { attrInt } from '../rewriter/attributes';
import { contractAlongAxis, normAxis } from './op-forms';
import { RuleContext } from './types';

/**
 * Positions 0…D−1 along `axis` of x (float [D]) and D (float scalar). Static unless the axis holds
 * the batch (rows flattened with their batch, as torch.onnx writes logits[arange(N), i]): then
 * counted at run time, a CumSum of ones along a one-wide slice of x.
 */
function axisPositions(ctx: RuleContext, x: string, axis: number): { positions: string; length: string } {
  const { em } = ctx;
  const xs = ctx.shape(x);
  if (ctx.batchAxis(x) !== axis) {
    return { positions: em.constFloat(Array.from({ length: xs[axis] }, (_, k) => k), [xs[axis]]), length: em.scalar(xs[axis]) };
  }
  if (ctx.opset < 11) ctx.fail('indices computed at run time along the batch axis need opset 11 or later (CumSum)');
  const others = xs.map((_, k) => k).filter((k) => k !== axis);
  const line = others.length ? em.slice(x, others.map(() => 0), others.map(() => 1), others) : x;
  // Less(v, v) is false for every value, ±Inf and NaN included.
  const ones = em.add(em.mask('Less', line, line), em.scalar(1));
  const positions = em.reshape(em.sub(em.op('CumSum', [ones, em.constInt([axis], [])]), ones), [-1]);
  return { positions, length: em.reduceSum(ones, xs.map((_, k) => k), false) };
}

/** Indices as floats (exact below 2²⁴), negative ones counted from the end (`length`). */
function floatIndices(ctx: RuleContext, indices: string, length: string): string {
  const { em } = ctx;
  const f = em.cast(indices, em.floatType);
  return em.add(f, em.mul(em.mask('Less', f, em.scalar(0)), length));
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
    const merged = [...ys.slice(0, axis), ys.slice(axis, axis + r).reduce((a, b) => a * b, 1), ...ys.slice(axis + r)];
    if (by >= 0) merged[by < axis ? by : by < axis + r ? axis : by - r + 1] = -1;
    g = em.reshape(dY, merged);
  }
  const { positions, length } = axisPositions(ctx, x, axis);
  const flat = em.reshape(floatIndices(ctx, indices, length), [-1]);
  const m = em.mask('Equal', em.unsqueeze(flat, [1]), positions);
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
  if (is.some((d, k) => k !== axis && d !== xs[k])) ctx.fail(`indices of shape [${is}] narrower than the data [${xs}] off the gathered axis are not supported when computed at run time`);
  const { positions, length } = axisPositions(ctx, x, axis);
  const hits = em.mask('Equal', em.unsqueeze(floatIndices(ctx, indices, length), [rank]), positions);
  const summed = em.reduceSum(em.mul(em.unsqueeze(dY, [rank]), hits), [axis]);
  const perm = Array.from({ length: rank + 1 }, (_, k) => (k === axis ? rank : k === rank ? axis : k));
  return em.squeeze(em.transpose(summed, perm), [rank]);
}
