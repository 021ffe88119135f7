import { RuleContext, RuleEntry } from '../types';

/** Float mask over X: 1 at the first spatial position (row-major) holding the channel's maximum. */
function firstHit(ctx: RuleContext): string {
  const { em, node } = ctx;
  const x = node.input![0];
  const hit = em.mask('Equal', x, node.output![0]);
  const flat = em.reshape(hit, [0, ctx.shape(x)[1], -1]);
  if (ctx.opset < 11) {
    // No CumSum: the first hit is the position ArgMax of the hits gives (its first maximum).
    const size = ctx.shape(x).slice(2).reduce((a, b) => a * b, 1);
    const positions = em.constInt(Array.from({ length: size }, (_, k) => k));
    return ctx.reshapeLike(em.mask('Equal', positions, em.op('ArgMax', [flat], { axis: 2, keepdims: 1 })), x);
  }
  // Running count of hits over the flattened spatial axis: the first hit is where it is 1.
  const first = em.mul(flat, em.mask('Less', em.op('CumSum', [flat, em.constInt([2], [])]), em.scalar(1.5)));
  return ctx.reshapeLike(first, x);
}

/** Values of v (shaped like X) at each channel's winner, shaped like Y. */
export function globalMaxPoolGather(ctx: RuleContext, v: string): string {
  const rank = ctx.shape(ctx.node.input![0]).length;
  return ctx.em.reduceSum(ctx.em.mul(firstHit(ctx), v), Array.from({ length: rank - 2 }, (_, k) => k + 2), true);
}

/** dX = dY at the channel's first maximum, 0 elsewhere. */
export const GlobalMaxPool: RuleEntry = {
  opType: 'GlobalMaxPool', since: 1, category: 'selection',
  rule: { backward: (ctx, [dY]) => [ctx.em.mul(firstHit(ctx), dY!)] },
};
