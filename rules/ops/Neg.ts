import { RuleEntry } from '../types';

export const Neg: RuleEntry = {
  opType: 'Neg', since: 1, category: 'linear',
  rule: { backward: ({ em }, [dY]) => [em.neg(dY!)] },
};
