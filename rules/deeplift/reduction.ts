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

/** y = Σ|x|: rescale rule for |x| (sign at the midpoint where |δx| < 1e-7), then linear. */
export const deepliftReduceL1 = reduction(({ em }, g, x, x0) => {
  const { small, dx } = delta(em, x, x0);
  const r = em.div(em.sub(em.op('Abs', [x]), em.op('Abs', [x0])), dx);
  return em.mul(g, em.where(small, em.sign(midpoint(em, x, x0)), r));
});

/**
 * y = √S, S = Σx²: rescale rule for the root, m_S = δy/δS (limit 1/(2√S_mid)), then
 * δ(x²)/δx = x + x⁰.
 */
export const deepliftReduceL2 = reduction((ctx, g, x, x0) => {
  const { em } = ctx;
  const { kept } = keptAxes(ctx);
  const [y, y0] = [kept(ctx.node.output![0]), kept(ctx.ref(ctx.node.output![0]))];
  const [s, s0] = [em.mul(y, y), em.mul(y0, y0)];
  const { small, dx } = delta(em, s, s0);
  const limit = em.div(em.scalar(0.5), em.op('Sqrt', [midpoint(em, s, s0)]));
  return em.mul(em.mul(g, em.where(small, limit, em.div(em.sub(y, y0), dx))), em.add(x, x0));
});

export const deepliftReduceProd: BackwardRule = {
  backward: (ctx) => ctx.fail('DeepLIFT has no rule for ReduceProd (a product of many activations); use gradient-based methods for this model'),
};
