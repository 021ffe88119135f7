import { reshapeBack } from '../op-forms';
import { RuleEntry } from '../types';

export const Squeeze: RuleEntry = { opType: 'Squeeze', since: 1, category: 'shape', rule: reshapeBack };
