import { attrInt, attrString } from '../../rewriter/attributes';
import { rearrangeBack } from '../op-forms';
import { RuleEntry } from '../types';

/** [N, C, H, W] → [N, C/b², H·b, W·b] by the spec's reshape–transpose–reshape (DCR or CRD order). */
export const DepthToSpace: RuleEntry = {
  opType: 'DepthToSpace', since: 1, category: 'shape',
  rule: {
    backward(ctx, [dY]) {
      const [n, c, h, w] = ctx.shape(ctx.node.input![0]);
      const b = attrInt(ctx.node, 'blocksize', 1);
      if (attrString(ctx.node, 'mode', 'DCR') === 'CRD') return [rearrangeBack(ctx, dY!, [n, c / (b * b), b, b, h, w], [0, 1, 4, 2, 5, 3])];
      return [rearrangeBack(ctx, dY!, [n, b, b, c / (b * b), h, w], [0, 3, 4, 1, 5, 2])];
    },
  },
};
