import { keptAxes, reductionRule } from '../op-forms';
import { RuleEntry } from '../types';

/**
 * y = log Σ eˣ: ∂y/∂x = e^(x − y), the softmax, divided by its own sum: y's rounding (2.7·10⁻⁴ at
 * logits of 10⁴) scales every e^(x − y) alike, and the sum takes it out.
 */
export const ReduceLogSumExp: RuleEntry = {
  opType: 'ReduceLogSumExp', since: 1, category: 'reduction',
  rule: reductionRule((ctx, x, y) => {
    const e = ctx.em.op('Exp', [ctx.em.sub(x, y)]);
    return ctx.em.div(e, ctx.em.reduceSum(e, keptAxes(ctx).axes));
  }),
};
