import { attrInt } from '../../rewriter/attributes';
import { elementPositions, gatherBack, normAxis } from '../op-forms';
import { gatherElementsBackAt } from '../computed-indices';
import { RuleEntry } from '../types';

/**
 * out[i] = x[i with axis replaced by indices[i]]: constant indices give each output's source;
 * computed ones a one-hot at run time.
 */
export const GatherElements: RuleEntry = {
  opType: 'GatherElements', since: 11, category: 'shape',
  rule: {
    backward(ctx, [dY]) {
      const [x, indices] = ctx.node.input!;
      const xs = ctx.shape(x);
      const axis = normAxis(ctx, attrInt(ctx.node, 'axis', 0), xs.length);
      const idx = ctx.constant(indices);
      if (!idx) return [gatherElementsBackAt(ctx, dY!, indices), null];
      return [gatherBack(ctx, dY!, elementPositions(idx, xs, axis)), null];
    },
  },
};
