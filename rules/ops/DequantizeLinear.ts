import { quantization } from '../quantization';
import { RuleEntry } from '../types';

/** y = (q − zp)·s: dQ = dY·s, per tensor or per channel (q carries a gradient from QuantizeLinear's estimator). */
export const DequantizeLinear: RuleEntry = {
  opType: 'DequantizeLinear', since: 10, category: 'activation',
  rule: {
    backward(ctx, [dY]) {
      const q = quantization(ctx, ctx.node.input![0]);
      return [ctx.em.mul(dY!, ctx.em.constFloat(q.scale, q.dims))];
    },
  },
};
