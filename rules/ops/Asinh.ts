import { derivativeRule } from '../op-forms';

/** dX = dY/√(x² + 1). */
export const Asinh = derivativeRule('Asinh', 9, (em, x) => em.div(em.scalar(1), em.op('Sqrt', [em.add(em.mul(x, x), em.scalar(1))])));
