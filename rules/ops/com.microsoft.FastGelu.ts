import { RuleEntry } from '../types';
import { geluGrad } from './Gelu';

/** The tanh approximation of Gelu of X (+ bias, optional input 1). */
export const MsFastGelu: RuleEntry = {
  opType: 'FastGelu', domain: 'com.microsoft', since: 1, category: 'activation',
  rule: {
    broadcastInputs: [1],
    backward({ em, node, needsGrad }, [dY]) {
      const [x, bias] = node.input!;
      const g = em.mul(dY!, geluGrad(em, bias ? em.add(x, bias) : x, true));
      return [needsGrad(0) ? g : null, needsGrad(1) ? g : null];
    },
  },
};
