import { reductionRule } from '../op-forms';
import { RuleEntry } from '../types';

/** y = log Σ eˣ: ∂y/∂x = e^(x − y), the softmax. */
export const ReduceLogSumExp: RuleEntry = {
  opType: 'ReduceLogSumExp', since: 1, category: 'reduction',
  rule: reductionRule(({ em }, x, y) => em.op('Exp', [em.sub(x, y)])),
};
