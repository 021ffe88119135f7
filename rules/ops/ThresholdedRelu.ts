import { attrFloat } from '../../rewriter/attributes';
import { derivativeRule } from '../op-forms';

/** Y = x where x > α, else 0: dX = dY·[x > α]. */
export const ThresholdedRelu = derivativeRule('ThresholdedRelu', 1, (em, x, _y, node) => em.mask('Greater', x, em.scalar(attrFloat(node, 'alpha', 1))));
