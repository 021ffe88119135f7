import { RuleEntry } from '../types';

export const Sub: RuleEntry = {
  opType: 'Sub', since: 1,
  rule: {
    broadcastInputs: 'all',
    backward: (ctx, [dY]) => [dY, ctx.needsGrad(1) ? ctx.em.neg(dY!) : null],
  },
};
