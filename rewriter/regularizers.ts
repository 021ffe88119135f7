import { Emitter } from './emitter';

/** A regulariser's value per row ([N]) and its gradient (the input's shape), as emitted tensors. */
export interface Regularized { value: string; gradient: string }

/**
 * Lp term of Mahendran & Vedaldi (2015), as a mean so its weight does not depend on the input size,
 * times `weight`: R = w·mean |x|^p, ∂R/∂x = w·p·|x|^(p−1)·sign(x) / n, which for p ≥ 2 is
 * w·p·x·|x|^(p−2) / n (no sign needed; |x|^p = x·x|x|^(p−2)).
 */
export function lpNorm(em: Emitter, x: string, shape: number[], p: number, weight = 1): Regularized {
  const axes = shape.slice(1).map((_, k) => k + 1);
  const n = shape.slice(1).reduce((a, b) => a * b, 1);
  const scaled = (t: string, c: number) => em.mul(t, em.scalar(c));
  if (p >= 2) {
    const slope = p === 2 ? x : em.mul(x, em.op('Pow', [em.op('Abs', [x]), em.scalar(p - 2)]));
    return { value: scaled(em.reduceSum(em.mul(slope, x), axes, false), weight / n), gradient: scaled(slope, (weight * p) / n) };
  }
  const abs = em.op('Abs', [x]);
  const value = scaled(em.reduceSum(em.op('Pow', [abs, em.scalar(p)]), axes, false), weight / n);
  const slope = p === 1 ? em.sign(x) : em.mul(em.op('Pow', [abs, em.scalar(p - 1)]), em.sign(x));
  return { value, gradient: scaled(slope, (weight * p) / n) };
}

/**
 * Total variation of Mahendran & Vedaldi (2015), eq. 3, over the spatial axes of an [N, C, …]
 * input or a channels-last one (one or two; `axes` must be all of them), as a mean over the positions where every forward
 * difference exists, times `weight`: TV = w·mean_i (Σ_a d_a,i² + ε)^(β/2), d_a,i = x[i + e_a] − x[i].
 * The differences are one Conv of the channels folded into the batch ([N·C, 1, …]) with one ±1
 * kernel per axis, cropping to the common region by its size; with s_i the bracket and
 * c_i = w·β·s_i^(β/2 − 1)/n (a constant for β = 2), ∂TV/∂x = ConvTranspose(c ⊙ d) with the same
 * kernels (the Conv's adjoint).
 */
export function totalVariation(em: Emitter, x: string, shape: number[], axes: number[], beta: number, weight = 1, eps = 1e-8): Regularized {
  const rank = shape.length;
  if (axes.length === rank - 2 && axes.every((a, k) => a === k + 1)) {
    // Channels last ([N, H, W, C], tf2onnx's Keras images): the input moved to [N, C, H, W], the gradient moved back.
    const moved = totalVariation(em, em.transpose(x, [0, rank - 1, ...axes]), [shape[0], shape[rank - 1], ...shape.slice(1, -1)], axes.map((a) => a + 1), beta, weight, eps);
    return { value: moved.value, gradient: em.transpose(moved.gradient, [0, ...axes.map((a) => a + 1), 1]) };
  }
  const spatial = shape.slice(2);
  const m = spatial.length;
  if (m < 1 || m > 2 || axes.length !== m || axes.some((a, k) => a !== k + 2)) throw new Error(`total variation: axes [${axes}] must be all spatial axes (1 or 2) of an [N, C, …] or [N, …, C] input`);
  const channels = shape[1];
  const cropped = spatial.map((d) => d - 1);
  const n = channels * cropped.reduce((a, b) => a * b, 1);
  // Kernel a (output channel a, one input channel): −1 at the origin, +1 one step along axis a.
  const kernel = new Float32Array(m * 2 ** m);
  for (let a = 0; a < m; a++) {
    kernel[a * 2 ** m] = -1;
    kernel[a * 2 ** m + (m === 2 ? (a === 0 ? 2 : 1) : 1)] = 1;
  }
  const kernelDims = [m, 1, ...Array(m).fill(2)];
  const attrs = { kernel_shape: Array(m).fill(2), strides: Array(m).fill(1), pads: Array(2 * m).fill(0), dilations: Array(m).fill(1), group: 1 };
  const folded = em.reshape(x, [-1, 1, ...spatial]);
  const d = em.op('Conv', [folded, em.constFloat(kernel, kernelDims)], attrs);
  const squares = em.mul(d, d);
  const perRow = (t: string, size: number) => em.reduceSum(em.reshape(t, [-1, size]), [1], false);
  const adjoint = (t: string, scale: number) => em.reshape(em.op('ConvTranspose', [t, em.constFloat(kernel.map((v) => v * scale), kernelDims)], { ...attrs, output_padding: Array(m).fill(0) }), [-1, ...shape.slice(1)]);
  if (beta === 2) {
    // TV = w/n·Σ d², ∂TV/∂x = 2w/n·Dᵀd.
    return { value: em.mul(perRow(squares, n * m), em.scalar(weight / n)), gradient: adjoint(d, (2 * weight) / n) };
  }
  const s = em.add(em.reduceSum(squares, [1], true), em.scalar(eps));
  const value = em.mul(perRow(em.op('Pow', [s, em.scalar(beta / 2)]), n), em.scalar(weight / n));
  const c = em.op('Pow', [s, em.scalar(beta / 2 - 1)]);
  return { value, gradient: adjoint(em.mul(c, d), (weight * beta) / n) };
}
