import { Emitter } from './emitter';

/** Standard-op forms of the normalisations fused ops compute, shared by their readings. */

/** (x − mean)/√(var + ε)·γ + β over the last axis, in ops every opset has. */
export function layerNorm(em: Emitter, x: string, gamma: string, beta: string, epsilon: number): string {
  const centred = em.sub(x, em.reduceMean(x, [-1]));
  const variance = em.reduceMean(em.mul(centred, centred), [-1]);
  return em.add(em.mul(em.div(centred, em.op('Sqrt', [em.add(variance, em.scalar(epsilon))])), gamma), beta);
}

/** √(mean(x², axes) + ε), the reduced axes kept. */
export function rootMeanSquare(em: Emitter, x: string, axes: number[], epsilon: number): string {
  return em.op('Sqrt', [em.add(em.reduceMean(em.mul(x, x), axes), em.scalar(epsilon))]);
}

/** x / √(mean(x², axes) + ε) · scale. */
export function rootMeanSquareNorm(em: Emitter, x: string, scale: string, axes: number[], epsilon: number): string {
  return em.mul(em.div(x, rootMeanSquare(em, x, axes, epsilon)), scale);
}
