import { attrInt } from '../../rewriter/attributes';
import { RuleEntry } from '../types';

/**
 * Float Mod (fmod = 1): y = a − b·trunc(a/b), so dA = dY and dB = −dY·trunc(a/b) = dY·(y − a)/b
 * away from the jumps. Integer Mod (fmod = 0) computes indices and is not on the path.
 */
export const Mod: RuleEntry = {
  opType: 'Mod', since: 10, category: 'elementwise',
  rule: {
    broadcastInputs: 'all',
    backward(ctx, [dY]) {
      const { em, node } = ctx;
      if (!attrInt(node, 'fmod', 0)) ctx.fail('Mod of floats needs fmod = 1');
      const [a, b] = node.input!;
      return [ctx.needsGrad(0) ? dY : null, ctx.needsGrad(1) ? em.mul(dY!, em.div(em.sub(node.output![0], a), b)) : null];
    },
  },
};
