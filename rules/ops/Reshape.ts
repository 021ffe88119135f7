import { reshapeBack } from '../op-forms';
import { RuleEntry } from '../types';

export const Reshape: RuleEntry = { opType: 'Reshape', since: 1, category: 'shape', rule: reshapeBack };
