import { attrInt } from '../../rewriter/attributes';
import { rearrangeBack } from '../op-forms';
import { RuleEntry } from '../types';

/** [N, C, H, W] → [N, C·b², H/b, W/b] by the spec's reshape–transpose–reshape. */
export const SpaceToDepth: RuleEntry = {
  opType: 'SpaceToDepth', since: 1, category: 'shape',
  rule: {
    backward(ctx, [dY]) {
      const [n, c, h, w] = ctx.shape(ctx.node.input![0]);
      const b = attrInt(ctx.node, 'blocksize', 1);
      return [rearrangeBack(ctx, dY!, [n, c, h / b, b, w / b, b], [0, 3, 5, 1, 2, 4])];
    },
  },
};
