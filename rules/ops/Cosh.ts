import { derivativeRule } from '../op-forms';

/** dX = dY·sinh x = dY·(eˣ − e⁻ˣ)/2. */
export const Cosh = derivativeRule('Cosh', 9, (em, x) => em.mul(em.sub(em.op('Exp', [x]), em.op('Exp', [em.neg(x)])), em.scalar(0.5)));
