import { attrFloat } from '../../rewriter/attributes';
import { blend } from '../op-forms';
import { RuleEntry } from '../types';

/** dX = x > 0 ? γ·dY : γ·α·eˣ·dY, with γ·α·eˣ = Y + γ·α. */
export const Selu: RuleEntry = {
  opType: 'Selu', since: 1, category: 'activation',
  rule: {
    backward({ em, node }, [dY]) {
      const alpha = attrFloat(node, 'alpha', 1.67326319217681884765625);
      const gamma = attrFloat(node, 'gamma', 1.05070102214813232421875);
      const pos = em.mask('Greater', node.input![0], em.scalar(0));
      const neg = em.mul(dY!, em.add(node.output![0], em.scalar(gamma * alpha)));
      return [blend(em, pos, em.mul(dY!, em.scalar(gamma)), neg)];
    },
  },
};
