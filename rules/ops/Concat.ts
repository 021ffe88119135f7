import { attrInt } from '../../rewriter/attributes';
import { normAxis } from '../op-forms';
import { RuleEntry } from '../types';

/** Each input's gradient is its slice of dY along the concatenation axis. */
export const Concat: RuleEntry = {
  opType: 'Concat', since: 1, category: 'shape',
  rule: {
    backward(ctx, [dY]) {
      const inputs = ctx.node.input!;
      const out = ctx.node.output![0];
      const axis = normAxis(ctx, attrInt(ctx.node, 'axis', 1), ctx.shape(out).length);
      if (axis === ctx.batchAxis(out)) ctx.fail('concatenation along the batch axis is not supported');
      let offset = 0;
      return inputs.map((x, i) => {
        const start = offset;
        offset += ctx.shape(x)[axis];
        return ctx.needsGrad(i) ? ctx.em.slice(dY!, [start], [offset], [axis]) : null;
      });
    },
  },
};
