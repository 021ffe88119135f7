import { attrFloat } from '../../rewriter/attributes';
import { blend, expOfNegativePart } from '../op-forms';
import { RuleEntry } from '../types';

/** Y = max(0, x) + min(0, α(e^{x/α} − 1)): dX = x > 0 ? dY : dY·e^{x/α}. */
export const Celu: RuleEntry = {
  opType: 'Celu', since: 12, category: 'activation',
  rule: {
    backward({ em, node }, [dY]) {
      const alpha = attrFloat(node, 'alpha', 1);
      const pos = em.mask('Greater', node.input![0], em.scalar(0));
      return [blend(em, pos, dY!, em.mul(dY!, expOfNegativePart(em, node.input![0], 1 / alpha)))];
    },
  },
};
