import { RuleEntry } from '../types';

/** y = x·tanh(softplus x): dX = dY·(t + x·(1 − t²)·σ(x)), t = tanh(log(1 + eˣ)). */
export const Mish: RuleEntry = {
  opType: 'Mish', since: 18, category: 'activation',
  rule: {
    backward({ em, node }, [dY]) {
      const x = node.input![0];
      const t = em.op('Tanh', [em.op('Log', [em.add(em.op('Exp', [x]), em.scalar(1))])]);
      const slope = em.mul(em.mul(x, em.sub(em.scalar(1), em.mul(t, t))), em.op('Sigmoid', [x]));
      return [em.mul(dY!, em.add(t, slope))];
    },
  },
};
