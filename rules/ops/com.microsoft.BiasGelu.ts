import { RuleEntry } from '../types';
import { geluGrad } from './Gelu';

/** Gelu(A + B), B a bias on the last axis: both get dY·gelu'(A + B). */
export const MsBiasGelu: RuleEntry = {
  opType: 'BiasGelu', domain: 'com.microsoft', since: 1, category: 'activation',
  rule: {
    broadcastInputs: [1],
    backward({ em, node, needsGrad }, [dY]) {
      const g = em.mul(dY!, geluGrad(em, em.add(node.input![0], node.input![1]), false));
      return [needsGrad(0) ? g : null, needsGrad(1) ? g : null];
    },
  },
};
