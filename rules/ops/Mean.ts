import { RuleEntry } from '../types';

/** Each of the n inputs gets dY / n. */
export const Mean: RuleEntry = {
  opType: 'Mean', since: 1, category: 'linear',
  rule: {
    broadcastInputs: 'all',
    backward({ em, node, needsGrad }, [dY]) {
      const n = node.input!.length;
      const g = n === 1 ? dY! : em.mul(dY!, em.scalar(1 / n));
      return node.input!.map((_, i) => (needsGrad(i) ? g : null));
    },
  },
};
