import { expOfNegativePart } from '../op-forms';
import { RuleEntry } from '../types';

/**
 * y = x·tanh(softplus x): dX = dY·(t + x·(1 − t²)·σ(x)), t = tanh(log(1 + eˣ)). With eˣ = a/b,
 * a = exp(min(x, 0)), b = exp(−max(x, 0)) (both in (0, 1]) and Q = a² + 2ab + 2b²:
 * t = a(a + 2b)/Q and (1 − t²)·σ(x) = 4ab²(a + b)/Q², with no cancellation or overflow (log(1 + eˣ)
 * rounds to 0 below x ≈ −17 and loses digits from x ≈ −8; onnxruntime's Sigmoid is 0 below −18).
 */
export const Mish: RuleEntry = {
  opType: 'Mish', since: 18, category: 'activation',
  rule: {
    backward({ em, node }, [dY]) {
      const x = node.input![0];
      const a = expOfNegativePart(em, x);
      const b = em.op('Exp', [em.neg(em.op('Relu', [x]))]);
      const ab = em.mul(a, b);
      const q = em.add(em.add(em.mul(a, a), em.mul(ab, em.scalar(2))), em.mul(em.mul(b, b), em.scalar(2)));
      const t = em.div(em.mul(a, em.add(a, em.mul(b, em.scalar(2)))), q);
      const slope = em.div(em.mul(em.mul(x, em.scalar(4)), em.mul(em.mul(ab, b), em.add(a, b))), em.mul(q, q));
      return [em.mul(dY!, em.add(t, slope))];
    },
  },
};
