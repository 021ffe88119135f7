import { gradientRules } from '../registry';
import { BackwardRule } from '../types';
import { midpoint } from './delta';

/**
 * Products of activations (Mul, MatMul, Gemm): the gradient rule with every activation operand
 * replaced by its midpoint (a + a⁰)/2. For y = a·b this is the element-wise product rule
 * m_a = b⁰ + δb/2, m_b = a⁰ + δa/2; for matrix products its bilinear form. Exact: Σ C = δy.
 */
export function bilinear(opType: string): BackwardRule {
  return {
    broadcastInputs: gradientRules.lookup(opType, 1000)?.broadcastInputs,
    backward(ctx, dY) {
      const { em, node } = ctx;
      const rule = gradientRules.lookup(opType, ctx.opset)!;
      const aliases: Record<string, string> = {};
      const inputs = node.input!.map((x, i) => {
        if (!ctx.needsGrad(i)) return x;
        const mid = midpoint(em, x, ctx.ref(x));
        aliases[mid] = x;
        return mid;
      });
      return rule.backward(ctx.withNode({ ...node, input: inputs }, aliases), dY);
    },
  };
}
