import { attrFloat } from '../../rewriter/attributes';
import { derivativeRule } from '../op-forms';

/** Y = x ∓ bias outside [−λ, λ], 0 inside: dX = dY·[|x| > λ]. */
export const Shrink = derivativeRule('Shrink', 9, (em, x, _y, node) => em.mask('Greater', em.op('Abs', [x]), em.scalar(attrFloat(node, 'lambd', 0.5))));
