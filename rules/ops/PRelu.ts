import { blend } from '../op-forms';
import { RuleEntry } from '../types';

/** dX = x > 0 ? dY : slope·dY; dSlope = x ≤ 0 ? dY·x : 0 (slope broadcasts to X). */
export const PRelu: RuleEntry = {
  opType: 'PRelu', since: 1, category: 'activation',
  rule: {
    broadcastInputs: [1],
    backward({ em, node, needsGrad }, [dY]) {
      const [x, slope] = node.input!;
      const pos = em.mask('Greater', x, em.scalar(0));
      const dX = needsGrad(0) ? blend(em, pos, dY!, em.mul(dY!, slope)) : null;
      const dSlope = needsGrad(1) ? em.mul(em.mul(dY!, x), em.sub(em.scalar(1), pos)) : null;
      return [dX, dSlope];
    },
  },
};
