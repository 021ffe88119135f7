import { attrInt } from '../../rewriter/attributes';
import { gatherBack, normAxis, strides } from '../op-forms';
import { RuleEntry } from '../types';

/** out[i] = x[i with axis replaced by indices[i]]: the constant indices give each output's source. */
export const GatherElements: RuleEntry = {
  opType: 'GatherElements', since: 11, category: 'shape',
  rule: {
    backward(ctx, [dY]) {
      const [x, indices] = ctx.node.input!;
      const xs = ctx.shape(x);
      const axis = normAxis(ctx, attrInt(ctx.node, 'axis', 0), xs.length);
      const idx = ctx.requireConstant(indices, 'indices');
      const [is, xStrides] = [strides(idx.dims), strides(xs)];
      const source = idx.values.map((v, j) => xs.reduce((acc, _, k) => {
        const coord = k === axis ? (v < 0 ? v + xs[axis] : v) : Math.floor(j / is[k]) % idx.dims[k];
        return acc + coord * xStrides[k];
      }, 0));
      return [gatherBack(ctx, dY!, source), null];
    },
  },
};
