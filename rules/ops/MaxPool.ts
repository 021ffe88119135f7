import { attrInts } from '../../rewriter/attributes';
import { Emitter } from '../../rewriter/emitter';
import { convGeometry, scatterConv } from '../op-forms';
import { RuleContext, RuleEntry } from '../types';

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

interface Windows {
  /** Per kernel offset, a float mask over Y: 1 where that offset is the window's first maximum. */
  first: string[];
  /** Per kernel offset, the input values v (shaped like X) that offset reads, shaped like Y. */
  read(v: string, padValue: number): string[];
  scatter(perOffset: string[]): string;
}

/**
 * The windows of a MaxPool node: X padded with −3.4e38 is sliced once per kernel offset; the first
 * offset of each window equal to Y is its winner (ties go to the first, as PyTorch and ORT Indices).
 * scatter() sends per-offset Y-shaped values back to X.
 */
function windows(ctx: RuleContext): Windows {
  const { em, node } = ctx;
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
  const offsets = kernelOffsets(kernel);
  const K = offsets.length;
  const read = (v: string, padValue: number) => {
    const padded = em.pad(v, [0, 0, ...begin, 0, 0, ...end], padValue);
    return offsets.map((k) => strided(em, padded, channels, k.map((ki, i) => ki * dilations[i]), ysp, strides));
  };
  let notYet = '';
  const first = read(x, -3.4e38).map((window, idx) => {
    const equal = em.mask('Equal', window, y);
    const hit = idx === 0 ? equal : em.mul(equal, notYet);
    if (idx < K - 1) notYet = idx === 0 ? em.sub(em.scalar(1), equal) : em.sub(notYet, hit);
    return hit;
  });
  const scatter = (perOffset: string[]) => {
    // Stacked as channels c·K+k: a depthwise ConvTranspose (one-hot kernel per offset) places
    // each, then the K copies of a channel are summed. (A grouped ConvTranspose with K inputs per
    // group would be one node, but the WebGPU EP computes that form wrongly.)
    const stacked = em.reshape(em.concat(perOffset.map((p) => em.unsqueeze(p, [2])), 2), [0, channels * K, ...ysp]);
    const weight = new Float64Array(channels * K * K);
    for (let c = 0; c < channels; c++) for (let k = 0; k < K; k++) weight[(c * K + k) * K + k] = 1;
    const w = em.constFloat(weight, [channels * K, 1, ...kernel]);
    const pads = [...begin, ...full.map((f, i) => Math.max(0, f - begin[i] - xsp[i]))];
    const placed = scatterConv(em, stacked, w, { ...geo, pads, group: channels * K }, xsp, ysp);
    return em.reduceSum(em.reshape(placed, [0, channels, K, ...xsp]), [2], false);
  };
  return { first, read, scatter };
}

/** Values of v (shaped like X) at each window's winner, shaped like Y. */
export function maxPoolGather(ctx: RuleContext, v: string): string {
  const w = windows(ctx);
  return ctx.em.sum(w.read(v, 0).map((r, k) => ctx.em.mul(r, w.first[k])));
}

/** dX without the Indices output: dY goes to each window's first maximum. */
export const MaxPool: RuleEntry = {
  opType: 'MaxPool', since: 1,
  rule: {
    backward(ctx, [dY, dIndices]) {
      if (dIndices) ctx.fail('gradients through the Indices output are not supported');
      const w = windows(ctx);
      return [w.scatter(w.first.map((m) => ctx.em.mul(m, dY!)))];
    },
  },
};
