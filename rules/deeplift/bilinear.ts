import { leggauss } from '../gauss-legendre';
import { multiplies } from '../op-forms';
import { BackwardRule, RuleEntry } from '../types';
import { midpoint } from './delta';

/**
 * Products of activations (Mul, MatMul, Gemm, Einsum): the gradient rule with every activation
 * operand replaced by its midpoint (a + a⁰)/2. For y = a·b this is the element-wise product rule
 * m_a = b⁰ + δb/2, m_b = a⁰ + δa/2; for matrix products its bilinear form. Exact (Σ C = δy) for
 * two activation operands; with one the op is linear and keeps its gradient.
 *
 * With n > 2 activation operands (an Einsum such as 'bld,blde,bl->ble') each operand's gradient is
 * a polynomial of degree n − 1 in t along x⁰ + t·δx, so Gauss–Legendre with ⌈n/2⌉ nodes on [0, 1]
 * integrates it exactly: m_i = ∫₀¹ ∂y/∂x_i(x⁰ + t·δx) dt, the factors' Shapley values (Aumann–
 * Shapley on a multilinear map), which Σ_i m_i·δx_i = δy by the fundamental theorem. For n = 2 it is
 * the midpoint above.
 */
export function bilinear({ opType, rule }: RuleEntry): BackwardRule {
  return {
    broadcastInputs: rule.broadcastInputs,
    backward(ctx, dY) {
      const { em, node } = ctx;
      const active = node.input!.filter((_, i) => ctx.needsGrad(i) && multiplies(opType, i)).length;
      if (active <= 1) return rule.backward(ctx, dY);
      const { nodes, weights } = leggauss(Math.ceil(active / 2));
      const at = (t: number) => {
        const aliases: Record<string, string> = {};
        const inputs = node.input!.map((x, i) => {
          if (!ctx.needsGrad(i)) return x;
          const x0 = ctx.ref(x);
          const point = t === 0.5 ? midpoint(em, x, x0) : em.add(x0, em.mul(em.sub(x, x0), em.scalar(t)));
          aliases[point] = x;
          return point;
        });
        return rule.backward(ctx.withNode({ ...node, input: inputs }, aliases), dY);
      };
      const points = nodes.map((x, k) => ({ grads: at((1 + x) / 2), weight: weights[k] / 2 }));
      if (points.length === 1) return points[0].grads;
      return points[0].grads.map((g, i) => g && points.map((p) => em.mul(p.grads[i]!, em.scalar(p.weight))).reduce((a, b) => em.add(a, b)));
    },
  };
}
