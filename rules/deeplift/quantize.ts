import { dynamicQuantization, dynamicScale } from '../quantization';
import { gradientOf } from '../registry';
import { BackwardRule } from '../types';
import { ratio } from './delta';
import { rescale } from './rescale';

/**
 * QuantizeLinear under DeepLIFT. With a constant scale it is an element-wise function of x: the
 * rescale rule on its integer values. With a scale and zero point computed from the input
 * (dynamic quantization, one per row) they differ between the passes, so q may change where x
 * does not: the multiplier is m = δu/δx / s, u = (q − zp)·s the dequantized value on each pass,
 * and DequantizeLinear keeps its gradient m = s (it is linear in q given s). The pair's multiplier
 * is then δu/δx and summation to delta holds through it (the gradient at x where x barely moved).
 */
export const deepliftQuantize: BackwardRule = {
  broadcastInputs: 'all',
  backward(ctx, dY) {
    if (!dynamicScale(ctx)) return rescale.backward(ctx, dY);
    const { em, node } = ctx;
    const [x] = node.input!;
    const [q] = node.output!;
    const [actual, reference] = [(t: string) => t, (t: string) => ctx.ref(t)].map((pass) => ({ pass, ...dynamicQuantization(ctx, q, pass) }));
    const dequantized = ({ pass, scale, zeroPoint }: typeof actual) => em.mul(em.sub(em.cast(pass(q), em.floatType), zeroPoint), scale);
    const { moved, ratio: r } = ratio(em, dequantized(actual), dequantized(reference), x, ctx.ref(x));
    const atX = gradientOf(ctx).backward(ctx, dY)[0]!;
    return [em.where(moved, em.mul(dY[0]!, em.div(r, actual.scale)), atX)];
  },
};
