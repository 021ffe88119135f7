import { attrInt, attrInts } from '../../rewriter/attributes';
import { convGeometry, expandTo, windowSumBackward } from '../op-forms';
import { RuleContext, RuleEntry } from '../types';

/**
 * y = S^{1/p} with S = Σ_window u and u = |x|ᵖ: dX = m_u·(window sums' transpose of dY·m_S), given
 * the multipliers m_S of S (per window) and m_u of x. GlobalLpPool's one window is every position.
 */
export function lpPoolBack(ctx: RuleContext, dY: string, mS: string, mU: string): string {
  const { em, node } = ctx;
  const xs = ctx.shape(node.input![0]);
  if (node.op_type === 'GlobalLpPool') return em.mul(expandTo(em, em.mul(dY, mS), [...xs.slice(0, 2), ...xs.slice(2).map(() => 1)], ctx.broadcastShape(node.input![0])), mU);
  const kernel = attrInts(node, 'kernel_shape') ?? ctx.fail('kernel_shape is missing');
  return em.mul(windowSumBackward(em, em.mul(dY, mS), convGeometry(ctx, xs.slice(2), kernel), xs[1], xs.slice(2), ctx.shape(node.output![0]).slice(2)), mU);
}

/** dy/dS = y^{1−p}/p (0 where y is 0), du/dx = p·sign(x)·|x|^{p−1}. */
export const LpPool: RuleEntry = {
  opType: 'LpPool', since: 2, category: 'reduction',
  rule: {
    backward(ctx, [dY]) {
      const { em, node } = ctx;
      const [x, y] = [node.input![0], node.output![0]];
      const p = attrInt(node, 'p', 2);
      const zero = em.compare('Equal', y, em.scalar(0));
      const mS = em.where(zero, em.scalar(0), em.div(em.scalar(1 / p), em.op('Pow', [em.where(zero, em.scalar(1), y), em.scalar(p - 1)])));
      const mU = em.mul(em.sign(x), em.mul(em.scalar(p), em.op('Pow', [em.op('Abs', [x]), em.scalar(p - 1)])));
      return [lpPoolBack(ctx, dY!, mS, mU)];
    },
  },
};
