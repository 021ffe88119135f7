import { attrInt, attrString } from '../../rewriter/attributes';
import { DataType } from '../../rewriter/proto';
import { normAxis } from '../op-forms';
import { RuleEntry } from '../types';

/**
 * The cache with the update written along `axis` from each row's write index (opset 24's KV-cache
 * update; zero without write_indices; "circular" wraps the positions modulo the cache length):
 * the cache's gradient is dY with the written positions zeroed, the update's dY at those positions.
 * The positions are computed in float from the write indices; the gradients a mask and a GatherElements.
 */
export const TensorScatter: RuleEntry = {
  opType: 'TensorScatter', since: 24, category: 'shape',
  rule: {
    backward(ctx, [dY]) {
      const { em, node } = ctx;
      const [past, update, writes] = node.input!;
      const [pastShape, updateShape] = [ctx.shape(past), ctx.shape(update)];
      const rank = pastShape.length;
      const axis = normAxis(ctx, attrInt(node, 'axis', -2), rank);
      const circular = attrString(node, 'mode', 'linear') === 'circular';
      const [length, written] = [pastShape[axis], updateShape[axis]];
      if (written > length) ctx.fail(`an update of ${written} positions does not fit a cache of ${length}`);
      // Positions in float (exact for integers below 2²⁴), so that every op runs on WebGPU.
      const along = (values: number[]) => em.constFloat(values, pastShape.map((_, k) => (k === axis ? values.length : 1)));
      const start = writes ? em.cast(em.reshape(writes, [-1, ...Array.from({ length: rank - 1 }, () => 1)]), em.floatType) : em.scalar(0);
      const wrap = (t: string) => (circular ? em.sub(t, em.mul(em.floor(em.div(t, em.scalar(length))), em.scalar(length))) : t);
      const result: (string | null)[] = [null, null, null];
      if (ctx.needsGrad(0)) {
        // Cache position k holds the update when (k − start), wrapped, lies in [0, written).
        const offset = wrap(em.sub(along(Array.from({ length }, (_, k) => k)), start));
        const hit = em.mul(em.mask('GreaterOrEqual', offset, em.scalar(0)), em.mask('Less', offset, em.scalar(written)));
        result[0] = em.mul(dY!, em.sub(em.scalar(1), hit));
      }
      if (ctx.needsGrad(1)) {
        const positions = wrap(em.add(start, along(Array.from({ length: written }, (_, s) => s))));
        const indices = em.cast(em.add(positions, em.zerosLike(update)), DataType.INT64);
        result[1] = em.op('GatherElements', [dY!, indices], { axis });
      }
      return result;
    },
  },
};
