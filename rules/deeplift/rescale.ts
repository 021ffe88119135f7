import { ExplainError } from '../../rewriter/errors';
import { WEBGPU_NATIVE } from '../../rewriter/webgpu-ops';
import { gradientRules } from '../registry';
import { BackwardRule, RuleContext } from '../types';
import { midpoint, ratio } from './delta';

/**
 * The op's gradient at the midpoint (x + x⁰)/2. An op the WebGPU backends lack is not emitted
 * again for the midpoint: its gradient at x is used, which differs by O(|δx|) < 1e-7 there.
 */
function gradientAtMidpoint(ctx: RuleContext, dY: string): string {
  const { em, node } = ctx;
  if (node.op_type === 'Relu') {
    // relu'((x + x⁰)/2) = [x + x⁰ > 0]: the same as below, in two fewer full-size ops.
    const zero = em.scalar(0);
    return em.where(em.compare('Greater', em.add(node.input![0], ctx.ref(node.input![0])), zero), dY, zero);
  }
  const rule = gradientRules.lookup(node.op_type ?? '', ctx.opset);
  if (!rule) throw new ExplainError(`no gradient rule for ${node.op_type}`);
  if (!WEBGPU_NATIVE.has(node.op_type ?? '')) return rule.backward(ctx, [dY])[0]!;
  const x = midpoint(em, node.input![0], ctx.ref(node.input![0]));
  const inputs = [x, ...node.input!.slice(1)];
  const y = em.copyOf(node, inputs);
  const standIn = { ...node, input: inputs, output: y };
  return rule.backward(ctx.withNode(standIn, { [x]: node.input![0], [y[0]]: node.output![0] }), [dY])[0]!;
}

/**
 * Rescale rule for element-wise nonlinearities (DeepLIFT §2.3): m = δy/δx, and the gradient at the
 * midpoint (x + x⁰)/2 where |δx| < 1e-7 (the limit of δy/δx).
 */
export const rescale: BackwardRule = {
  backward(ctx, [dY]) {
    const { em, node } = ctx;
    if (node.input!.some((_, i) => i > 0 && ctx.needsGrad(i))) ctx.fail('DeepLIFT rescale rule needs inputs after the first to be constant');
    const [x] = node.input!;
    const [y] = node.output!;
    const { small, ratio: r } = ratio(em, y, ctx.ref(y), x, ctx.ref(x));
    const atMid = gradientAtMidpoint(ctx, dY!);
    return [em.where(small, atMid, em.mul(dY!, r))];
  },
};
