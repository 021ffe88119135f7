import { stepRule } from '../op-forms';

/** Y = ⌈x⌉: piecewise constant. */
export const Ceil = stepRule('Ceil', 1);
