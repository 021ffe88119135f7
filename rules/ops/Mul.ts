import { RuleEntry } from '../types';

export const Mul: RuleEntry = {
  opType: 'Mul', since: 1, category: 'product',
  rule: {
    broadcastInputs: 'all',
    backward({ em, node, needsGrad }, [dY]) {
      const [a, b] = node.input!;
      return [needsGrad(0) ? em.mul(dY!, b) : null, needsGrad(1) ? em.mul(dY!, a) : null];
    },
  },
};
