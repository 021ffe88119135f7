import { attrInts } from '../../rewriter/attributes';
import { RuleEntry } from '../types';

/** dX = Transpose(dY) with the inverse permutation (the default perm reverses the axes). */
export const Transpose: RuleEntry = {
  opType: 'Transpose', since: 1, category: 'shape',
  rule: {
    backward(ctx, [dY]) {
      const rank = ctx.shape(ctx.node.input![0]).length;
      const perm = attrInts(ctx.node, 'perm') ?? Array.from({ length: rank }, (_, k) => rank - 1 - k);
      const inverse: number[] = [];
      perm.forEach((p, i) => { inverse[p] = i; });
      return [ctx.em.transpose(dY!, inverse)];
    },
  },
};
