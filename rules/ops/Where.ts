import { RuleEntry } from '../types';

/** Y = cond ? A : B: dA = cond ? dY : 0, dB = cond ? 0 : dY. */
export const Where: RuleEntry = {
  opType: 'Where', since: 9, category: 'elementwise',
  rule: {
    broadcastInputs: [1, 2],
    backward({ em, node, needsGrad }, [dY]) {
      const cond = node.input![0];
      const zero = em.scalar(0);
      return [null, needsGrad(1) ? em.where(cond, dY!, zero) : null, needsGrad(2) ? em.where(cond, zero, dY!) : null];
    },
  },
};
