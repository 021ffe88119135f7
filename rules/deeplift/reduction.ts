import { Emitter } from '../../rewriter/emitter';
import { keptAxes } from '../op-forms';
import { BackwardRule, RuleContext } from '../types';
import { delta, midpoint } from './delta';

/** A rule from the multipliers of x given the signal with the reduced axes restored. */
function reduction(multiplier: (ctx: RuleContext, g: string, x: string, x0: string) => string): BackwardRule {
  return {
    backward(ctx, [dY]) {
      const x = ctx.node.input![0];
      return [multiplier(ctx, keptAxes(ctx).kept(dY!), x, ctx.ref(x)), null];
    },
  };
}

/** y = Σx²: δ(x²)/δx = x + x⁰ exactly. */
export const deepliftReduceSumSquare = reduction(({ em }, g, x, x0) => em.mul(g, em.add(x, x0)));

/** Multipliers of x for a signal g on n = Σ|x|: rescale rule for |x| (sign at the midpoint where |δx| < 1e-7). */
export function l1Multipliers(em: Emitter, g: string, x: string, x0: string): string {
  const { moved, dx } = delta(em, x, x0);
  const r = em.div(em.sub(em.op('Abs', [x]), em.op('Abs', [x0])), dx);
  return em.mul(g, em.where(moved, r, em.sign(midpoint(em, x, x0))));
}

/**
 * Multipliers of x for a signal g on n = √S, S = Σx² (n, n⁰ given): rescale rule for the root,
 * m_S = δn/δS (limit 1/(2√S_mid)), then δ(x²)/δx = x + x⁰.
 */
export function l2Multipliers(em: Emitter, g: string, x: string, x0: string, n: string, n0: string): string {
  const [s, s0] = [em.mul(n, n), em.mul(n0, n0)];
  const { moved, dx } = delta(em, s, s0);
  const limit = em.div(em.scalar(0.5), em.op('Sqrt', [midpoint(em, s, s0)]));
  return em.mul(em.mul(g, em.where(moved, em.div(em.sub(n, n0), dx), limit)), em.add(x, x0));
}

export const deepliftReduceL1 = reduction(({ em }, g, x, x0) => l1Multipliers(em, g, x, x0));

export const deepliftReduceL2 = reduction((ctx, g, x, x0) => {
  const { kept } = keptAxes(ctx);
  return l2Multipliers(ctx.em, g, x, x0, kept(ctx.node.output![0]), kept(ctx.ref(ctx.node.output![0])));
});

export const deepliftReduceProd: BackwardRule = {
  backward: (ctx) => ctx.fail('DeepLIFT has no rule for ReduceProd (a product of many activations); use gradient-based methods for this model'),
};

/**
 * y = log S, S = Σx: the rescale rule for the log, m = δy/δS with δS = Σδx (limit 1/S at the
 * midpoint), reaching every x alike (S is linear in x).
 */
export const deepliftReduceLogSum = reduction((ctx, g, x, x0) => {
  const { em } = ctx;
  const { axes, kept } = keptAxes(ctx);
  const y = ctx.node.output![0];
  const dS = em.reduceSum(em.sub(x, x0), axes);
  const moved = em.compare('Greater', em.op('Abs', [dS]), em.scalar(1e-7));
  const limit = em.div(em.scalar(1), midpoint(em, em.reduceSum(x, axes), em.reduceSum(x0, axes)));
  const m = em.where(moved, em.div(em.sub(kept(y), kept(ctx.ref(y))), dS), limit);
  // Spread over x's shape.
  return em.add(em.zerosLike(x), em.mul(g, m));
});
