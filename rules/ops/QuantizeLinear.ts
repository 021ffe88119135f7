import { dynamicQuantization, dynamicScale, quantization } from '../quantization';
import { RuleEntry } from '../types';

/**
 * Straight-through estimator (PyTorch's fake-quantize backward): q = saturate(round(x/s) + zp) is
 * differentiated as x/s + zp where round(x/s) + zp lies in [qmin, qmax] and as 0 where it
 * saturates, i.e. dX = dQ/s · [s(qmin − zp − ½) ≤ x ≤ s(qmax − zp + ½)]. With the following
 * DequantizeLinear (dQ = s·dY) the pair passes dY inside the representable range. A scale computed
 * from the input (dynamic quantization) is held fixed, as PyTorch's observers compute it without
 * gradient.
 */
export const QuantizeLinear: RuleEntry = {
  opType: 'QuantizeLinear', since: 10, category: 'activation', quantizer: true, fixedInputs: [1, 2],
  rule: {
    backward(ctx, [dQ]) {
      const { em, node } = ctx;
      const x = node.input![0];
      // s(v − zp) for the bounds and t/s, from tensors of the graph or folded from constants.
      const { range, bound, perScale } = (() => {
        if (dynamicScale(ctx)) {
          const { scale, zeroPoint, range } = dynamicQuantization(ctx, node.output![0]);
          return { range, bound: (v: number) => em.mul(scale, em.sub(em.scalar(v), zeroPoint)), perScale: (t: string) => em.div(t, scale) };
        }
        const q = quantization(ctx, node.output![0]);
        return {
          range: q.range,
          bound: (v: number) => em.constFloat(q.scale.map((s, k) => s * (v - q.zeroPoint[k])), q.dims),
          perScale: (t: string) => em.mul(t, em.constFloat(q.scale.map((s) => 1 / s), q.dims)),
        };
      })();
      const inside = em.mul(em.mask('GreaterOrEqual', x, bound(range[0] - 0.5)), em.mask('LessOrEqual', x, bound(range[1] + 0.5)));
      return [em.mul(dQ!, perScale(inside))];
    },
  },
};
