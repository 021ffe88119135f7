import { derivativeRule } from '../op-forms';

/** dX = dY·(1 + Y²). */
export const Tan = derivativeRule('Tan', 7, (em, _x, y) => em.add(em.scalar(1), em.mul(y, y)));
