import { attrInt, attrString } from '../../rewriter/attributes';
import { gatherElementsBackAt, lastAlongAxis, scatterExtremumBack } from '../computed-indices';
import { elementPositions, lastWritesOnly, normAxis } from '../op-forms';
import { RuleContext, RuleEntry } from '../types';

/**
 * dUpdates of the writes onnxruntime keeps: constant indices give a constant mask; computed ones
 * compare each index with the later ones along the axis (K² per line, where that fits).
 */
function lastWritesOf(ctx: RuleContext, dUpdates: string, indices: string, ds: number[], axis: number): string {
  const idx = ctx.constant(indices);
  if (idx) return lastWritesOnly(ctx, dUpdates, elementPositions(idx, ds, axis), idx.dims);
  const is = ctx.shape(indices);
  const fits = ctx.batchAxis(indices) !== axis && is.reduce((a, d) => a * d, is[axis]) <= MAX_PAIRS;
  return fits ? ctx.em.mul(dUpdates, lastAlongAxis(ctx, indices, axis, ds[axis])) : dUpdates;
}

/**
 * Reduction mul (paddle2onnx's put_along_axis reduce='mul'): y = data · Π of the updates written to
 * each position. dData = dY · that product; dUpdate_j = dY · data · the product of the other updates
 * written where j is, zero-safe: the product of the nonzero updates over u_j (u_j itself left out
 * where it is 0), zero where another update there is 0.
 */
function scatterProductBack(ctx: RuleContext, dY: string, gather: (t: string) => string): (string | null)[] {
  const { em, node } = ctx;
  const [data, indices, updates] = node.input!;
  // Sums of update-shaped values at the positions they are written to (GatherElements' gradient: no ScatterElements, not native on WebGPU).
  const sumAt = (t: string) => gatherElementsBackAt(ctx, t, indices);
  const zero = em.mask('Equal', updates, em.scalar(0));
  const safe = em.add(updates, zero);
  // Π of the nonzero updates at each position: the sign from the parity of the negative ones, the magnitude as exp Σ log.
  const negatives = sumAt(em.mask('Less', safe, em.scalar(0)));
  const odd = em.sub(negatives, em.mul(em.scalar(2), em.floor(em.mul(negatives, em.scalar(0.5)))));
  const product = em.mul(em.sub(em.scalar(1), em.mul(em.scalar(2), odd)), em.op('Exp', [sumAt(em.op('Log', [em.op('Abs', [safe])]))]));
  const zeros = sumAt(zero);
  const dData = ctx.needsGrad(0) ? em.mul(dY, em.mul(product, em.mask('Equal', zeros, em.scalar(0)))) : null;
  if (!ctx.needsGrad(2)) return [dData, null, null];
  const others = em.mask('Equal', em.sub(gather(zeros), zero), em.scalar(0));
  return [dData, null, em.mul(gather(em.mul(dY, data)), em.mul(em.div(gather(product), safe), others))];
}

/** Largest pairwise comparison of computed indices (elements) that lastWritesOf builds. */
const MAX_PAIRS = 2 ** 22;

/**
 * data with the elements at `indices` along `axis` replaced by (reduction add: increased by)
 * updates: torch.onnx's scatter and scatter_add. dUpdates = GatherElements(dY, indices); dData =
 * dY where nothing was written (everywhere for add). The written positions are the scatter of
 * ones, computed as GatherElements' gradient (no ScatterElements: not on the default WebGPU bundle).
 * Without reduction, indices that name a position twice along the axis write it twice, and
 * onnxruntime keeps the last write: only that update gets dY (torch.onnx writes scatter_add so
 * below opset 16, where the other repeats are lost).
 * Reduction max or min (scatter_reduce amax/amin, graph pooling): each output position's dY goes
 * to the values equal to it — data's and the updates written there — shared evenly between ties,
 * as ReduceMax's rule.
 */
export const ScatterElements: RuleEntry = {
  opType: 'ScatterElements', since: 11, category: 'shape',
  rule: {
    backward(ctx, [dY]) {
      const { em, node } = ctx;
      const [data, indices, updates] = node.input!;
      const ds = ctx.shape(data);
      const axis = normAxis(ctx, attrInt(node, 'axis', 0), ds.length);
      const reduction = attrString(node, 'reduction', 'none');
      const gather = (t: string) => em.op('GatherElements', [t, indices], { axis });
      if (reduction === 'max' || reduction === 'min') return scatterExtremumBack(ctx, dY!, gather, (t) => gatherElementsBackAt(ctx, t, indices));
      if (reduction === 'mul') return scatterProductBack(ctx, dY!, gather);
      if (reduction !== 'none' && reduction !== 'add') ctx.fail(`reduction '${reduction}' is not supported (none, add, mul, max and min are)`);
      let dData: string | null = null;
      if (ctx.needsGrad(0)) {
        const written = em.mask('Greater', gatherElementsBackAt(ctx, em.onesLike(updates), indices), em.scalar(0));
        dData = reduction === 'add' ? dY! : em.mul(dY!, em.sub(em.scalar(1), written));
      }
      const dUpdates = !ctx.needsGrad(2) ? null : reduction === 'add' ? gather(dY!) : lastWritesOf(ctx, gather(dY!), indices, ds, axis);
      return [dData, null, dUpdates];
    },
  },
};
