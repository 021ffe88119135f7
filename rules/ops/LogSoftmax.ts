import { blend, softmaxAxes } from '../op-forms';
import { RuleEntry } from '../types';

/**
 * dX = dY − p·ΣdY over the normalised axes, p = exp(Y). At the entry whose p exceeds ½ (one at
 * most) this is written −Σ_{others} dY + ΣdY·Σ_{others} p: dY − p·ΣdY cancels there (1 − p was 0
 * for p > 1 − 6·10⁻⁸, a confident class).
 */
export const LogSoftmax: RuleEntry = {
  opType: 'LogSoftmax', since: 1, category: 'normalization',
  rule: {
    backward(ctx, [dY]) {
      const { em, node } = ctx;
      const axes = softmaxAxes(ctx, ctx.shape(node.input![0]).length);
      const p = em.op('Exp', [node.output![0]]);
      const total = em.reduceSum(dY!, axes, true);
      const confident = em.mask('Greater', p, em.scalar(0.5));
      const others = em.sub(em.scalar(1), confident);
      const top = em.add(em.neg(em.reduceSum(em.mul(dY!, others), axes, true)), em.mul(total, em.reduceSum(em.mul(p, others), axes, true)));
      return [blend(em, confident, top, em.sub(dY!, em.mul(p, total)))];
    },
  },
};
