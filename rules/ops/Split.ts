import { attrInt } from '../../rewriter/attributes';
import { normAxis } from '../op-forms';
import { RuleEntry } from '../types';

/** dX = Concat of the output gradients (zeros for outputs without one) along the split axis. */
export const Split: RuleEntry = {
  opType: 'Split', since: 1, category: 'shape',
  rule: {
    backward(ctx, dY) {
      const { em, node } = ctx;
      const x = node.input![0];
      const axis = normAxis(ctx, attrInt(node, 'axis', 0), ctx.shape(x).length);
      if (axis === ctx.batchAxis(x)) ctx.fail('splitting along the batch axis is not supported');
      const parts = node.output!.map((o, k) => dY[k] ?? em.mul(o, em.scalar(0)));
      return [em.concat(parts, axis)];
    },
  },
};
