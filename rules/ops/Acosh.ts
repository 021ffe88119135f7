import { derivativeRule } from '../op-forms';

/** dX = dY/√(x² − 1). */
export const Acosh = derivativeRule('Acosh', 9, (em, x) => em.div(em.scalar(1), em.op('Sqrt', [em.sub(em.mul(x, x), em.scalar(1))])));
