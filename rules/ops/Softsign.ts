import { derivativeRule } from '../op-forms';

/** Y = x/(1 + |x|): dX = dY/(1 + |x|)². */
export const Softsign = derivativeRule('Softsign', 1, (em, x) => {
  const t = em.add(em.scalar(1), em.op('Abs', [x]));
  return em.div(em.scalar(1), em.mul(t, t));
});
