import { derivativeRule } from '../op-forms';

/** dX = dY/(1 + x²). */
export const Atan = derivativeRule('Atan', 7, (em, x) => em.div(em.scalar(1), em.add(em.scalar(1), em.mul(x, x))));
