import { RuleEntry } from '../types';

/** Y = x·clip(x/6 + 1/2, 0, 1): dX = 0 for x < −3, dY·(x/3 + 1/2) for −3 ≤ x ≤ 3, dY for x > 3 (PyTorch). */
export const HardSwish: RuleEntry = {
  opType: 'HardSwish', since: 14, category: 'activation',
  rule: {
    backward({ em, node }, [dY]) {
      const x = node.input![0];
      const three = em.scalar(3);
      const mid = em.mul(em.mask('GreaterOrEqual', x, em.scalar(-3)), em.mask('LessOrEqual', x, three));
      const slope = em.add(em.mul(mid, em.add(em.div(x, three), em.scalar(0.5))), em.mask('Greater', x, three));
      return [em.mul(dY!, slope)];
    },
  },
};
