import { dynamicQuantization, dynamicScale, quantization } from '../quantization';
import { RuleEntry } from '../types';

/**
 * y = (q − zp)·s: dQ = dY·s, per tensor or per channel, the scale constant or computed in the graph
 * (q carries a gradient from QuantizeLinear's estimator).
 */
export const DequantizeLinear: RuleEntry = {
  opType: 'DequantizeLinear', since: 10, category: 'activation', fixedInputs: [1, 2],
  rule: {
    backward(ctx, [dY]) {
      const q = ctx.node.input![0];
      if (dynamicScale(ctx)) return [ctx.em.mul(dY!, dynamicQuantization(ctx, q).scale)];
      const { scale, dims } = quantization(ctx, q);
      return [ctx.em.mul(dY!, ctx.em.constFloat(scale, dims))];
    },
  },
};
