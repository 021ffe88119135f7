import { RuleEntry } from '../types';

/** dX = dY·2/√π·exp(−x²). */
export const Erf: RuleEntry = {
  opType: 'Erf', since: 9, category: 'activation',
  rule: {
    backward({ em, node }, [dY]) {
      const x = node.input![0];
      const gauss = em.op('Exp', [em.neg(em.mul(x, x))]);
      return [em.mul(em.mul(dY!, em.scalar(2 / Math.sqrt(Math.PI))), gauss)];
    },
  },
};
