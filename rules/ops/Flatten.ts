import { reshapeBack } from '../op-forms';
import { RuleEntry } from '../types';

export const Flatten: RuleEntry = { opType: 'Flatten', since: 1, category: 'shape', rule: reshapeBack };
