import { reductionRule } from '../op-forms';
import { RuleEntry } from '../types';

/** y = Σx²: ∂y/∂x = 2x. */
export const ReduceSumSquare: RuleEntry = {
  opType: 'ReduceSumSquare', since: 1, category: 'reduction',
  rule: reductionRule(({ em }, x) => em.mul(x, em.scalar(2))),
};
