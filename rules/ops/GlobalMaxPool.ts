import { RuleEntry } from '../types';

/** dX = dY at the first spatial position (row-major) holding the channel's maximum, 0 elsewhere. */
export const GlobalMaxPool: RuleEntry = {
  opType: 'GlobalMaxPool', since: 1,
  rule: {
    backward(ctx, [dY]) {
      const { em, node } = ctx;
      const x = node.input![0];
      const xs = ctx.shape(x);
      let hit = em.mask('Equal', x, node.output![0]);
      if (ctx.opset >= 11) {
        // Running count of hits over the flattened spatial axis: the first hit is where it is 1.
        const flat = em.reshape(hit, [0, xs[1], -1]);
        const first = em.mul(flat, em.mask('Less', em.op('CumSum', [flat, em.constInt([2], [])]), em.scalar(1.5)));
        hit = ctx.reshapeLike(first, x);
      }
      return [em.mul(hit, dY!)];
    },
  },
};
