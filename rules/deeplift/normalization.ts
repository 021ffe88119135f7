import { attrFloat, attrInt } from '../../rewriter/attributes';
import { normAxis } from '../op-forms';
import { BackwardRule, RuleContext } from '../types';
import { BatchNormalization, perChannel, statisticsAxes, trainingMode } from '../ops/BatchNormalization';
import { delta, midpoint, productSplit } from './delta';

/**
 * y = γ·c·ρ + β with c = x − mean(x), v = mean(c²), ρ = (v + ε)^−½ over `axes`, decomposed:
 * linear centring, square (δ(c²)/δc = c + c⁰ exactly), linear mean, rescale for ρ(v)
 * (limit −½ρ³ at the midpoint) and productSplit for c·ρ (the midpoint split, where a reference
 * row is constant, gave random-init ConvNeXt-T convergence deltas of 1e4–7e4 for f(x) − f(x⁰) ≈ 1).
 * Σ C = δy exactly.
 */
export function normalization(ctx: RuleContext, g: string, axes: number[], epsilon: number, x = ctx.node.input![0], x0 = ctx.ref(x), n = axes.reduce((a, k) => a * ctx.shape(x)[k], 1)): string {
  const { em } = ctx;
  const pass = (t: string) => {
    const c = em.sub(t, em.reduceMean(t, axes));
    const v = em.reduceMean(em.mul(c, c), axes);
    const rho = (w: string) => em.op('Reciprocal', [em.op('Sqrt', [em.add(w, em.scalar(epsilon))])]);
    return { c, v, rho: rho(v), rhoAt: rho };
  };
  const p = pass(x);
  const p0 = pass(x0);
  const split = productSplit(em, p.c, p0.c, p.rho, p0.rho);
  let mC = em.mul(g, split.ofA);
  const mRho = em.reduceSum(em.mul(g, split.ofR), axes);
  const vDelta = delta(em, p.v, p0.v);
  const rhoMid = p.rhoAt(midpoint(em, p.v, p0.v));
  const limit = em.mul(mRho, em.mul(em.scalar(-0.5), em.mul(rhoMid, em.mul(rhoMid, rhoMid))));
  const mV = em.where(vDelta.moved, em.div(em.mul(mRho, em.sub(p.rho, p0.rho)), vDelta.dx), limit);
  mC = em.add(mC, em.mul(em.mul(mV, em.scalar(1 / n)), em.add(p.c, p0.c)));
  return em.sub(mC, em.reduceMean(mC, axes));
}

export const deepliftLayerNormalization: BackwardRule = {
  backward(ctx, dY) {
    const { node } = ctx;
    if (dY.slice(1).some(Boolean) || [1, 2].some((i) => ctx.needsGrad(i))) ctx.fail('DeepLIFT: only the normalised output of an input-independent LayerNormalization is supported');
    const rank = ctx.shape(node.input![0]).length;
    const axis = normAxis(ctx, attrInt(node, 'axis', -1), rank);
    const axes = Array.from({ length: rank - axis }, (_, k) => axis + k);
    return [normalization(ctx, ctx.em.mul(dY[0]!, node.input![1]), axes, attrFloat(node, 'epsilon', 1e-5))];
  },
};

export const deepliftInstanceNormalization: BackwardRule = {
  backward(ctx, [dY]) {
    const { em, node } = ctx;
    if ([1, 2].some((i) => ctx.needsGrad(i))) ctx.fail('DeepLIFT: scale and bias must be constant');
    const shape = ctx.shape(node.input![0]);
    const gamma = em.reshape(node.input![1], [shape[1], ...shape.slice(2).map(() => 1)]);
    const axes = shape.slice(2).map((_, k) => k + 2);
    return [normalization(ctx, em.mul(dY!, gamma), axes, attrFloat(node, 'epsilon', 1e-5))];
  },
};

/** Training mode: the normalisation over the statistics axes (batch and spatial, per channel); inference mode is linear. */
export const deepliftBatchNormalization: BackwardRule = {
  backward(ctx, dY) {
    const { em, node } = ctx;
    if (!trainingMode(node, ctx.opset)) return BatchNormalization.rule.backward(ctx, dY);
    if (dY.slice(1).some(Boolean) || [1, 2].some((i) => ctx.needsGrad(i))) return BatchNormalization.rule.backward(ctx, dY);
    return [normalization(ctx, em.mul(dY[0]!, perChannel(ctx, node.input![1])), statisticsAxes(ctx), attrFloat(node, 'epsilon', 1e-5)), null, null, null, null];
  },
};
