import { RuleEntry } from '../types';

export const Sum: RuleEntry = {
  opType: 'Sum', since: 1, category: 'linear',
  rule: {
    broadcastInputs: 'all',
    backward: ({ node, needsGrad }, [dY]) => node.input!.map((_, i) => (needsGrad(i) ? dY : null)),
  },
};
