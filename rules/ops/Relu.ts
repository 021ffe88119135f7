import { RuleEntry } from '../types';

/**
 * dX = dY · [x > 0] (zero at the kink, as PyTorch). The mask reads y (y > 0 ⇔ x > 0) so that
 * onnxruntime can still fuse Conv(+BN)+Relu in the forward part of the graph.
 */
export const Relu: RuleEntry = {
  opType: 'Relu', since: 1,
  rule: {
    backward({ em, node }, [dY]) {
      return [em.mul(dY!, em.mask('Greater', node.output![0], em.scalar(0)))];
    },
  },
};
