import { RuleEntry } from '../types';

/** The walk sums dY back over the expanded axes. */
export const Expand: RuleEntry = {
  opType: 'Expand', since: 8, category: 'shape',
  rule: { broadcastInputs: [0], backward: (_ctx, [dY]) => [dY, null] },
};
