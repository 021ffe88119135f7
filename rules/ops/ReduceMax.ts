import { keptAxes } from '../op-forms';
import { BackwardRule, RuleContext, RuleEntry } from '../types';

/** ReduceMax/ReduceMin: dY goes to the elements equal to y, split evenly among ties (as PyTorch amax/amin). */
export const reduceExtremum: BackwardRule = {
  backward(ctx, [dY]) {
    const { em, node } = ctx;
    const { axes, kept } = keptAxes(ctx);
    const hits = em.mask('Equal', node.input![0], kept(node.output![0]));
    return [em.mul(hits, em.div(kept(dY!), em.reduceSum(hits, axes))), null];
  },
};

/** Per output, 1 where a winner (an element equal to y, among which dY is split) moved less than |change|, else 0. */
export function reduceExtremumStuck(ctx: RuleContext, dx: string, change: string): string {
  const { em, node } = ctx;
  const { axes, keep, kept } = keptAxes(ctx);
  const hits = em.mask('Equal', node.input![0], kept(node.output![0]));
  const short = em.mask('Less', em.op('Abs', [dx]), em.op('Abs', [kept(change)]));
  return em.mask('Greater', em.reduceSum(em.mul(hits, short), axes, keep), em.scalar(0));
}

export const ReduceMax: RuleEntry = { opType: 'ReduceMax', since: 1, category: 'selection', rule: reduceExtremum };
