import { attrInt } from '../../rewriter/attributes';
import { RuleEntry } from '../types';

/** dX = dY masked to the kept triangle (j − i ≥ k for upper, ≤ k for lower, on the last two axes). */
export const Trilu: RuleEntry = {
  opType: 'Trilu', since: 14, category: 'shape',
  rule: {
    backward(ctx, [dY]) {
      const { em, node } = ctx;
      const s = ctx.shape(node.input![0]);
      const [n, m] = s.slice(-2);
      const k = node.input![1] ? ctx.requireConstant(node.input![1], 'k').values[0] : 0;
      const upper = attrInt(node, 'upper', 1) === 1;
      const mask = Array.from({ length: n * m }, (_, p) => {
        const d = (p % m) - Math.floor(p / m);
        return (upper ? d >= k : d <= k) ? 1 : 0;
      });
      return [em.mul(dY!, em.constFloat(mask, [n, m])), null];
    },
  },
};
