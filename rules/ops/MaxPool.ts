import { attrInts } from '../../rewriter/attributes';
import { Emitter } from '../../rewriter/emitter';
import { convGeometry, scatterConv } from '../op-forms';
import { RuleEntry } from '../types';

/** Kernel offsets in row-major scan order (the order MaxPool's Indices prefer on ties). */
function kernelOffsets(kernel: number[]): number[][] {
  return kernel.reduce<number[][]>((acc, k) => acc.flatMap((o) => Array.from({ length: k }, (_, i) => [...o, i])), [[]]);
}

/**
 * Spatial window x[start + j·stride] for j < count on each spatial axis. Before opset 10 Slice
 * has no steps: take count·stride elements, split each axis into [count, stride], keep index 0.
 */
function strided(em: Emitter, x: string, channels: number, start: number[], count: number[], stride: number[]): string {
  const axes = start.map((_, i) => i + 2);
  if (em.opset >= 10) return em.slice(x, start, start.map((s, i) => s + (count[i] - 1) * stride[i] + 1), axes, stride);
  const block = em.slice(x, start, start.map((s, i) => s + count[i] * stride[i]), axes);
  if (stride.every((s) => s === 1)) return block;
  const split = em.reshape(block, [0, channels, ...count.flatMap((c, i) => [c, stride[i]])]);
  const first = em.slice(split, stride.map(() => 0), stride.map(() => 1), stride.map((_, i) => 3 + 2 * i));
  return em.reshape(first, [0, channels, ...count]);
}

/**
 * dX without the Indices output: X padded with −3.4e38 is sliced once per kernel offset; the first
 * offset of each window equal to Y takes dY (ties go to the first, as PyTorch and ORT Indices);
 * the K masked gradients, stacked as channels c·K+k, are scattered back by one ConvTranspose with
 * a one-hot kernel per offset (group = C).
 */
export const MaxPool: RuleEntry = {
  opType: 'MaxPool', since: 1,
  rule: {
    backward(ctx, [dY, dIndices]) {
      const { em, node } = ctx;
      if (dIndices) ctx.fail('gradients through the Indices output are not supported');
      const x = node.input![0];
      const y = node.output![0];
      const xs = ctx.shape(x);
      const channels = xs[1];
      const xsp = xs.slice(2);
      const ysp = ctx.shape(y).slice(2);
      const kernel = attrInts(node, 'kernel_shape') ?? ctx.fail('kernel_shape is missing');
      const n = kernel.length;
      const geo = convGeometry(ctx, xsp, kernel);
      const { strides, dilations } = geo;
      const begin = geo.pads.slice(0, n);
      // Extent of the padded input the windows read (every window exists, also under ceil_mode).
      const full = ysp.map((o, i) => (o - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1);
      const extent = ctx.opset >= 10 ? full : ysp.map((o, i) => o * strides[i] + kernel[i] - 1);
      const end = extent.map((e, i) => Math.max(0, e - begin[i] - xsp[i]));
      const padded = em.pad(x, [0, 0, ...begin, 0, 0, ...end], -3.4e38);

      const offsets = kernelOffsets(kernel);
      const K = offsets.length;
      let notYet = '';
      const parts = offsets.map((k, idx) => {
        const window = strided(em, padded, channels, k.map((ki, i) => ki * dilations[i]), ysp, strides);
        const equal = em.mask('Equal', window, y);
        const first = idx === 0 ? equal : em.mul(equal, notYet);
        if (idx < K - 1) notYet = idx === 0 ? em.sub(em.scalar(1), equal) : em.sub(notYet, first);
        return em.unsqueeze(em.mul(first, dY!), [2]);
      });
      const stacked = em.reshape(em.concat(parts, 2), [0, channels * K, ...ysp]);

      const weight = new Float64Array(channels * K * K);
      for (let c = 0; c < channels; c++) for (let k = 0; k < K; k++) weight[(c * K + k) * K + k] = 1;
      const w = em.constFloat(weight, [channels * K, 1, ...kernel]);
      const pads = [...begin, ...full.map((f, i) => Math.max(0, f - begin[i] - xsp[i]))];
      return [scatterConv(em, stacked, w, { ...geo, pads, group: channels }, xsp, ysp)];
    },
  },
};
