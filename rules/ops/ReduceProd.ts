import { reductionRule } from '../op-forms';
import { RuleEntry } from '../types';

/** y = Πx: ∂y/∂x = y/x, the product of the other elements (taken as y/1 = 0 where x = 0). */
export const ReduceProd: RuleEntry = {
  opType: 'ReduceProd', since: 1, category: 'reduction',
  rule: reductionRule(({ em }, x, y) => em.div(y, em.zeroAsOne(x))),
};
