import { softmaxAxes } from '../op-forms';
import { BackwardRule } from '../types';
import { delta, maximum, midpoint } from './delta';

/**
 * Softmax inside the network, in log space so that summation-to-delta holds and stays well
 * conditioned when the two passes differ a lot: y = exp(z) (rescale), z = x − L (linear),
 * L = c + log s (rescale), s = Σ e (linear), e = exp(x − c) (rescale). The shift c is shared by
 * both passes (the larger softmax-weighted mean, within log n of each pass's maximum); each pass's
 * L is computed with its own shift, so log s = L − c never underflows.
 */
export const deepliftSoftmax: BackwardRule = {
  backward(ctx, [dY]) {
    const { em, node } = ctx;
    const [x, y] = [node.input![0], node.output![0]];
    const [x0, y0] = [ctx.ref(x), ctx.ref(y)];
    const axes = softmaxAxes(ctx, ctx.shape(x).length);
    const weightedMean = (v: string, p: string) => em.reduceSum(em.mul(p, v), axes);
    const logSumExp = (v: string, shift: string) => em.add(shift, em.op('Log', [em.reduceSum(em.op('Exp', [em.sub(v, shift)]), axes)]));
    const [cx, cx0] = [weightedMean(x, y), weightedMean(x0, y0)];
    const [L, L0] = [logSumExp(x, cx), logSumExp(x0, cx0)];
    const c = maximum(em, cx, cx0);

    const [z, z0] = [em.sub(x, L), em.sub(x0, L0)];
    const dz = delta(em, z, z0);
    const gZ = em.mul(dY!, em.where(dz.small, em.op('Exp', [midpoint(em, z, z0)]), em.div(em.sub(y, y0), dz.dx)));
    const gL = em.neg(em.reduceSum(gZ, axes));

    const [logS, logS0] = [em.sub(L, c), em.sub(L0, c)];
    const [s, s0] = [em.op('Exp', [logS]), em.op('Exp', [logS0])];
    const ds = delta(em, s, s0);
    const gS = em.mul(gL, em.where(ds.small, em.op('Exp', [em.neg(midpoint(em, logS, logS0))]), em.div(em.sub(logS, logS0), ds.dx)));

    const [e, e0] = [em.op('Exp', [em.sub(x, c)]), em.op('Exp', [em.sub(x0, c)])];
    const dx = delta(em, x, x0);
    const ratioE = em.where(dx.small, em.op('Exp', [em.sub(midpoint(em, x, x0), c)]), em.div(em.sub(e, e0), dx.dx));
    return [em.add(gZ, em.mul(gS, ratioE))];
  },
};
