import { noGradient } from '../op-forms';
import { RuleEntry } from '../types';

/** An identity-like matrix of its input's shape: its values do not depend on the input's, no gradient. */
export const EyeLike: RuleEntry = { opType: 'EyeLike', since: 9, category: 'constant', shapeOnly: true, rule: noGradient };
