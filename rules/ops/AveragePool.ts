import { attrInt, attrInts } from '../../rewriter/attributes';
import { convGeometry, windowSumBackward } from '../op-forms';
import { RuleEntry } from '../types';

/**
 * Per output position along one axis, the divisor onnxruntime uses: the window's size clipped at
 * the padded end (count_include_pad), or the number of input elements in it.
 */
function divisors(o: number, x: number, k: number, s: number, d: number, padBegin: number, padEnd: number, includePad: boolean): number[] {
  return Array.from({ length: o }, (_, j) => {
    const start = j * s - padBegin;
    const stop = Math.min(start + k * d, x + padEnd);
    if (includePad) return 1 + Math.floor((stop - start - 1) / d);
    let count = 0;
    for (let t = start; t < stop; t += d) if (t >= 0 && t < x) count++;
    return Math.max(count, 1);
  });
}

/** dX = the window sums' transpose of dY / count. */
export const AveragePool: RuleEntry = {
  opType: 'AveragePool', since: 1, category: 'linear',
  rule: {
    backward(ctx, [dY]) {
      const { em, node } = ctx;
      const x = node.input![0];
      const xs = ctx.shape(x);
      const channels = xs[1];
      const xsp = xs.slice(2);
      const ysp = ctx.shape(node.output![0]).slice(2);
      const kernel = attrInts(node, 'kernel_shape') ?? ctx.fail('kernel_shape is missing');
      const n = kernel.length;
      const geo = convGeometry(ctx, xsp, kernel);
      const includePad = attrInt(node, 'count_include_pad', 0) !== 0;
      const perAxis = ysp.map((o, i) => divisors(o, xsp[i], kernel[i], geo.strides[i], geo.dilations[i], geo.pads[i], geo.pads[i + n], includePad));
      // Outer product of the per-axis divisors, as a [1, 1, out...] constant (a scalar when uniform).
      const table = perAxis.reduce<number[]>((acc, v) => acc.flatMap((a) => v.map((b) => a * b)), [1]);
      const scaled = table.every((v) => v === table[0])
        ? em.div(dY!, em.scalar(table[0]))
        : em.div(dY!, em.constFloat(table, [1, 1, ...ysp]));
      return [windowSumBackward(em, scaled, geo, channels, xsp, ysp)];
    },
  },
};
