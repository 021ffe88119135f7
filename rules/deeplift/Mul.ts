import { BackwardRule, RuleContext } from '../types';
import { productSplit } from './delta';

/**
 * Whether `t` is a reciprocal of an activation: Reciprocal, Div of a constant, Pow by a constant
 * negative exponent, or one of these scaled by a constant (tf2onnx's LayerNorm: γ·rsqrt(v + ε)).
 */
function isReciprocal(ctx: RuleContext, t: string): boolean {
  const p = ctx.view.producer.get(t);
  if (!p || p.domain) return false;
  const [a, b] = p.input ?? [];
  switch (p.op_type) {
    case 'Reciprocal': return true;
    case 'Div': return ctx.isConstant(a);
    case 'Pow': return (ctx.constant(b)?.values ?? [0]).every((e) => e < 0);
    case 'Mul': return (ctx.isConstant(a) && isReciprocal(ctx, b)) || (ctx.isConstant(b) && isReciprocal(ctx, a));
    default: return false;
  }
}

/**
 * Mul of an activation a by the reciprocal r of another (RMSNorm's x·rsqrt(mean(x²) + ε) and T5's
 * LayerNorm as torch.onnx writes them: Div(1, Sqrt(·)), Reciprocal, Pow(·, −½); tf2onnx's
 * LayerNorm x·γ·rsqrt(v + ε) + (β − μ·γ·rsqrt(v + ε))): the product split of Div, so that a
 * reference row that makes r = ε^−½ does not give terms of that size which cancel only up to
 * rounding. Every other Mul of two activations keeps the product rule (`product`).
 */
export function deepliftMul(product: BackwardRule): BackwardRule {
  return {
    broadcastInputs: 'all',
    backward(ctx, dY) {
      const { em, node } = ctx;
      const [x0, x1] = node.input!;
      const k = !ctx.needsGrad(0) || !ctx.needsGrad(1) ? -1 : isReciprocal(ctx, x1) ? 1 : isReciprocal(ctx, x0) ? 0 : -1;
      if (k < 0) return product.backward(ctx, dY);
      const [a, r] = k === 1 ? [x0, x1] : [x1, x0];
      const split = productSplit(em, a, ctx.ref(a), r, ctx.ref(r));
      const [mA, mR] = [em.mul(dY[0]!, split.ofA), em.mul(dY[0]!, split.ofR)];
      return k === 1 ? [mA, mR] : [mR, mA];
    },
  };
}
