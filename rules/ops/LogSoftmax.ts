import { softmaxAxes } from '../op-forms';
import { RuleEntry } from '../types';

/** dX = dY − exp(Y)·ΣdY over the normalised axes. */
export const LogSoftmax: RuleEntry = {
  opType: 'LogSoftmax', since: 1, category: 'normalization',
  rule: {
    backward(ctx, [dY]) {
      const { em, node } = ctx;
      const axes = softmaxAxes(ctx, ctx.shape(node.input![0]).length);
      return [em.sub(dY!, em.mul(em.op('Exp', [node.output![0]]), em.reduceSum(dY!, axes, true)))];
    },
  },
};
