import { Emitter } from './emitter';

/** A regulariser's value per row ([N]) and its gradient (the input's shape), as emitted tensors. */
export interface Regularized { value: string; gradient: string }

/**
 * Lp term of Mahendran & Vedaldi (2015), as a mean so its weight does not depend on the input size:
 * R = mean |x|^p, ∂R/∂x = p·|x|^(p−1)·sign(x) / n.
 */
export function lpNorm(em: Emitter, x: string, shape: number[], p: number): Regularized {
  const axes = shape.slice(1).map((_, k) => k + 1);
  const n = shape.slice(1).reduce((a, b) => a * b, 1);
  const abs = em.op('Abs', [x]);
  const value = em.mul(em.reduceSum(em.op('Pow', [abs, em.scalar(p)]), axes, false), em.scalar(1 / n));
  const slope = p === 1 ? em.sign(x) : em.mul(em.op('Pow', [abs, em.scalar(p - 1)]), em.sign(x));
  return { value, gradient: em.mul(slope, em.scalar(p / n)) };
}

/**
 * Total variation of Mahendran & Vedaldi (2015), eq. 3, over the given axes (the image's spatial
 * axes), as a mean over the positions where every forward difference exists:
 * TV = mean_i (Σ_a (x[i + e_a] − x[i])² + ε)^(β/2). With s_i the bracket and w_i = β·s_i^(β/2 − 1),
 * ∂TV/∂x[i + e_a] += w_i·d_a,i / n and ∂TV/∂x[i] −= w_i·Σ_a d_a,i / n.
 */
export function totalVariation(em: Emitter, x: string, shape: number[], axes: number[], beta: number, eps = 1e-8): Regularized {
  const rank = shape.length;
  const ends = axes.map((a) => shape[a] - 1);
  // Forward difference along axis a, cropped to the common region [0, size − 1) on every TV axis.
  const diffs = axes.map((a) => {
    const ahead = em.slice(x, axes.map((b) => (b === a ? 1 : 0)), axes.map((b, k) => (b === a ? shape[b] : ends[k])), axes);
    const here = em.slice(x, axes.map(() => 0), ends, axes);
    return em.sub(ahead, here);
  });
  const s = em.add(em.sum(diffs.map((d) => em.mul(d, d))), em.scalar(eps));
  const n = ends.reduce((a, b) => a * b, 1) * shape.slice(1).filter((_, k) => !axes.includes(k + 1)).reduce((a, b) => a * b, 1);
  const rowAxes = shape.slice(1).map((_, k) => k + 1);
  const value = em.mul(em.reduceSum(em.op('Pow', [s, em.scalar(beta / 2)]), rowAxes, false), em.scalar(1 / n));
  const w = beta === 2 ? em.scalar(2 / n) : em.mul(em.op('Pow', [s, em.scalar(beta / 2 - 1)]), em.scalar(beta / n));
  // pads = [begin_0..begin_{r−1}, end_0..end_{r−1}]: shift by one along `shifted`, fill the rest with zeros.
  const pads = (shifted: number | undefined) => {
    const p = Array(2 * rank).fill(0);
    for (const b of axes) {
      if (b === shifted) p[b] = 1;
      else p[b + rank] = 1;
    }
    return p;
  };
  const parts = diffs.map((d, k) => em.pad(em.mul(w, d), pads(axes[k])));
  parts.push(em.neg(em.pad(em.mul(w, em.sum(diffs)), pads(undefined))));
  return { value, gradient: em.sum(parts) };
}
