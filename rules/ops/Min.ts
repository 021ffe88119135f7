import { extremumGrad } from '../op-forms';
import { RuleEntry } from '../types';

export const Min: RuleEntry = {
  opType: 'Min', since: 1, category: 'elementwise',
  rule: { broadcastInputs: 'all', backward: (ctx, [dY]) => extremumGrad(ctx, dY!) },
};
