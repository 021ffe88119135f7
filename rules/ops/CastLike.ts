import { isFloatType } from '../../rewriter/proto';
import { RuleEntry } from '../types';

/** Cast to the type of the second input: dY passes through to a float type, nothing to others. */
export const CastLike: RuleEntry = {
  opType: 'CastLike', since: 15, category: 'shape',
  rule: { backward: (ctx, [dY]) => [isFloatType(ctx.dtype(ctx.node.input![1])) ? dY : null, null] },
};
