import { attrInts, attrString } from '../../rewriter/attributes';
import { constantPadBack, intsOf, normAxis, scatterAlongAxis } from '../op-forms';
import { RuleEntry } from '../types';

/** Input index output position j (input coordinate k = j − begin) reads in reflect/edge/wrap modes. */
function sourceIndex(mode: string, k: number, dim: number): number {
  if (mode === 'edge') return Math.min(Math.max(k, 0), dim - 1);
  if (mode === 'wrap') return ((k % dim) + dim) % dim;
  if (dim === 1) return 0;
  const period = 2 * (dim - 1);
  const r = ((k % period) + period) % period;
  return r < dim ? r : period - r;
}

/**
 * constant: dX = dY cropped to X (and zero-padded back where the pads were negative), the fill value
 * the rest of dY; reflect/edge/wrap: every output position scatters back to the input index it copied.
 */
export const Pad: RuleEntry = {
  opType: 'Pad', since: 1, category: 'shape',
  rule: {
    backward(ctx, [dY]) {
      const { em, node } = ctx;
      const x = node.input![0];
      const xs = ctx.shape(x);
      const rank = xs.length;
      const given = attrInts(node, 'paddings') ?? intsOf(ctx, 'pads', 1) ?? ctx.fail('pads are missing');
      const axes = (ctx.opset >= 18 ? intsOf(ctx, 'axes', 3) : undefined)?.map((a) => normAxis(ctx, a, rank))
        ?? xs.map((_, k) => k);
      const begin = Array(rank).fill(0);
      const end = Array(rank).fill(0);
      axes.forEach((a, k) => { begin[a] = given[k]; end[a] = given[k + axes.length]; });
      const b = ctx.batchAxis(x);
      if (b >= 0 && (begin[b] !== 0 || end[b] !== 0)) ctx.fail('padding the batch axis is not supported');
      const mode = attrString(node, 'mode', 'constant');
      if (mode === 'constant') {
        const dX = constantPadBack(em, dY!, xs, begin, end);
        // A fill value computed from the input (opset 11+) gets the gradient of the positions it fills.
        const all = (t: string) => em.reduceSum(t, xs.map((_, k) => k), false);
        return [dX, null, ctx.needsGrad(2) ? em.sub(all(dY!), all(dX)) : null];
      }
      if (!['reflect', 'edge', 'wrap'].includes(mode)) ctx.fail(`pad mode '${mode}' is not supported`);
      // Wrapping past a whole period: numpy's wrap (the ONNX reference) and onnxruntime's kernel (a 0 before the first period) each compute another tensor.
      const past = mode === 'wrap' ? xs.findIndex((dim, a) => begin[a] > dim || end[a] > dim) : -1;
      if (past >= 0) ctx.fail(`wrap padding of [${begin[past]}, ${end[past]}] on axis ${past} of size ${xs[past]}: pads longer than the axis are computed differently by onnxruntime and by the ONNX reference (numpy), so the gradient would not be the model's`);
      let g = dY!;
      xs.forEach((dim, a) => {
        if (begin[a] === 0 && end[a] === 0) return;
        const map = Array.from({ length: dim + begin[a] + end[a] }, (_, j) => sourceIndex(mode, j - begin[a], dim));
        g = scatterAlongAxis(em, g, a, rank, map, dim);
      });
      return [g];
    },
  },
};
