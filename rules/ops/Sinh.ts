import { derivativeRule } from '../op-forms';

/** dX = dY·cosh x = dY·(eˣ + e⁻ˣ)/2. */
export const Sinh = derivativeRule('Sinh', 9, (em, x) => em.mul(em.add(em.op('Exp', [x]), em.op('Exp', [em.neg(x)])), em.scalar(0.5)));
