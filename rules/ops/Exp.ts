import { RuleEntry } from '../types';

export const Exp: RuleEntry = {
  opType: 'Exp', since: 1, category: 'activation',
  rule: { backward: ({ em, node }, [dY]) => [em.mul(dY!, node.output![0])] },
};
