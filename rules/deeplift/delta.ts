import { Emitter } from '../../rewriter/emitter';

/** δx = x − x⁰ with the positions where |δx| < 1e-7 flagged (`small`) and set to 1 in `safe`. */
export function delta(em: Emitter, x: string, x0: string): { small: string; safe: string } {
  const dx = em.sub(x, x0);
  const small = em.compare('Less', em.op('Abs', [dx]), em.scalar(1e-7));
  return { small, safe: em.where(small, em.scalar(1), dx) };
}

/** DeepLIFT's δy/δx, with `small` marking where the caller takes the limit (the gradient) instead. */
export function ratio(em: Emitter, y: string, y0: string, x: string, x0: string): { small: string; ratio: string } {
  const { small, safe } = delta(em, x, x0);
  return { small, ratio: em.div(em.sub(y, y0), safe) };
}

/** (a + a⁰) / 2. */
export function midpoint(em: Emitter, a: string, a0: string): string {
  return em.mul(em.add(a, a0), em.scalar(0.5));
}

/** max(a, b) = a + relu(b − a) (Max is not available on every WebGPU backend). */
export function maximum(em: Emitter, a: string, b: string): string {
  return em.add(a, em.op('Relu', [em.sub(b, a)]));
}
