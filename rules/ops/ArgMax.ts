import { noGradient } from '../op-forms';
import { RuleEntry } from '../types';

/** Integer output: non-differentiable (an output computed only through it has no gradient). */
export const ArgMax: RuleEntry = { opType: 'ArgMax', since: 1, category: 'constant', rule: noGradient };
