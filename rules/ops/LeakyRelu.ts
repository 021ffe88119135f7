import { attrFloat } from '../../rewriter/attributes';
import { blend } from '../op-forms';
import { RuleEntry } from '../types';

/** dX = x > 0 ? dY : α·dY. */
export const LeakyRelu: RuleEntry = {
  opType: 'LeakyRelu', since: 1, category: 'activation',
  rule: {
    backward({ em, node }, [dY]) {
      const alpha = attrFloat(node, 'alpha', 0.01);
      return [blend(em, em.mask('Greater', node.input![0], em.scalar(0)), dY!, em.mul(dY!, em.scalar(alpha)))];
    },
  },
};
