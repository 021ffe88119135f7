import { attrInt } from '../../rewriter/attributes';
import { lpPoolBack } from '../ops/LpPool';
import { BackwardRule } from '../types';
import { midpoint, ratio } from './delta';

/**
 * LpPool as u = |x|ᵖ (rescale: δu/δx, limit p·sign·|x|^{p−1} at the midpoint), the window sums S
 * (linear) and y = S^{1/p} (rescale: δy/δS, limit S^{1/p−1}/p at the midpoint): Σ m·δx = Σ_w dY·δy.
 */
export const deepliftLpPool: BackwardRule = {
  backward(ctx, [dY]) {
    const { em, node } = ctx;
    const [x, y] = [node.input![0], node.output![0]];
    const [x0, y0] = [ctx.ref(x), ctx.ref(y)];
    const p = attrInt(node, 'p', 2);
    const power = (t: string) => em.op('Pow', [em.op('Abs', [t]), em.scalar(p)]);
    const [s, s0] = [power(y), power(y0)];
    const bySum = ratio(em, y, y0, s, s0);
    const sMid = midpoint(em, s, s0);
    const sLimit = em.where(em.compare('Equal', sMid, em.scalar(0)), em.scalar(0), em.div(em.op('Pow', [em.where(em.compare('Equal', sMid, em.scalar(0)), em.scalar(1), sMid), em.scalar(1 / p - 1)]), em.scalar(p)));
    const byX = ratio(em, power(x), power(x0), x, x0);
    const xMid = midpoint(em, x, x0);
    const xLimit = em.mul(em.sign(xMid), em.mul(em.scalar(p), em.op('Pow', [em.op('Abs', [xMid]), em.scalar(p - 1)])));
    return [lpPoolBack(ctx, dY!, em.where(bySum.moved, bySum.ratio, sLimit), em.where(byX.moved, byX.ratio, xLimit))];
  },
};
