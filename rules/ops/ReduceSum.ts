import { attrInt } from '../../rewriter/attributes';
import { expandTo, reduceAxes } from '../op-forms';
import { BackwardRule, RuleEntry } from '../types';

/** dX = Expand(dY with the reduced axes restored, X's shape), divided by the count for a mean. */
export function reduceBack(mean: boolean): BackwardRule {
  return {
    backward(ctx, [dY]) {
      const { em, node } = ctx;
      const x = node.input![0];
      const xs = ctx.shape(x);
      const axes = reduceAxes(ctx, xs.length).sort((a, b) => a - b);
      let g = attrInt(node, 'keepdims', 1) ? dY! : em.unsqueeze(dY!, axes);
      if (mean) {
        if (axes.includes(ctx.batchAxis(x))) ctx.fail('a mean over the batch axis is not supported');
        const count = axes.reduce((n, a) => n * xs[a], 1);
        if (count !== 1) g = em.div(g, em.scalar(count));
      }
      const expanded = expandTo(em, g, xs.map((d, k) => (axes.includes(k) ? 1 : d)), ctx.broadcastShape(x));
      // Reducing the batch axis leaves a batch of 1: broadcast it back against X.
      return [axes.includes(ctx.batchAxis(x)) ? em.add(expanded, em.mul(x, em.scalar(0))) : expanded];
    },
  };
}

export const ReduceSum: RuleEntry = { opType: 'ReduceSum', since: 1, category: 'linear', rule: reduceBack(false) };
