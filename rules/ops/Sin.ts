import { RuleEntry } from '../types';
import { cosine } from './Cos';

/** dX = dY·cos x. */
export const Sin: RuleEntry = {
  opType: 'Sin', since: 7, category: 'activation',
  rule: { backward: ({ em, node }, [dY]) => [em.mul(dY!, cosine(em, node.input![0]))] },
};
