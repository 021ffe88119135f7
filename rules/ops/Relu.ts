import { RuleEntry } from '../types';

/**
 * dX = dY where x > 0, else 0 (zero at the kink, as PyTorch). The mask reads y (y > 0 ⇔ x > 0)
 * so that onnxruntime can still fuse Conv(+BN)+Relu in the forward part of the graph.
 */
export const Relu: RuleEntry = {
  opType: 'Relu', since: 1, category: 'rectifier',
  rule: {
    backward({ em, node }, [dY]) {
      const zero = em.scalar(0);
      return [em.where(em.compare('Greater', node.output![0], zero), dY!, zero)];
    },
  },
};
