import { dynamicQuantization, dynamicScale, quantization } from '../quantization';
import { RuleEntry } from '../types';

/**
 * Straight-through estimator (PyTorch's fake-quantize backward): q = saturate(round(x/s) + zp) is
 * differentiated as x/s + zp where round(x/s) + zp lies in [qmin, qmax] and as 0 where it
 * saturates, i.e. dX = dQ/s · [s(qmin − zp − ½) ≤ x ≤ s(qmax − zp + ½)]. With the following
 * DequantizeLinear (dQ = s·dY) the pair passes dY inside the representable range. Float8 has no
 * rounding margin (NVIDIA ModelOpt clamps x/s to ±max, then casts): dX = dQ/s · [|x/s| ≤ max]. A scale computed
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
      const { range, margin, bound, perScale } = (() => {
        if (dynamicScale(ctx)) {
          const { scale, zeroPoint, range, margin } = dynamicQuantization(ctx, node.output![0]);
          return { range, margin, bound: (v: number) => em.mul(scale, em.sub(em.scalar(v), zeroPoint)), perScale: (t: string) => em.div(t, scale) };
        }
        const q = quantization(ctx, node.output![0]);
        return {
          range: q.range, margin: q.margin,
          bound: (v: number) => em.constFloat(q.scale.map((s, k) => s * (v - q.zeroPoint[k])), q.dims),
          perScale: (t: string) => em.mul(t, em.constFloat(q.scale.map((s) => 1 / s), q.dims)),
        };
      })();
      // Float8 without saturation has no bounds.
      if (range[1] === Infinity) return [perScale(dQ!)];
      const inside = em.mul(em.mask('GreaterOrEqual', x, bound(range[0] - margin)), em.mask('LessOrEqual', x, bound(range[1] + margin)));
      return [em.mul(dQ!, perScale(inside))];
    },
  },
};
