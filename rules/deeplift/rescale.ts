import { isFloatType } from '../../rewriter/proto';
import { webgpuNative } from '../../rewriter/webgpu-ops';
import { gradientOf } from '../registry';
import { BackwardRule, RuleContext } from '../types';
import { midpoint, ratio } from './delta';

/**
 * The op's gradient w.r.t. input k at the midpoint (x + x⁰)/2. An op the WebGPU backends lack is
 * not emitted again for the midpoint: its gradient at x is used, which differs by O(|δx|) there;
 * nor is one on quantized integers, which have no midpoint (where they did not move it is x).
 */
function gradientAtMidpoint(ctx: RuleContext, dY: string, k: number): string {
  const { em, node } = ctx;
  if (node.op_type === 'Relu') {
    // relu'((x + x⁰)/2) = [x + x⁰ > 0]: the same as below, in two fewer full-size ops.
    const zero = em.scalar(0);
    return em.where(em.compare('Greater', em.add(node.input![0], ctx.ref(node.input![0])), zero), dY, zero);
  }
  const rule = gradientOf(ctx);
  if (!webgpuNative(node.op_type ?? '', ctx.opset) || node.domain || !isFloatType(ctx.dtype(node.input![k]))) return rule.backward(ctx, [dY])[k]!;
  const x = midpoint(em, node.input![k], ctx.ref(node.input![k]));
  const inputs = node.input!.map((t, i) => (i === k ? x : t));
  const y = em.copyOf(node, inputs);
  const standIn = { ...node, input: inputs, output: y };
  return rule.backward(ctx.withNode(standIn, { [x]: node.input![k], [y[0]]: node.output![0] }), [dY])[k]!;
}

/** Index of the one input on the path from the explained input (fails naming the node otherwise). */
export function activeInput(ctx: RuleContext, what: string): number {
  const active = ctx.node.input!.map((_, i) => i).filter((i) => ctx.needsGrad(i));
  if (active.length !== 1) ctx.fail(`${what} takes one input that depends on the explained input (found ${active.length})`);
  return active[0];
}

/**
 * Ops whose derivative is infinite at points where they are finite (Sqrt at 0, Pow with an exponent
 * below 1, Asin at ±1): an infinite gradient at the midpoint there multiplies δx = 0 (x = x⁰ at the
 * singular point, else the quotient is taken) and is taken as 0.
 */
const UNBOUNDED_SLOPE = new Set(['Sqrt', 'Pow', 'Asin', 'Acos', 'Acosh', 'Atanh', 'Log', 'Reciprocal', 'Tan']);

/**
 * Rescale rule for element-wise functions of one activation x (DeepLIFT §2.3), whichever operand x
 * is, the others constant (Relu(x), Max(x, c), Pow(x, c), Clip(x, lo, hi)): m = δy/δx, and the
 * gradient at the midpoint (x + x⁰)/2 where x barely moved (the limit of δy/δx; see
 * movedBeyondRounding). A constant operand that broadcasts x to a larger output is summed back by
 * the walk.
 */
export const rescale: BackwardRule = {
  broadcastInputs: 'all',
  backward(ctx, [dY]) {
    const { em, node } = ctx;
    const k = activeInput(ctx, 'the DeepLIFT rescale rule');
    const x = node.input![k];
    const [y] = node.output!;
    // Quantizers: δ of their integer tensors in float.
    const float = (t: string) => (isFloatType(ctx.dtype(t)) ? [t, ctx.ref(t)] : [t, ctx.ref(t)].map((v) => em.cast(v, em.floatType)));
    const [yf, y0f] = float(y);
    const [xf, x0f] = float(x);
    const { moved, ratio: r } = ratio(em, yf, y0f, xf, x0f);
    const mid = gradientAtMidpoint(ctx, dY!, k);
    const atMid = UNBOUNDED_SLOPE.has(node.op_type ?? '') ? em.where(em.compare('Less', em.op('Abs', [mid]), em.scalar(Infinity)), mid, em.scalar(0)) : mid;
    return node.input!.map((_, i) => (i === k ? em.where(moved, em.mul(dY!, r), atMid) : null));
  },
};
