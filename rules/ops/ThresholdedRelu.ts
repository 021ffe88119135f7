import { attrFloat } from '../../rewriter/attributes';
import { RuleEntry } from '../types';

/** Y = x where x > α, else 0: dX = dY·[x > α]. */
export const ThresholdedRelu: RuleEntry = {
  opType: 'ThresholdedRelu', since: 10, category: 'activation',
  rule: {
    backward: ({ em, node }, [dY]) => [em.mul(dY!, em.mask('Greater', node.input![0], em.scalar(attrFloat(node, 'alpha', 1))))],
  },
};
