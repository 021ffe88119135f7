import { RuleEntry } from '../types';

/** dX = dY · [x > 0] (zero at the kink, as PyTorch). */
export const Relu: RuleEntry = {
  opType: 'Relu', since: 1,
  rule: {
    backward({ em, node }, [dY]) {
      return [em.mul(dY!, em.mask('Greater', node.input![0], em.scalar(0)))];
    },
  },
};
