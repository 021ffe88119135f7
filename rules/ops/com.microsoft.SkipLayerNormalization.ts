import { attrFloat } from '../../rewriter/attributes';
import { normalizeBackward } from '../op-forms';
import { RuleContext, RuleEntry } from '../types';

/** s = input + skip (+ bias), the normalised last axis, γ, ε (1e-12 by default) and the signal on s from the sum output. */
export function skipLayerNormParts(ctx: RuleContext, dY: (string | null)[]) {
  const { em, node } = ctx;
  const [input, skip, gamma, , bias] = node.input!;
  if ([2, 3, 4].some((i) => ctx.needsGrad(i))) ctx.fail('gamma, beta and bias computed from the input are not supported');
  if (dY[1] || dY[2]) ctx.fail('gradients through the mean/inv_std_var outputs are not supported');
  const sum = (a: string, b: string) => (bias ? em.add(em.add(a, b), bias) : em.add(a, b));
  return {
    s: sum(input, skip),
    s0: () => sum(ctx.ref(input), ctx.ref(skip)),
    axes: [ctx.shape(input).length - 1],
    g: em.mul(dY[0]!, gamma),
    epsilon: attrFloat(node, 'epsilon', 1e-12),
    passed: dY[3],
  };
}

/** LayerNormalization of s = input + skip + bias: dS = the normalisation's gradient (+ dY of the sum output); input and skip get dS. */
export const MsSkipLayerNormalization: RuleEntry = {
  opType: 'SkipLayerNormalization', domain: 'com.microsoft', since: 1, category: 'normalization',
  rule: {
    broadcastInputs: [1],
    backward(ctx, dY) {
      const { s, axes, g, epsilon, passed } = skipLayerNormParts(ctx, dY);
      const norm = normalizeBackward(ctx.em, s, g, axes, epsilon);
      const dS = passed ? ctx.em.add(norm, passed) : norm;
      return [ctx.needsGrad(0) ? dS : null, ctx.needsGrad(1) ? dS : null, null, null, null];
    },
  },
};
