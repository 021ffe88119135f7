import { lrnParts, power } from '../ops/LRN';
import { BackwardRule } from '../types';
import { delta, midpoint } from './delta';

/**
 * LRN decomposed into exact steps: y = x·p (product rule), p = d^−β (rescale, limit
 * −β·d_mid^−β−1), d = bias + α/size·Σ_window s (linear), s = x² (δs/δx = x + x⁰ exactly).
 */
export const deepliftLRN: BackwardRule = {
  backward(ctx, [dY]) {
    const { em } = ctx;
    const { x, size, alpha, beta, windowSum, base } = lrnParts(ctx);
    const x0 = ctx.ref(x);
    const [d, d0] = [base(x), base(x0)];
    const [p, p0] = [power(em, d, -beta), power(em, d0, -beta)];
    const mP = em.mul(dY!, midpoint(em, x, x0));
    const dd = delta(em, d, d0);
    const limit = em.mul(em.scalar(-beta), power(em, midpoint(em, d, d0), -beta - 1));
    const mD = em.mul(mP, em.where(dd.moved, em.div(em.sub(p, p0), dd.dx), limit));
    const mS = em.mul(em.scalar(alpha / size), windowSum(mD, true));
    return [em.add(em.mul(dY!, midpoint(em, p, p0)), em.mul(mS, em.add(x, x0)))];
  },
};
