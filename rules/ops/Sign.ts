import { stepRule } from '../op-forms';

/** Y = sign(x): piecewise constant. */
export const Sign = stepRule('Sign', 9);
