import { RuleEntry } from '../types';

/** dX: dY reshaped to [r₀, d₀, r₁, d₁, …] and summed over the repeat axes r_k. */
export const Tile: RuleEntry = {
  opType: 'Tile', since: 6, category: 'shape',
  rule: {
    backward(ctx, [dY]) {
      const { em, node } = ctx;
      const x = node.input![0];
      const xs = ctx.shape(x);
      const repeats = ctx.requireConstant(node.input![1], 'repeats').values;
      const b = ctx.batchAxis(x);
      if (b >= 0 && repeats[b] !== 1) ctx.fail('tiling the batch axis is not supported');
      const split = xs.flatMap((d, k) => [repeats[k], k === b ? -1 : d]);
      const axes = xs.map((_, k) => 2 * k).filter((a) => split[a] !== 1);
      if (!axes.length) return [dY!, null];
      return [ctx.reshapeLike(em.reduceSum(em.reshape(dY!, split), axes, true), x), null];
    },
  },
};
