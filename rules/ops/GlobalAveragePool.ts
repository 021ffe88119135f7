import { expandTo } from '../op-forms';
import { RuleEntry } from '../types';

/** dX = Expand(dY / (H·W), X's shape). */
export const GlobalAveragePool: RuleEntry = {
  opType: 'GlobalAveragePool', since: 1, category: 'linear',
  rule: {
    backward({ em, node, shape, broadcastShape }, [dY]) {
      const x = node.input![0];
      const xs = shape(x);
      const count = xs.slice(2).reduce((a, b) => a * b, 1);
      return [expandTo(em, em.div(dY!, em.scalar(count)), [...xs.slice(0, 2), ...xs.slice(2).map(() => 1)], broadcastShape(x))];
    },
  },
};
