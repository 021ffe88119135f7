import { keptAxes } from '../op-forms';
import { BackwardRule, RuleEntry } from '../types';

/** ReduceMax/ReduceMin: dY goes to the elements equal to y, split evenly among ties (as PyTorch amax/amin). */
export const reduceExtremum: BackwardRule = {
  backward(ctx, [dY]) {
    const { em, node } = ctx;
    const { axes, kept } = keptAxes(ctx);
    const hits = em.mask('Equal', node.input![0], kept(node.output![0]));
    return [em.mul(hits, em.div(kept(dY!), em.reduceSum(hits, axes))), null];
  },
};

export const ReduceMax: RuleEntry = { opType: 'ReduceMax', since: 1, category: 'selection', rule: reduceExtremum };
