import { RuleEntry } from '../types';

/** dA = dY / B, dB = −dY · Y / B. */
export const Div: RuleEntry = {
  opType: 'Div', since: 1, category: 'product',
  rule: {
    broadcastInputs: 'all',
    backward({ em, node, needsGrad }, [dY]) {
      const [, b] = node.input!;
      const dA = em.div(dY!, b);
      return [dA, needsGrad(1) ? em.neg(em.div(em.mul(dY!, node.output![0]), b)) : null];
    },
  },
};
