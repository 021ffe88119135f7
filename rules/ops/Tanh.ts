import { RuleEntry } from '../types';

/** dX = dY·(1 − Y²). */
export const Tanh: RuleEntry = {
  opType: 'Tanh', since: 1, category: 'activation',
  rule: {
    backward({ em, node }, [dY]) {
      const y = node.output![0];
      return [em.mul(dY!, em.sub(em.scalar(1), em.mul(y, y)))];
    },
  },
};
