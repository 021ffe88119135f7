import { reductionRule } from '../op-forms';
import { RuleEntry } from '../types';

/** y = Σ|x|: ∂y/∂x = sign(x) (0 at 0, as PyTorch). */
export const ReduceL1: RuleEntry = {
  opType: 'ReduceL1', since: 1, category: 'reduction',
  rule: reductionRule(({ em }, x) => em.sign(x)),
};
