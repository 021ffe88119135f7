import { RuleEntry } from '../types';

/** dX = Expand(dY / (H·W), X's shape). */
export const GlobalAveragePool: RuleEntry = {
  opType: 'GlobalAveragePool', since: 1,
  rule: {
    backward({ em, node, shape, broadcastShape }, [dY]) {
      const x = node.input![0];
      const count = shape(x).slice(2).reduce((a, b) => a * b, 1);
      return [em.expand(em.div(dY!, em.scalar(count)), broadcastShape(x))];
    },
  },
};
