import { attrFloat } from '../../rewriter/attributes';
import { RuleEntry } from '../types';

/** Y = clip(αx + β, 0, 1): dX = α·dY where 0 < αx + β < 1 strictly, i.e. where 0 < Y < 1. */
export const HardSigmoid: RuleEntry = {
  opType: 'HardSigmoid', since: 1, category: 'activation',
  rule: {
    backward({ em, node }, [dY]) {
      const y = node.output![0];
      const inside = em.mul(em.mask('Greater', y, em.scalar(0)), em.mask('Less', y, em.scalar(1)));
      return [em.mul(em.mul(dY!, em.scalar(attrFloat(node, 'alpha', 0.2))), inside)];
    },
  },
};
