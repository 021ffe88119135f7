import { Emitter } from '../../rewriter/emitter';

/**
 * δx = x − x⁰ and the positions where |δx| < 1e-7 (`small`). Callers divide by δx freely and pick
 * the limit with Where(small, limit, quotient): Where selects, so an Inf/NaN quotient at a small
 * position never reaches the result.
 */
export function delta(em: Emitter, x: string, x0: string): { small: string; dx: string } {
  const dx = em.sub(x, x0);
  return { small: em.compare('Less', em.op('Abs', [dx]), em.scalar(1e-7)), dx };
}

/** DeepLIFT's δy/δx, with `small` marking where the caller takes the limit (the gradient) instead. */
export function ratio(em: Emitter, y: string, y0: string, x: string, x0: string): { small: string; ratio: string } {
  const { small, dx } = delta(em, x, x0);
  return { small, ratio: em.div(em.sub(y, y0), dx) };
}

/** (a + a⁰) / 2. */
export function midpoint(em: Emitter, a: string, a0: string): string {
  return em.mul(em.add(a, a0), em.scalar(0.5));
}

/** max(a, b) = a + relu(b − a) (Max is not available on every WebGPU backend). */
export function maximum(em: Emitter, a: string, b: string): string {
  return em.add(a, em.op('Relu', [em.sub(b, a)]));
}
