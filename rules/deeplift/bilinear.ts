import { BackwardRule, RuleEntry } from '../types';
import { midpoint } from './delta';

/**
 * Products of activations (Mul, MatMul, Gemm, Einsum): the gradient rule with every activation
 * operand replaced by its midpoint (a + a⁰)/2. For y = a·b this is the element-wise product rule
 * m_a = b⁰ + δb/2, m_b = a⁰ + δa/2; for matrix products its bilinear form. Exact (Σ C = δy) for
 * two activation operands; with one the op is linear and keeps its gradient.
 */
export function bilinear({ opType, rule }: RuleEntry): BackwardRule {
  return {
    broadcastInputs: rule.broadcastInputs,
    backward(ctx, dY) {
      const { em, node } = ctx;
      // Gemm's C is added, not multiplied.
      const active = node.input!.filter((_, i) => ctx.needsGrad(i) && !(opType === 'Gemm' && i === 2)).length;
      if (active <= 1) return rule.backward(ctx, dY);
      if (active > 2) ctx.fail(`DeepLIFT's product rule takes two activations; this ${opType} has ${active} (feed constants as initializers)`);
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
