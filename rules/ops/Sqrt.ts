import { RuleEntry } from '../types';

/** dX = dY / (2Y). */
export const Sqrt: RuleEntry = {
  opType: 'Sqrt', since: 1, category: 'activation',
  rule: { backward: ({ em, node }, [dY]) => [em.div(em.mul(dY!, em.scalar(0.5)), node.output![0])] },
};
