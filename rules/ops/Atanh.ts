import { derivativeRule } from '../op-forms';

/** dX = dY/(1 − x²). */
export const Atanh = derivativeRule('Atanh', 9, (em, x) => em.div(em.scalar(1), em.sub(em.scalar(1), em.mul(x, x))));
