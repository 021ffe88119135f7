import { attrInts } from '../../rewriter/attributes';
import { RuleEntry } from '../types';

/**
 * y.flat[I.flat[j]] = x.flat[j], the indices (MaxPool's) counted over the whole tensor, batch
 * and channels included: dX.flat[j] = dY.flat[I.flat[j]], a GatherElements on the flattened tensors
 * (windows that do not overlap: each index written once).
 */
export const MaxUnpool: RuleEntry = {
  opType: 'MaxUnpool', since: 9, category: 'shape',
  rule: {
    backward(ctx, [dY]) {
      const { em, node } = ctx;
      const [x, indices] = node.input!;
      if (ctx.opset < 11) ctx.fail('its backward pass needs opset 11 or later (GatherElements)');
      // Overlapping windows can pick one element twice: the output keeps one write, dY would go to both.
      const kernel = attrInts(node, 'kernel_shape') ?? [];
      const strides = attrInts(node, 'strides') ?? kernel.map(() => 1);
      if (kernel.some((k, i) => (strides[i] ?? 1) < k)) ctx.fail(`its windows overlap (kernel ${kernel}, strides ${strides}): one input may be written twice, and the gradient would count it twice`);
      const picked = em.op('GatherElements', [em.reshape(dY!, [-1]), em.reshape(indices, [-1])], { axis: 0 });
      return [ctx.reshapeLike(picked, x), null, null];
    },
  },
};
