import { Emitter } from '../../rewriter/emitter';
import { keptAxes } from '../op-forms';
import { BackwardRule, RuleContext } from '../types';
import { delta, midpoint, movedBeyondRounding } from './delta';

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

/** Multipliers of x for a signal g on n = Σ|x|: rescale rule for |x| (sign at the midpoint where x barely moved). */
export function l1Multipliers(em: Emitter, g: string, x: string, x0: string): string {
  const { moved, dx } = delta(em, x, x0);
  const r = em.div(em.sub(em.op('Abs', [x]), em.op('Abs', [x0])), dx);
  return em.mul(g, em.where(moved, r, em.sign(midpoint(em, x, x0))));
}

/**
 * Multipliers of x for a signal g on n = √S, S = Σx² (n, n⁰ given): rescale rule for the root,
 * m_S = δn/δS (limit 1/(2√S_mid); where x and x⁰ are both zero vectors x + x⁰ = 0, and the limit
 * is taken as 1/2 to stay finite), then δ(x²)/δx = x + x⁰.
 */
export function l2Multipliers(em: Emitter, g: string, x: string, x0: string, n: string, n0: string): string {
  const [s, s0] = [em.mul(n, n), em.mul(n0, n0)];
  const { moved, dx } = delta(em, s, s0);
  const sMid = midpoint(em, s, s0);
  const limit = em.div(em.scalar(0.5), em.op('Sqrt', [em.zeroAsOne(sMid)]));
  return em.mul(em.mul(g, em.where(moved, em.div(em.sub(n, n0), dx), limit)), em.add(x, x0));
}

export const deepliftReduceL1 = reduction(({ em }, g, x, x0) => l1Multipliers(em, g, x, x0));

export const deepliftReduceL2 = reduction((ctx, g, x, x0) => {
  const { kept } = keptAxes(ctx);
  return l2Multipliers(ctx.em, g, x, x0, kept(ctx.node.output![0]), kept(ctx.ref(ctx.node.output![0])));
});

/**
 * Exclusive running products along the last axis (length n) of a tensor of rank `rank`: ∏_{j<k} t_j,
 * or ∏_{j>k} t_j when `reverse` — a scan by doubling (Hillis & Steele), log₂ n Mul steps.
 */
function exclusiveProducts(em: Emitter, t: string, rank: number, n: number, reverse: boolean): string {
  const pads = (s: number) => Array.from({ length: 2 * rank }, (_, k) => (k === (reverse ? 2 * rank - 1 : rank - 1) ? s : 0));
  const shift = (u: string, s: number) => em.pad(reverse ? em.slice(u, [s], [n], [rank - 1]) : em.slice(u, [0], [n - s], [rank - 1]), pads(s), 1);
  let y = shift(t, 1);
  for (let s = 1; s < n; s *= 2) y = em.mul(y, shift(y, s));
  return y;
}

/**
 * y = Π_k x_k over the reduced elements (in row-major order): the product rule of two factors
 * (m₁ = (x₂ + x₂⁰)/2) extended to K. Either order of the telescoping sum
 * δy = Σ_k (Π_{j<k} x_j)·δx_k·(Π_{j>k} x⁰_j) is exact; the multipliers are the mean of the forward
 * and the reverse order, m_k = ½[Π_{j<k} x_j·Π_{j>k} x⁰_j + Π_{j<k} x⁰_j·Π_{j>k} x_j], which for
 * K = 2 is the paper's product rule.
 */
export const deepliftReduceProd = reduction((ctx, g, x, x0) => {
  const { em } = ctx;
  const shape = ctx.shape(x);
  const { axes } = keptAxes(ctx);
  const others = shape.map((_, k) => k).filter((k) => !axes.includes(k));
  const perm = [...others, ...axes];
  const n = axes.reduce((p, a) => p * shape[a], 1);
  // The reduced elements on one last axis: [kept axes (Reshape's 0 keeps the batch's), n].
  const flat = (t: string) => em.reshape(em.transpose(t, perm), [...others.map(() => 0), n]);
  const [f, f0] = [flat(x), flat(x0)];
  const r = others.length + 1;
  const m = em.mul(em.add(em.mul(exclusiveProducts(em, f, r, n, false), exclusiveProducts(em, f0, r, n, true)),
    em.mul(exclusiveProducts(em, f0, r, n, false), exclusiveProducts(em, f, r, n, true))), em.scalar(0.5));
  const back = em.transpose(em.reshape(m, [...others.map(() => 0), ...axes.map((a) => shape[a])]), perm.map((_, k) => perm.indexOf(k)));
  return em.mul(g, back);
});

/**
 * y = log S, S = Σx: the rescale rule for the log, m = δy/δS with δS = Σδx (limit 1/S at the
 * midpoint), reaching every x alike (S is linear in x).
 */
export const deepliftReduceLogSum = reduction((ctx, g, x, x0) => {
  const { em } = ctx;
  const { axes, kept } = keptAxes(ctx);
  const y = ctx.node.output![0];
  const [S, S0] = [em.reduceSum(x, axes), em.reduceSum(x0, axes)];
  const dS = em.reduceSum(em.sub(x, x0), axes);
  const moved = movedBeyondRounding(em, dS, S, S0);
  const limit = em.div(em.scalar(1), midpoint(em, S, S0));
  const m = em.where(moved, em.div(em.sub(kept(y), kept(ctx.ref(y))), dS), limit);
  // Spread over x's shape.
  return em.add(em.zerosLike(x), em.mul(g, m));
});
