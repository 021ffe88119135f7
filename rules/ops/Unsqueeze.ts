import { reshapeBack } from '../op-forms';
import { RuleEntry } from '../types';

export const Unsqueeze: RuleEntry = { opType: 'Unsqueeze', since: 1, category: 'shape', rule: reshapeBack };
