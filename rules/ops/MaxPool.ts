import { attrInts } from '../../rewriter/attributes';
import { convGeometry } from '../op-forms';
import { RuleContext, RuleEntry } from '../types';

/** Kernel offsets in row-major scan order (the order MaxPool's Indices prefer on ties). */
function kernelOffsets(kernel: number[]): number[][] {
  return kernel.reduce<number[][]>((acc, k) => acc.flatMap((o) => Array.from({ length: k }, (_, i) => [...o, i])), [[]]);
}

interface Windows {
  /** Per kernel offset, a float mask over Y: 1 where that offset is the window's first maximum. */
  first: string[];
  /** Per kernel offset, the values of v (shaped like X, padded with padValue) it reads, shaped like Y. */
  read(v: string, padValue: number): string[];
  /** Sends per-offset Y-shaped values back to the X positions they were read from (summing). */
  scatter(perOffset: string[]): string;
}

/**
 * The windows of a MaxPool node without strided slices: the padded input, of length A·s per axis,
 * is viewed as [A, s] ("parity planes"), so offset k·d of every window is the unit-step block
 * [q, q + out) of plane r, with q·s + r = k·d. Reading is a Slice per offset; scattering pads each
 * offset's values into its plane, sums per plane and interleaves the planes back.
 */
function windows(ctx: RuleContext): Windows {
  const { em, node } = ctx;
  const x = node.input![0];
  const y = node.output![0];
  const xs = ctx.shape(x);
  const channels = xs[1];
  const xsp = xs.slice(2);
  const out = ctx.shape(y).slice(2);
  const kernel = attrInts(node, 'kernel_shape') ?? ctx.fail('kernel_shape is missing');
  const n = kernel.length;
  const { strides: s, dilations: d, pads } = convGeometry(ctx, xsp, kernel);
  const begin = pads.slice(0, n);
  const planes = out.map((o, i) => Math.max(o + Math.floor(((kernel[i] - 1) * d[i]) / s[i]), Math.ceil((begin[i] + xsp[i]) / s[i])));
  const end = planes.map((a, i) => a * s[i] - begin[i] - xsp[i]);
  const offsets = kernelOffsets(kernel).map((k) => k.map((ki, i) => ({ q: Math.floor((ki * d[i]) / s[i]), r: (ki * d[i]) % s[i] })));
  const split = [0, channels, ...planes.flatMap((a, i) => [a, s[i]])];
  const planeAxes = (i: number) => [2 + 2 * i, 3 + 2 * i];

  const read = (v: string, padValue: number) => {
    const parity = em.reshape(em.pad(v, [0, 0, ...begin, 0, 0, ...end], padValue), split);
    return offsets.map((k) => {
      const block = em.slice(parity, k.flatMap(({ q, r }) => [q, r]), k.flatMap(({ q, r }, i) => [q + out[i], r + 1]), k.flatMap((_, i) => planeAxes(i)));
      return em.reshape(block, [0, channels, ...out]);
    });
  };

  let notYet = '';
  const first = read(x, -3.4e38).map((window, idx) => {
    const equal = em.mask('Equal', window, y);
    const hit = idx === 0 ? equal : em.mul(equal, notYet);
    if (idx < offsets.length - 1) notYet = idx === 0 ? em.sub(em.scalar(1), equal) : em.sub(notYet, hit);
    return hit;
  });

  const scatter = (perOffset: string[]) => {
    const byPlane = new Map<string, string[]>();
    perOffset.forEach((g, idx) => {
      const k = offsets[idx];
      const placed = em.pad(g, [0, 0, ...k.map(({ q }) => q), 0, 0, ...k.map(({ q }, i) => planes[i] - q - out[i])]);
      const key = k.map(({ r }) => r).join(',');
      byPlane.set(key, [...(byPlane.get(key) ?? []), placed]);
    });
    const zeros = em.mul(byPlane.values().next().value![0], em.scalar(0));
    const plane = (r: number[]) => {
      const parts = byPlane.get(r.join(','));
      return em.unsqueeze(parts ? em.sum(parts) : zeros, planes.map((_, i) => 3 + 2 * i));
    };
    const interleave = (level: number, prefix: number[]): string =>
      level === n ? plane(prefix) : em.concat(Array.from({ length: s[level] }, (_, r) => interleave(level + 1, [...prefix, r])), 3 + 2 * level);
    const full = em.reshape(interleave(0, []), [0, channels, ...planes.map((a, i) => a * s[i])]);
    return em.slice(full, begin, begin.map((b, i) => b + xsp[i]), xsp.map((_, i) => i + 2));
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

