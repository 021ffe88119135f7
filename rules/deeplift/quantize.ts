import { attrInt } from '../../rewriter/attributes';
import { normAxis, roundHalfEven } from '../op-forms';
import { dynamicQuantization, dynamicScale } from '../quantization';
import { gradientOf } from '../registry';
import { BackwardRule } from '../types';
import { delta } from './delta';
import { rescale } from './rescale';

/**
 * QuantizeLinear under DeepLIFT. With a constant scale it is an element-wise function of x: the
 * rescale rule on its integer values. With a scale s and zero point z computed from the input
 * (dynamic quantization, one per row from the row's extremes) they differ between the passes, so
 * the dequantized u = (q − z)·s may change where x does not (a BatchNormalization's constant output
 * for a dead unit, the [CLS] token a baseline keeps). δu splits exactly at ũ = s·c, c = round(x⁰/s)
 * (x⁰ on x's scale; ũ = u, c = q − z where x barely moved): x carries u − ũ (m = (u − ũ)/δx), the
 * scale carries its share with the gradient Σ dU·c over its row as multiplier, which the walk takes
 * on to the row's extremes through the scale's own ops (ReduceMax's max rule, …), and what is left
 * of Σ dU·(ũ − u⁰) — codes on a rounding tie that a change of s or z flipped (a saturated Tanh's
 * ±1 puts −x_min/s on 127.5) — is shared among the row's elements in proportion to |δx|, as a
 * multiplier through a rounding-sized δs would amplify rounding. DequantizeLinear keeps its gradient
 * m = s for q (it is linear in q given s), so the pair's multipliers sum to δu, and summation to
 * delta holds through it.
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
    const codesOf = (t: string, { zeroPoint }: typeof onX) => em.sub(em.cast(t, em.floatType), zeroPoint);
    const u = em.mul(codesOf(q, onX), onX.scale);
    const u0 = em.mul(codesOf(ctx.ref(q), onRef), onRef.scale);
    const { moved, dx } = delta(em, x, ctx.ref(x));
    const codes = em.where(moved, roundHalfEven(em, em.div(ctx.ref(x), onX.scale)), codesOf(q, onX));
    const uTilde = em.mul(codes, onX.scale);
    // dY is dQ = s·dU (DequantizeLinear's gradient).
    const dU = em.div(dY[0]!, onX.scale);
    const atX = gradientOf(ctx).backward(ctx, dY)[0]!;
    const own = em.where(moved, em.div(em.mul(dU, em.sub(u, uTilde)), dx), atX);
    // Σ over the scale's row (every axis but QuantizeLinear's, or all for one scale), kept for broadcasting.
    const rank = ctx.shape(x).length;
    const axis = ctx.shape(s).length === 1 && rank > 0 ? normAxis(ctx, attrInt(node, 'axis', 1), rank) : -1;
    const others = Array.from({ length: rank }, (_, k) => k).filter((k) => k !== axis);
    const perRow = (t: string) => (others.length ? em.reduceSum(t, others, true) : t);
    const gradient = perRow(em.mul(dU, codes));
    const flipped = em.sub(perRow(em.mul(dU, em.sub(uTilde, u0))), em.mul(gradient, em.sub(onX.scale, onRef.scale)));
    const moves = perRow(em.op('Abs', [dx]));
    const spread = em.where(em.compare('Greater', moves, em.scalar(0)), em.div(em.mul(flipped, em.sign(dx)), moves), em.scalar(0));
    const dX = em.add(own, spread);
    // The scale's own shape: one per row along the axis, or one.
    return [dX, ctx.needsGrad(1) ? em.reshape(gradient, axis < 0 ? [] : [-1]) : null, null];
  },
};
