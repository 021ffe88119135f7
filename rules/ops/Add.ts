import { RuleEntry } from '../types';

export const Add: RuleEntry = {
  opType: 'Add', since: 1, category: 'linear',
  rule: { broadcastInputs: 'all', backward: (_ctx, [dY]) => [dY, dY] },
};
