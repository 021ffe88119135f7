import { attrFloat } from '../../rewriter/attributes';
import { RuleEntry } from '../types';

/** Y = x ∓ bias outside [−λ, λ], 0 inside: dX = dY·[|x| > λ]. */
export const Shrink: RuleEntry = {
  opType: 'Shrink', since: 9, category: 'activation',
  rule: {
    backward: ({ em, node }, [dY]) => [em.mul(dY!, em.mask('Greater', em.op('Abs', [node.input![0]]), em.scalar(attrFloat(node, 'lambd', 0.5))))],
  },
};
