import { RuleEntry } from '../types';

/** dX = dY·sign(x), 0 at x = 0. */
export const Abs: RuleEntry = {
  opType: 'Abs', since: 1, category: 'activation',
  rule: { backward: ({ em, node }, [dY]) => [em.mul(dY!, em.sign(node.input![0]))] },
};
