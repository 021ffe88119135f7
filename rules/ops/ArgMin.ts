import { noGradient } from '../op-forms';
import { RuleEntry } from '../types';

/** Integer output: non-differentiable (an output computed only through it has no gradient). */
export const ArgMin: RuleEntry = { opType: 'ArgMin', since: 1, category: 'constant', rule: noGradient };
