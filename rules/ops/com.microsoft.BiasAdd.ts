import { RuleEntry } from '../types';

/** Y = X + bias + skip: each input gets dY (the bias summed back by the walk). */
export const MsBiasAdd: RuleEntry = {
  opType: 'BiasAdd', domain: 'com.microsoft', since: 1, category: 'linear',
  rule: {
    broadcastInputs: 'all',
    backward: ({ node, needsGrad }, [dY]) => node.input!.map((_, i) => (needsGrad(i) ? dY : null)),
  },
};
