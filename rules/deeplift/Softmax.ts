import { attrInt } from '../../rewriter/attributes';
import { reduceAxes, softmaxAxes } from '../op-forms';
import { BackwardRule, RuleContext } from '../types';
import { delta, maximum, midpoint } from './delta';

/**
 * L = log Σ exp(x) over `axes` (kept) on both passes, given the softmax p (p⁰) of each pass, and the exact multipliers of x for a signal
 * gL on L: L = c + log s (rescale), s = Σ e (linear), e = exp(x − c) (rescale). The shift c is
 * shared by both passes (the larger softmax-weighted mean, within log n of each pass's maximum);
 * each pass's L is computed with its own shift, so log s = L − c never underflows. s is the sum of
 * the very e that carry the contributions (not exp(L − c), which differs from it by the rounding
 * of x − c: 10⁻³ relative at |x| = 10⁴, multiplied by δL/δs where the passes are far apart).
 */
function logSumExp(ctx: RuleContext, x: string, axes: number[], p: string, p0: string) {
  const { em } = ctx;
  const x0 = ctx.ref(x);
  const lse = (v: string, shift: string) => em.add(shift, em.op('Log', [em.reduceSum(em.op('Exp', [em.sub(v, shift)]), axes)]));
  // Σ p·x with p = 0 counted as 0: a masked score x = −Inf has p = 0, and 0·(−Inf) is NaN.
  const zero = em.scalar(0);
  const mean = (q: string, v: string) => em.reduceSum(em.where(em.compare('Greater', q, zero), em.mul(q, v), zero), axes);
  const [cx, cx0] = [mean(p, x), mean(p0, x0)];
  const [L, L0] = [lse(x, cx), lse(x0, cx0)];
  const back = (gL: string): string => {
    const c = maximum(em, cx, cx0);
    const [logS, logS0] = [em.sub(L, c), em.sub(L0, c)];
    const [e, e0] = [em.op('Exp', [em.sub(x, c)]), em.op('Exp', [em.sub(x0, c)])];
    const ds = delta(em, em.reduceSum(e, axes), em.reduceSum(e0, axes));
    const gS = em.mul(gL, em.where(ds.moved, em.div(em.sub(logS, logS0), ds.dx), em.op('Exp', [em.neg(midpoint(em, logS, logS0))])));
    const dx = delta(em, x, x0);
    return em.mul(gS, em.where(dx.moved, em.div(em.sub(e, e0), dx.dx), em.op('Exp', [em.sub(midpoint(em, x, x0), c)])));
  };
  return { L, L0, back };
}

/** Softmax and LogSoftmax as z = x − L (linear) in log space, Softmax adding y = exp(z) (rescale). */
function logSpace(ctx: RuleContext, g: string, softmax: boolean): string {
  const { em, node } = ctx;
  const [x, y] = [node.input![0], node.output![0]];
  const axes = softmaxAxes(ctx, ctx.shape(x).length);
  const [p, p0] = softmax ? [y, ctx.ref(y)] : [em.op('Exp', [y]), em.op('Exp', [ctx.ref(y)])];
  const { L, L0, back } = logSumExp(ctx, x, axes, p, p0);
  let gZ = g;
  if (softmax) {
    const [z, z0] = [em.sub(x, L), em.sub(ctx.ref(x), L0)];
    const dz = delta(em, z, z0);
    gZ = em.mul(g, em.where(dz.moved, em.div(em.sub(y, ctx.ref(y)), dz.dx), em.op('Exp', [midpoint(em, z, z0)])));
  }
  return em.add(gZ, back(em.neg(em.reduceSum(gZ, axes))));
}

/** Softmax inside the network: well conditioned when the two passes differ a lot; Σ C = δy. */
export const deepliftSoftmax: BackwardRule = { backward: (ctx, [dY]) => [logSpace(ctx, dY!, true)] };

export const deepliftLogSoftmax: BackwardRule = { backward: (ctx, [dY]) => [logSpace(ctx, dY!, false)] };

/** ReduceLogSumExp: the signal on L goes through the log-space decomposition above. */
export const deepliftReduceLogSumExp: BackwardRule = {
  backward(ctx, [dY]) {
    const { em, node } = ctx;
    const x = node.input![0];
    const axes = reduceAxes(ctx, ctx.shape(x).length).sort((a, b) => a - b);
    const kept = (t: string) => (attrInt(node, 'keepdims', 1) ? t : em.unsqueeze(t, axes));
    const y = node.output![0];
    const softmaxOf = (v: string, l: string) => em.op('Exp', [em.sub(v, kept(l))]);
    return [logSumExp(ctx, x, axes, softmaxOf(x, y), softmaxOf(ctx.ref(x), ctx.ref(y))).back(kept(dY!)), null];
  },
};
