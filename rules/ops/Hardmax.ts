import { noGradient } from '../op-forms';
import { RuleEntry } from '../types';

/** A one-hot of the maximum: piecewise constant, no gradient (as ArgMax). */
export const Hardmax: RuleEntry = { opType: 'Hardmax', since: 1, category: 'constant', rule: noGradient };
