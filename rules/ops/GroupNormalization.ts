import { attrFloat, attrInt } from '../../rewriter/attributes';
import { normalizeBackward } from '../op-forms';
import { RuleContext, RuleEntry } from '../types';

/**
 * X [N, C, ...] seen as [N, G, C/G·spatial], normalised over the last axis; γ per channel (opset
 * 18 gives it per group, 21 per channel). `grouped` reshapes a tensor of X's shape so.
 */
export function groupNormParts(ctx: RuleContext) {
  const { em, node } = ctx;
  const [x, scale] = node.input!;
  if ([1, 2].some((i) => ctx.needsGrad(i))) ctx.fail('scale and bias computed from the input are not supported');
  const xs = ctx.shape(x);
  const groups = attrInt(node, 'num_groups', 1);
  const c = xs[1];
  const gamma = ctx.requireConstant(scale, 'scale').values;
  const perChannel = gamma.length === c ? gamma : Array.from({ length: c }, (_, k) => gamma[Math.floor(k / (c / groups))]);
  const size = xs.slice(1).reduce((a, b) => a * b, 1) / groups;
  return {
    x, size,
    epsilon: attrFloat(node, 'epsilon', 1e-5),
    scaled: (g: string) => em.mul(g, em.constFloat(perChannel, [c, ...xs.slice(2).map(() => 1)])),
    grouped: (t: string) => em.reshape(t, [ctx.batchAxis(x) === 0 ? -1 : xs[0], groups, size]),
  };
}

/** dX = the normalisation's gradient over each group (as LayerNormalization), with g = dY·γ. */
export const GroupNormalization: RuleEntry = {
  opType: 'GroupNormalization', since: 18, category: 'normalization',
  rule: {
    backward(ctx, [dY]) {
      const { x, epsilon, scaled, grouped } = groupNormParts(ctx);
      return [ctx.reshapeLike(normalizeBackward(ctx.em, grouped(x), grouped(scaled(dY!)), [2], epsilon), x), null, null];
    },
  },
};
