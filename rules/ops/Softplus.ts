import { RuleEntry } from '../types';

/** Y = ln(1 + eˣ): dX = dY·σ(x). */
export const Softplus: RuleEntry = {
  opType: 'Softplus', since: 1, category: 'activation',
  rule: {
    backward: ({ em, node }, [dY]) => [em.mul(dY!, em.op('Sigmoid', [node.input![0]]))],
  },
};
