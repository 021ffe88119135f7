import { RuleEntry } from '../types';

/** dX = −dY·Y². */
export const Reciprocal: RuleEntry = {
  opType: 'Reciprocal', since: 1, category: 'activation',
  rule: {
    backward({ em, node }, [dY]) {
      const y = node.output![0];
      return [em.neg(em.mul(dY!, em.mul(y, y)))];
    },
  },
};
