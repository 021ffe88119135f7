import { stepRule } from '../op-forms';

/** Y = ⌊x⌋: piecewise constant. */
export const Floor = stepRule('Floor', 1);
