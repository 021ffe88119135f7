import { reductionRule } from '../op-forms';
import { RuleEntry } from '../types';

/** y = √Σx²: ∂y/∂x = x/y (0 where y = 0, as PyTorch's norm). */
export const ReduceL2: RuleEntry = {
  opType: 'ReduceL2', since: 1, category: 'reduction',
  rule: reductionRule(({ em }, x, y) => em.div(x, em.zeroAsOne(y))),
};
