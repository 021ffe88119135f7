import { softmaxAxes } from '../op-forms';
import { BackwardRule } from '../types';
import { delta, midpoint } from './delta';

/**
 * Softmax inside the network, decomposed so that summation-to-delta holds: e = exp(x − c)
 * (rescale rule; c = mean of x over the axes, shared by both passes), s = Σe (linear),
 * r = 1/s (rescale), y = e·r (product rule).
 */
export const deepliftSoftmax: BackwardRule = {
  backward(ctx, [dY]) {
    const { em, node } = ctx;
    const x = node.input![0];
    const x0 = ctx.ref(x);
    const axes = softmaxAxes(ctx, ctx.shape(x).length);
    const c = em.reduceMean(x, axes);
    const e = em.op('Exp', [em.sub(x, c)]);
    const e0 = em.op('Exp', [em.sub(x0, c)]);
    const s = em.reduceSum(e, axes);
    const s0 = em.reduceSum(e0, axes);
    const r = em.op('Reciprocal', [s]);
    const r0 = em.op('Reciprocal', [s0]);
    const mR = em.reduceSum(em.mul(dY!, midpoint(em, e, e0)), axes);
    const sDelta = delta(em, s, s0);
    const rMid = em.op('Reciprocal', [midpoint(em, s, s0)]);
    const mS = em.where(sDelta.small, em.neg(em.mul(mR, em.mul(rMid, rMid))), em.div(em.mul(mR, em.sub(r, r0)), sDelta.dx));
    const mE = em.add(em.mul(dY!, midpoint(em, r, r0)), mS);
    const xDelta = delta(em, x, x0);
    const eMid = em.op('Exp', [em.sub(midpoint(em, x, x0), c)]);
    return [em.where(xDelta.small, em.mul(mE, eMid), em.div(em.mul(mE, em.sub(e, e0)), xDelta.dx))];
  },
};
