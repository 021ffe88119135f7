import { reductionRule } from '../op-forms';
import { RuleEntry } from '../types';

/** y = log Σx: ∂y/∂x = 1/Σx = e^(−y), spread over x. */
export const ReduceLogSum: RuleEntry = {
  opType: 'ReduceLogSum', since: 1, category: 'reduction',
  rule: reductionRule(({ em }, x, y) => em.add(em.zerosLike(x), em.op('Exp', [em.op('Neg', [y])]))),
};
