import { RuleEntry } from '../types';

export const Sub: RuleEntry = {
  opType: 'Sub', since: 1, category: 'linear',
  rule: {
    broadcastInputs: 'all',
    backward: (ctx, [dY]) => [dY, ctx.needsGrad(1) ? ctx.em.neg(dY!) : null],
  },
};
