import { softmaxAxes } from '../op-forms';
import { RuleEntry } from '../types';

/** dX = Y·(dY − Σ(dY·Y)) over the normalised axes. */
export const Softmax: RuleEntry = {
  opType: 'Softmax', since: 1, category: 'normalization',
  rule: {
    backward(ctx, [dY]) {
      const { em, node } = ctx;
      const y = node.output![0];
      const axes = softmaxAxes(ctx, ctx.shape(node.input![0]).length);
      return [em.mul(y, em.sub(dY!, em.reduceSum(em.mul(dY!, y), axes, true)))];
    },
  },
};
