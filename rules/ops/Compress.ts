import { attrInt, hasAttr } from '../../rewriter/attributes';
import { normAxis, scatterAlongAxis } from '../op-forms';
import { RuleEntry } from '../types';

/**
 * The slices along `axis` (of x flattened without one) where the constant condition is true, in
 * order: each output slice goes back to its input position, the others get zero.
 */
export const Compress: RuleEntry = {
  opType: 'Compress', since: 9, category: 'shape',
  rule: {
    backward(ctx, [dY]) {
      const [x, condition] = ctx.node.input!;
      const xs = ctx.shape(x);
      const flat = !hasAttr(ctx.node, 'axis');
      const axis = flat ? 0 : normAxis(ctx, attrInt(ctx.node, 'axis', 0), xs.length);
      const length = flat ? xs.reduce((a, d) => a * d, 1) : xs[axis];
      if (!flat && ctx.batchAxis(x) === axis) ctx.fail('compressing the batch axis is not supported');
      const kept = ctx.requireConstant(condition, 'condition').values.slice(0, length).flatMap((c, k) => (c ? [k] : []));
      const g = scatterAlongAxis(ctx.em, dY!, axis, flat ? 1 : xs.length, kept, length);
      return [flat ? ctx.reshapeLike(g, x) : g, null];
    },
  },
};
