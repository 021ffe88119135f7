import { attrFloat } from '../../rewriter/attributes';
import { normalizeBackward } from '../op-forms';
import { RuleEntry } from '../types';

/** Per (n, c) over the spatial axes: dX = rstd·(g − mean(g) − x̂·mean(g·x̂)), g = dY·γ_c. */
export const InstanceNormalization: RuleEntry = {
  opType: 'InstanceNormalization', since: 1, category: 'normalization',
  rule: {
    backward(ctx, [dY]) {
      const { em, node } = ctx;
      const [x, scale] = node.input!;
      if ([1, 2].some((i) => ctx.needsGrad(i))) ctx.fail('scale or bias computed from the input is not supported');
      const xs = ctx.shape(x);
      const spatial = Array.from({ length: xs.length - 2 }, (_, k) => k + 2);
      const gamma = em.reshape(scale, [xs[1], ...spatial.map(() => 1)]);
      return [normalizeBackward(em, x, em.mul(dY!, gamma), spatial, attrFloat(node, 'epsilon', 1e-5)), null, null];
    },
  },
};
