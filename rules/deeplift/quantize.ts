import { attrInt } from '../../rewriter/attributes';
import { Emitter } from '../../rewriter/emitter';
import { normAxis } from '../op-forms';
import { dynamicQuantization, dynamicScale } from '../quantization';
import { gradientOf } from '../registry';
import { BackwardRule } from '../types';
import { delta } from './delta';
import { rescale } from './rescale';

/** round(v), halves to even (QuantizeLinear's rounding) from Floor's native form. */
function roundHalfEven(em: Emitter, v: string): string {
  const up = em.floor(em.add(v, em.scalar(0.5)));
  const half = em.mask('Equal', em.sub(up, v), em.scalar(0.5));
  const odd = em.sub(up, em.mul(em.floor(em.mul(up, em.scalar(0.5))), em.scalar(2)));
  return em.sub(up, em.mul(half, odd));
}

/**
 * QuantizeLinear under DeepLIFT. With a constant scale it is an element-wise function of x: the
 * rescale rule on its integer values. With a scale s and zero point z computed from the input
 * (dynamic quantization, one per row from the row's extremes) they differ between the passes, so
 * the dequantized u = (q − z)·s may change where x does not (a BatchNormalization's constant output
 * for a dead unit, the [CLS] token a baseline keeps). δu splits exactly at ũ = s·round(x⁰/s), x⁰ on
 * x's scale: x carries u − ũ (m = (u − ũ)/δx; ũ = u where x barely moved), and the scale carries
 * Σ dU·(ũ − u⁰) over its row (m = that/δs), which the walk takes on to the row's extremes through the
 * scale's own ops (ReduceMax's max rule, …). ũ leaves out z, so ũ = u⁰ where s = s⁰ even when z moved
 * (the row's extremes shifted by the same amount; z only bounds the codes, and each pass's own z keeps
 * its row inside them); ũ = u⁰ where s moved only by rounding. DequantizeLinear keeps its gradient m = s for q (it is linear in q given s),
 * so the pair's multipliers sum to δu, and summation to delta holds through it.
 */
export const deepliftQuantize: BackwardRule = {
  broadcastInputs: [0],
  differentiates: [1],
  backward(ctx, dY) {
    if (!dynamicScale(ctx)) return rescale.backward(ctx, dY);
    const { em, node } = ctx;
    const [x, s] = node.input!;
    const [q] = node.output!;
    const onX = dynamicQuantization(ctx, q);
    const onRef = dynamicQuantization(ctx, q, (t) => ctx.ref(t));
    const dequantized = (codes: string, { scale, zeroPoint }: typeof onX) => em.mul(em.sub(em.cast(codes, em.floatType), zeroPoint), scale);
    const u = dequantized(q, onX);
    const u0 = dequantized(ctx.ref(q), onRef);
    const { moved, dx } = delta(em, x, ctx.ref(x));
    // Where s moved only by rounding, u⁰ itself (the scale then carries nothing, not rounding noise over a tiny δs).
    const rescaled = em.where(delta(em, onX.scale, onRef.scale).moved, em.mul(roundHalfEven(em, em.div(ctx.ref(x), onX.scale)), onX.scale), u0);
    const uTilde = em.where(moved, rescaled, u);
    // dY is dQ = s·dU (DequantizeLinear's gradient).
    const dU = em.div(dY[0]!, onX.scale);
    const atX = gradientOf(ctx).backward(ctx, dY)[0]!;
    const dX = em.where(moved, em.div(em.mul(dU, em.sub(u, uTilde)), dx), atX);
    if (!ctx.needsGrad(1)) return [dX, null, null];
    // Σ over the scale's row (every axis but QuantizeLinear's, or all for one scale).
    const rank = ctx.shape(x).length;
    const axis = ctx.shape(s).length === 1 && rank > 0 ? normAxis(ctx, attrInt(node, 'axis', 1), rank) : -1;
    const others = Array.from({ length: rank }, (_, k) => k).filter((k) => k !== axis);
    const perRow = (t: string) => (others.length ? em.reduceSum(t, others, false) : t);
    const scaleShare = perRow(em.mul(dU, em.sub(uTilde, u0)));
    // Not the gradient where s barely moved: its extremes may have moved far, each way (a mirrored baseline).
    const ds = delta(em, s, ctx.ref(s));
    return [dX, em.where(ds.moved, em.div(scaleShare, ds.dx), em.scalar(0)), null];
  },
};
