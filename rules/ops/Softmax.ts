import { softmaxAxes } from '../op-forms';
import { RuleEntry } from '../types';

/**
 * dX = Y·(dY − Σ(dY·Y)) over the normalised axes, with dY shifted first by its value c at the entry
 * whose Y exceeds ½ (one at most): Y·((dY − c) − Σ((dY − c)·Y)) is the same (ΣY = 1), but at that
 * entry dY − Σ(dY·Y) no longer cancels — p(1 − p) was 0 for p > 1 − 6·10⁻⁸ (a confident class).
 */
export const Softmax: RuleEntry = {
  opType: 'Softmax', since: 1, category: 'normalization',
  rule: {
    backward(ctx, [dY]) {
      const { em, node } = ctx;
      const y = node.output![0];
      const axes = softmaxAxes(ctx, ctx.shape(node.input![0]).length);
      const shifted = em.sub(dY!, em.reduceSum(em.mul(dY!, em.mask('Greater', y, em.scalar(0.5))), axes, true));
      return [em.mul(y, em.sub(shifted, em.reduceSum(em.mul(shifted, y), axes, true)))];
    },
  },
};
