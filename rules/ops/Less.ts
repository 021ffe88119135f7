import { noGradient } from '../op-forms';
import { RuleEntry } from '../types';

/** Boolean output: non-differentiable (an output computed only through it has no gradient). */
export const Less: RuleEntry = { opType: 'Less', since: 1, category: 'constant', rule: noGradient };
