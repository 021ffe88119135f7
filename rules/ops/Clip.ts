import { attrFloat, hasAttr } from '../../rewriter/attributes';
import { Emitter } from '../../rewriter/emitter';
import { isFloatType, NodeProto } from '../../rewriter/proto';
import { RuleEntry } from '../types';

/**
 * dX = dY where min < x < max strictly (PyTorch hardtanh); bounds are attributes before opset 11,
 * optional inputs after. dMin = dY where x < min, dMax = dY where x > max. On a quantized (integer)
 * tensor q = round(v) the bounds are included, compared in float: with QuantizeLinear's estimator
 * the pair passes dY where round(v) lies in [min, max], as Brevitas' clamp after its rounding does.
 */
export const Clip: RuleEntry = {
  opType: 'Clip', since: 1, category: 'elementwise',
  rule: {
    broadcastInputs: [1, 2],
    backward({ em, node, opset, needsGrad, dtype }, [dY]) {
      const x = node.input![0];
      if (!isFloatType(dtype(x))) return quantizedClamp(em, node, dY!);
      const bound = (name: string, i: number): string | undefined => {
        if (opset >= 11) return node.input![i] || undefined;
        return hasAttr(node, name) ? em.scalar(attrFloat(node, name, 0)) : undefined;
      };
      const lo = bound('min', 1);
      const hi = bound('max', 2);
      const y = node.output![0]; // min < y < max ⇔ min < x < max; reading y keeps Conv+Clip fusable
      const masks = [lo && em.mask('Greater', y, lo), hi && em.mask('Less', y, hi)].filter((m): m is string => !!m);
      const dX = !needsGrad(0) ? null : masks.length ? em.mul(dY!, masks.length > 1 ? em.mul(masks[0], masks[1]) : masks[0]) : dY;
      const dLo = lo && needsGrad(1) ? em.mul(dY!, em.mask('Less', x, lo)) : null;
      const dHi = hi && needsGrad(2) ? em.mul(dY!, em.mask('Greater', x, hi)) : null;
      return [dX, dLo, dHi];
    },
  },
};

/** dX of a Clip on quantized integers (opset 12 on): dY where min ≤ x ≤ max. */
function quantizedClamp(em: Emitter, node: NodeProto, dY: string): [string] {
  const [x, lo, hi] = node.input!.map((t) => t && em.cast(t, em.floatType));
  const masks = [lo && em.mask('GreaterOrEqual', x, lo), hi && em.mask('LessOrEqual', x, hi)].filter((m): m is string => !!m);
  return [masks.reduce((d, m) => em.mul(d, m), dY)];
}
