import { attrFloat } from '../../rewriter/attributes';
import { blend, expOfNegativePart } from '../op-forms';
import { RuleEntry } from '../types';

/** dX = x > 0 ? γ·dY : γ·α·eˣ·dY. */
export const Selu: RuleEntry = {
  opType: 'Selu', since: 1, category: 'activation',
  rule: {
    backward({ em, node }, [dY]) {
      const alpha = attrFloat(node, 'alpha', 1.67326319217681884765625);
      const gamma = attrFloat(node, 'gamma', 1.05070102214813232421875);
      const pos = em.mask('Greater', node.input![0], em.scalar(0));
      const neg = em.mul(dY!, em.mul(em.scalar(gamma * alpha), expOfNegativePart(em, node.input![0])));
      return [blend(em, pos, em.mul(dY!, em.scalar(gamma)), neg)];
    },
  },
};
