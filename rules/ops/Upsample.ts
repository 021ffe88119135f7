import { attrFloats, attrString } from '../../rewriter/attributes';
import { resizeBackward } from '../interpolation';
import { RuleEntry } from '../types';

/** Upsample (7–9): asymmetric coordinates, truncating nearest; scales as attribute (7) or input (9). */
export const Upsample: RuleEntry = {
  opType: 'Upsample', since: 7, category: 'linear',
  rule: {
    backward(ctx, [dY]) {
      const { node } = ctx;
      const scales = attrFloats(node, 'scales') ?? ctx.requireConstant(node.input![1] ?? '', 'scales').values;
      return [resizeBackward(ctx, dY!, scales, { mode: attrString(node, 'mode', 'nearest'), coord: 'asymmetric', nearest: '' })];
    },
  },
};
