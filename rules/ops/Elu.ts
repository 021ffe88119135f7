import { attrFloat } from '../../rewriter/attributes';
import { blend } from '../op-forms';
import { RuleEntry } from '../types';

/** dX = x > 0 ? dY : α·eˣ·dY, with α·eˣ = Y + α. */
export const Elu: RuleEntry = {
  opType: 'Elu', since: 1, category: 'activation',
  rule: {
    backward({ em, node }, [dY]) {
      const alpha = attrFloat(node, 'alpha', 1);
      const pos = em.mask('Greater', node.input![0], em.scalar(0));
      return [blend(em, pos, dY!, em.mul(dY!, em.add(node.output![0], em.scalar(alpha))))];
    },
  },
};
