import { RuleEntry } from '../types';

export const Log: RuleEntry = {
  opType: 'Log', since: 1, category: 'activation',
  rule: { backward: ({ em, node }, [dY]) => [em.div(dY!, node.input![0])] },
};
