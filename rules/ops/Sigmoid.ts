import { RuleEntry } from '../types';

/** dX = dY·Y·(1 − Y). */
export const Sigmoid: RuleEntry = {
  opType: 'Sigmoid', since: 1, category: 'activation',
  rule: {
    backward({ em, node }, [dY]) {
      const y = node.output![0];
      return [em.mul(dY!, em.mul(y, em.sub(em.scalar(1), y)))];
    },
  },
};
