import { attrInt } from '../../rewriter/attributes';
import { normAxis } from '../op-forms';
import { RuleContext, RuleEntry } from '../types';

/** The axis, p and the norm n (kept) of a tensor along it. */
export function lpParts(ctx: RuleContext) {
  const { em, node } = ctx;
  const axis = normAxis(ctx, attrInt(node, 'axis', -1), ctx.shape(node.input![0]).length);
  const p = attrInt(node, 'p', 2);
  if (p !== 1 && p !== 2) ctx.fail(`p = ${p} (only 1 and 2 exist)`);
  const norm = (t: string) => (p === 1 ? em.reduceSum(em.op('Abs', [t]), [axis]) : em.op('Sqrt', [em.reduceSum(em.mul(t, t), [axis])]));
  return { axis, p, norm };
}

/**
 * y = x/n: dX = (g − d·Σ(g·y))/n with d = y for p = 2 (∂n/∂x = x/n) and sign(x) for p = 1; 0 for a
 * zero vector (its y is 0 and has no derivative; PyTorch's norm takes 0 there too).
 */
export const LpNormalization: RuleEntry = {
  opType: 'LpNormalization', since: 1, category: 'normalization',
  rule: {
    backward(ctx, [dY]) {
      const { em, node } = ctx;
      const [x, y] = [node.input![0], node.output![0]];
      const { axis, p, norm } = lpParts(ctx);
      const d = p === 2 ? y : em.sign(x);
      const n = norm(x);
      return [em.mul(em.div(em.sub(dY!, em.mul(d, em.reduceSum(em.mul(dY!, y), [axis]))), em.zeroAsOne(n)), em.mask('Greater', n, em.scalar(0)))];
    },
  },
};
