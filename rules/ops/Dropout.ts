import { RuleEntry } from '../types';

/** Identity at inference; output 1 (the mask) and inputs ratio/training_mode get nothing. */
export const Dropout: RuleEntry = {
  opType: 'Dropout', since: 1, category: 'shape',
  rule: { backward: (_ctx, [dY]) => [dY, null, null] },
};
