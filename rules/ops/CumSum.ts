import { attrInt } from '../../rewriter/attributes';
import { RuleEntry } from '../types';

/** dX = CumSum(dY) in the opposite direction, same axis and exclusivity. */
export const CumSum: RuleEntry = {
  opType: 'CumSum', since: 11, category: 'linear',
  rule: {
    backward({ em, node }, [dY]) {
      const attrs = { exclusive: attrInt(node, 'exclusive', 0), reverse: 1 - attrInt(node, 'reverse', 0) };
      return [em.op('CumSum', [dY!, node.input![1]], attrs), null];
    },
  },
};
