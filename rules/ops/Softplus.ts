import { RuleEntry } from '../types';
import { sigmoidParts } from './Sigmoid';

/** Y = ln(1 + eˣ): dX = dY·σ(x) (Sigmoid's float32-exact σ: onnxruntime's is 0 below x = −18). */
export const Softplus: RuleEntry = {
  opType: 'Softplus', since: 1, category: 'activation',
  rule: {
    backward: ({ em, node }, [dY]) => [em.mul(dY!, sigmoidParts(em, node.input![0]).sigmoid)],
  },
};
