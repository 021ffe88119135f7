import { stepRule } from '../op-forms';

/** Y = round(x), halves to even: piecewise constant. */
export const Round = stepRule('Round', 11);
