import { scatterNDBack } from '../computed-indices';
import { RuleEntry } from '../types';

/**
 * data with the slices at the index tuples replaced by (or, reduction add, increased by) updates:
 * torch.onnx's slice assignment (h[:, 0] = v). The tuples, constant or computed (from the batch's
 * size), give a one-hot of the written positions.
 */
export const ScatterND: RuleEntry = {
  opType: 'ScatterND', since: 11, category: 'shape',
  rule: { backward: (ctx, [dY]) => scatterNDBack(ctx, dY!, ctx.node.input![1]) },
};
