import { attrInt, attrString } from '../../rewriter/attributes';
import { normAxis } from '../op-forms';
import { gradientOf } from '../registry';
import { gatherBackAt, gatherElementsBackAt, gatherNDBackAt } from '../computed-indices';
import { BackwardRule, RuleContext } from '../types';
import { delta } from './delta';

/** Whether computed indices may pick other positions on the reference pass: computed there again, from the input's values. */
const picksMayDiffer = (ctx: RuleContext, indices: string) => ctx.ref(indices) !== indices && ctx.valueDependent(indices);

/**
 * Gathers with indices computed at run time. Indices computed from the same values on both passes
 * (token ids, shapes) pick the same positions: δy is the picked δx and m routes as the gradient.
 * Where the picks may differ (indices computed from the explained input), δy = x[i] − x⁰[i⁰] goes
 * whole to the input pass's pick, m = δy/δx[i]; where that barely moved, to the reference
 * pass's pick, m = δy/δx[i⁰]; if both barely moved, δy is not attributed (as DeepLIFT's Where rule).
 */
function runtimePick(back: (ctx: RuleContext, g: string, indices: string) => string, picksWithinRows: (ctx: RuleContext) => boolean): BackwardRule {
  return {
    backward(ctx, [dY]) {
      const { em, node } = ctx;
      const [x, indices] = node.input!;
      if (!ctx.needsGrad(0) || ctx.isConstant(indices)) return gradientOf(ctx).backward(ctx, [dY]);
      if (!picksMayDiffer(ctx, indices)) return [back(ctx, dY!, indices), null];
      // A reference pass on one shared row picks within it for every row (not where the picks run across rows).
      if (ctx.batchBroadcasts && !picksWithinRows(ctx)) ctx.fail('its indices are computed from the explained input and pick across the batch\'s rows, and the reference pass may run on one row; use integrated-gradients or gradient');
      const rowsOf = (t0: string, like: string) => (ctx.batchBroadcasts ? em.op('Expand', [t0, em.op('Shape', [like])]) : t0);
      const indices0 = rowsOf(ctx.ref(indices), indices);
      const [y, y0] = [node.output![0], ctx.ref(node.output![0])];
      const pick = (data: string, at: string) => em.copyOf(node, [data, at])[0];
      const dy = em.sub(y, y0);
      const atPick = delta(em, y, pick(rowsOf(ctx.ref(x), x), indices));
      const atPick0 = delta(em, pick(x, indices0), y0);
      const [one, zero] = [em.scalar(1), em.scalar(0)];
      const same = em.compare('Equal', dy, atPick.dx);
      const m = em.where(same, one, em.where(atPick.moved, em.div(dy, atPick.dx), zero));
      const m0 = em.where(same, zero, em.where(atPick.moved, zero, em.where(atPick0.moved, em.div(dy, atPick0.dx), zero)));
      return [em.add(back(ctx, em.mul(dY!, m), indices), back(ctx, em.mul(dY!, m0), indices0)), null];
    },
  };
}

/** Whether the gathered axis is not the batch's: a shared reference row's picks then hold for every row. */
const offBatchAxis = (ctx: RuleContext) => {
  const x = ctx.node.input![0];
  const b = ctx.batchAxis(x);
  return b < 0 || normAxis(ctx, attrInt(ctx.node, 'axis', 0), ctx.shape(x).length) !== b;
};

export const deepliftGather = runtimePick(gatherBackAt, offBatchAxis);
export const deepliftGatherElements = runtimePick(gatherElementsBackAt, offBatchAxis);
// GatherND's tuples (batch_dims 0) hold the row.
export const deepliftGatherND = runtimePick(gatherNDBackAt, () => false);

/**
 * ScatterND and ScatterElements (reduction none or add) are linear in data and updates for fixed
 * indices: the gradient, unless the indices follow the input's values.
 */
export const deepliftScatter: BackwardRule = {
  backward(ctx, dY) {
    const indices = ctx.node.input![1];
    const reduction = attrString(ctx.node, 'reduction', 'none');
    if (reduction === 'max' || reduction === 'min') ctx.fail(`DeepLIFT has no rule for its reduction ${reduction} (a ${reduction} over the values written to each position); use integrated-gradients or gradient`);
    if (picksMayDiffer(ctx, indices)) ctx.fail('its indices are computed from the explained input, so the two passes may write other positions; use integrated-gradients or gradient');
    return gradientOf(ctx).backward(ctx, dY);
  },
};

/** GridSample is linear in its input for a fixed grid: the gradient; a grid computed from the explained input samples other pixels on the reference pass. */
export const deepliftGridSample: BackwardRule = {
  backward(ctx, dY) {
    if (ctx.needsGrad(1)) ctx.fail('its grid is computed from the explained input (a spatial transformer), so the two passes sample other pixels; use integrated-gradients or gradient');
    return gradientOf(ctx).backward(ctx, dY);
  },
};
