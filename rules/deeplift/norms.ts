import { groupNormParts } from '../ops/GroupNormalization';
import { lpParts } from '../ops/LpNormalization';
import { skipLayerNormParts } from '../ops/com.microsoft.SkipLayerNormalization';
import { BackwardRule } from '../types';
import { delta, midpoint, productSplit } from './delta';
import { normalization } from './normalization';
import { l1Multipliers, l2Multipliers } from './reduction';

/** GroupNormalization: the exact normalisation decomposition over each group of the reshaped input. */
export const deepliftGroupNormalization: BackwardRule = {
  backward(ctx, [dY]) {
    const { x, size, epsilon, scaled, grouped } = groupNormParts(ctx);
    const m = normalization(ctx, grouped(scaled(dY!)), [2], epsilon, grouped(x), grouped(ctx.ref(x)), size);
    return [ctx.reshapeLike(m, x), null, null];
  },
};

/**
 * LpNormalization y = x·ρ, ρ = 1/n: productSplit for x·ρ, rescale rule for ρ(n) (limit
 * −1/n_mid²), then n = Σ|x| or √Σx² as ReduceL1/ReduceL2. A zero vector (y = 0, as onnxruntime
 * computes it) takes ρ = 1: any finite value keeps x·ρ = 0, and the split stays exact.
 */
export const deepliftLpNormalization: BackwardRule = {
  backward(ctx, [dY]) {
    const { em, node } = ctx;
    const x = node.input![0];
    const x0 = ctx.ref(x);
    const { axis, p, norm } = lpParts(ctx);
    const [n, n0] = [norm(x), norm(x0)];
    const [rho, rho0] = [em.op('Reciprocal', [em.zeroAsOne(n)]), em.op('Reciprocal', [em.zeroAsOne(n0)])];
    const split = productSplit(em, x, x0, rho, rho0);
    const direct = em.mul(dY!, split.ofA);
    const mRho = em.reduceSum(em.mul(dY!, split.ofR), [axis]);
    const dn = delta(em, n, n0);
    const nMid = midpoint(em, n, n0);
    const mN = em.mul(mRho, em.where(dn.moved, em.div(em.sub(rho, rho0), dn.dx), em.neg(em.op('Reciprocal', [em.zeroAsOne(em.mul(nMid, nMid))]))));
    const viaNorm = p === 1 ? l1Multipliers(em, mN, x, x0) : l2Multipliers(em, mN, x, x0, n, n0);
    return [em.add(direct, viaNorm)];
  },
};

/** SkipLayerNormalization: the sum is linear, then the exact normalisation decomposition of s. */
export const deepliftSkipLayerNormalization: BackwardRule = {
  broadcastInputs: [1],
  backward(ctx, dY) {
    const { s, s0, axes, g, epsilon, passed } = skipLayerNormParts(ctx, dY);
    const n = ctx.shape(ctx.node.input![0]).slice(-1)[0];
    const m = normalization(ctx, g, axes, epsilon, s, s0(), n);
    const dS = passed ? ctx.em.add(m, passed) : m;
    return [ctx.needsGrad(0) ? dS : null, ctx.needsGrad(1) ? dS : null, null, null, null];
  },
};
