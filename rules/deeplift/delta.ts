import { Emitter } from '../../rewriter/emitter';

/**
 * δx = x − x⁰ and the positions where it moved beyond float32 rounding at the operands' scale
 * (`moved`). Callers divide by δx freely and pick the limit with Where(moved, quotient, limit):
 * Where selects, so an Inf/NaN quotient where x barely moved never reaches the result. Where both
 * passes hold the same infinity (a −Inf attention mask), δx is NaN and not `moved` (Greater is
 * false for NaN at every opset, unlike GreaterOrEqual's form before opset 12): the limit is taken
 * there too.
 */
export function delta(em: Emitter, x: string, x0: string): { moved: string; dx: string } {
  const dx = em.sub(x, x0);
  return { moved: movedBeyondRounding(em, dx, x, x0), dx };
}

/**
 * |δx| > 1e-7·(|x| + |x⁰|): relative, so a network whose activations are all ~1e-10 (an untrained
 * one in eval mode) still takes δy/δx, where the gradient at the midpoint would lose δy across a
 * kink; at the scale of x the threshold is a few ulps, below which the quotient is rounding noise.
 */
export function movedBeyondRounding(em: Emitter, dx: string, x: string, x0: string): string {
  const scale = em.mul(em.add(em.op('Abs', [x]), em.op('Abs', [x0])), em.scalar(1e-7));
  return em.compare('Greater', em.op('Abs', [dx]), scale);
}

/** DeepLIFT's δy/δx, with `moved` false where the caller takes the limit (the gradient) instead. */
export function ratio(em: Emitter, y: string, y0: string, x: string, x0: string): { moved: string; ratio: string } {
  const { moved, dx } = delta(em, x, x0);
  return { moved, ratio: em.div(em.sub(y, y0), dx) };
}

/** (a + a⁰) / 2. */
export function midpoint(em: Emitter, a: string, a0: string): string {
  return em.mul(em.add(a, a0), em.scalar(0.5));
}

/**
 * An exact split δ(a·r) = r_s·δa + a_l·δr, per element: s is the side (x or x⁰) with the smaller
 * |r| and l the other side. Returns the factors of δa and of δr. Every term is then at most
 * |a·r| + 2|a⁰·r⁰| in size. The midpoint split r̄·δa + ā·δr (Shapley's) is exact too, but where one
 * side's r is huge (r = 1/σ of a row that is constant on the reference: ε^−½) its two terms are
 * huge, and they cancel only up to rounding, which a network's later layers amplify.
 */
export function productSplit(em: Emitter, a: string, a0: string, r: string, r0: string): { ofA: string; ofR: string } {
  const xSmaller = em.compare('LessOrEqual', em.op('Abs', [r]), em.op('Abs', [r0]));
  return { ofA: em.where(xSmaller, r, r0), ofR: em.where(xSmaller, a0, a) };
}

/** max(a, b) = a + relu(b − a) (Max is not available on every WebGPU backend). */
export function maximum(em: Emitter, a: string, b: string): string {
  return em.add(a, em.op('Relu', [em.sub(b, a)]));
}

/** min(a, b) = a − relu(a − b). */
export function minimum(em: Emitter, a: string, b: string): string {
  return em.sub(a, em.op('Relu', [em.sub(a, b)]));
}
