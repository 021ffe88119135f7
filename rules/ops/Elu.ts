import { attrFloat } from '../../rewriter/attributes';
import { blend, expOfNegativePart } from '../op-forms';
import { RuleEntry } from '../types';

/** dX = x > 0 ? dY : α·eˣ·dY (eˣ as expOfNegativePart: Y + α cancels, losing digits past x ≈ −8, 0 below −17). */
export const Elu: RuleEntry = {
  opType: 'Elu', since: 1, category: 'activation',
  rule: {
    backward({ em, node }, [dY]) {
      const alpha = attrFloat(node, 'alpha', 1);
      const pos = em.mask('Greater', node.input![0], em.scalar(0));
      return [blend(em, pos, dY!, em.mul(dY!, em.mul(em.scalar(alpha), expOfNegativePart(em, node.input![0]))))];
    },
  },
};
