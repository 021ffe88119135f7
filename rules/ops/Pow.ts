import { RuleEntry } from '../types';

/** Y = A^B: dA = dY·B·A^(B−1), dB = dY·Y·ln(A) (0 where A = 0, as PyTorch). */
export const Pow: RuleEntry = {
  opType: 'Pow', since: 1, category: 'elementwise',
  rule: {
    broadcastInputs: 'all',
    backward(ctx, [dY]) {
      const { em, node, needsGrad } = ctx;
      const [a, b] = node.input!;
      let dA: string | null = null;
      if (needsGrad(0)) {
        const p = needsGrad(1) ? undefined : ctx.constant(b);
        // A constant exponent is folded; where p = 0 the power A^0 keeps 0·A^(−1) from giving NaN at A = 0.
        const scale = p ? em.constFloat(p.values, p.dims) : em.cast(b, em.floatType);
        const power = p ? em.constFloat(p.values.map((v) => (v === 0 ? 0 : v - 1)), p.dims) : em.sub(scale, em.scalar(1));
        dA = em.mul(em.mul(dY!, scale), em.op('Pow', [a, power]));
      }
      const dB = needsGrad(1)
        ? em.mul(em.mul(dY!, node.output![0]), em.op('Log', [em.zeroAsOne(a)]))
        : null;
      return [dA, dB];
    },
  },
};
