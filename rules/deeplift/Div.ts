import { gradientOf } from '../registry';
import { BackwardRule } from '../types';
import { delta, midpoint, productSplit } from './delta';

/**
 * y = a/b with b an activation, seen as a·r with r = 1/b: productSplit for a·r (the side with the
 * larger |b| scales δa: a LayerNorm decomposed by an exporter divides by √(v + ε), which is ε^½
 * on a constant reference row) and the rescale rule for r = 1/b (gradient −1/b_mid² where
 * b barely moved). A constant b keeps the linear rule.
 */
export const deepliftDiv: BackwardRule = {
  broadcastInputs: 'all',
  backward(ctx, dY) {
    const { em, node } = ctx;
    if (!ctx.needsGrad(1)) return gradientOf(ctx).backward(ctx, dY);
    const [a, b] = node.input!;
    const [a0, b0] = [ctx.ref(a), ctx.ref(b)];
    const r = em.op('Reciprocal', [b]);
    const r0 = em.op('Reciprocal', [b0]);
    const split = productSplit(em, a, a0, r, r0);
    const mA = ctx.needsGrad(0) ? em.mul(dY[0]!, split.ofA) : null;
    const mR = em.mul(dY[0]!, split.ofR);
    const { moved, dx } = delta(em, b, b0);
    const bMid = midpoint(em, b, b0);
    const limit = em.neg(em.div(mR, em.mul(bMid, bMid)));
    return [mA, em.where(moved, em.div(em.mul(mR, em.sub(r, r0)), dx), limit)];
  },
};
