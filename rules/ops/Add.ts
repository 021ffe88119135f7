import { RuleEntry } from '../types';

export const Add: RuleEntry = {
  opType: 'Add', since: 1,
  rule: { broadcastInputs: 'all', backward: (_ctx, [dY]) => [dY, dY] },
};
