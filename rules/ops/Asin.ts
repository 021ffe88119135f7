import { derivativeRule } from '../op-forms';

/** dX = dY/√(1 − x²). */
export const Asin = derivativeRule('Asin', 7, (em, x) => em.div(em.scalar(1), em.op('Sqrt', [em.sub(em.scalar(1), em.mul(x, x))])));
