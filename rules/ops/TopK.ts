import { attrInt } from '../../rewriter/attributes';
import { normAxis } from '../op-forms';
import { RuleEntry } from '../types';

/**
 * Values output: dX = Σ_j dY_j·[x = y_j] along the axis, from the mask Equal(y with a new axis
 * after `axis`, x with one before it) of shape [.., k, n, ..]. Tied values each get the signal.
 */
export const TopK: RuleEntry = {
  opType: 'TopK', since: 1, category: 'selection',
  rule: {
    backward(ctx, [dY]) {
      const { em, node } = ctx;
      const x = node.input![0];
      const axis = normAxis(ctx, attrInt(node, 'axis', -1), ctx.shape(x).length);
      const hits = em.mask('Equal', em.unsqueeze(node.output![0], [axis + 1]), em.unsqueeze(x, [axis]));
      return [em.reduceSum(em.mul(hits, em.unsqueeze(dY!, [axis + 1])), [axis], false), null];
    },
  },
};
