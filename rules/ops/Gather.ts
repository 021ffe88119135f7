import { attrInt } from '../../rewriter/attributes';
import { normAxis, scatterAlongAxis } from '../op-forms';
import { gatherBackAt } from '../computed-indices';
import { RuleEntry } from '../types';

/**
 * dX: dY with the index axes collapsed into one, scattered back to the gathered positions (a
 * one-hot built at run time when the indices are computed, e.g. from token ids).
 */
export const Gather: RuleEntry = {
  opType: 'Gather', since: 1, category: 'shape',
  rule: {
    backward(ctx, [dY]) {
      const { em, node } = ctx;
      if (!ctx.needsGrad(0)) return [null, null];
      const [x, indices] = node.input!;
      const idx = ctx.constant(indices)?.values;
      if (!idx) return [gatherBackAt(ctx, dY!, indices), null];
      const xs = ctx.shape(x);
      const axis = normAxis(ctx, attrInt(node, 'axis', 0), xs.length);
      const b = ctx.batchAxis(x);
      if (axis === b) ctx.fail('constant indices along the batch axis pick rows of the batch, which is not supported');
      const map = idx.map((i) => (i < 0 ? i + xs[axis] : i));
      const collapsed = xs.map((d, k) => (k === axis ? map.length : k === b ? -1 : d));
      const out = ctx.shape(node.output![0]);
      const sameShape = out.length === collapsed.length && out.every((d, k) => d === collapsed[k] || k === b);
      const g = sameShape ? dY! : em.reshape(dY!, collapsed);
      return [scatterAlongAxis(em, g, axis, xs.length, map, xs[axis]), null];
    },
  },
};
