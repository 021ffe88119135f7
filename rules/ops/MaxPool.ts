import { attrInts } from '../../rewriter/attributes';
import { convGeometry, scatterConv } from '../op-forms';
import { Emitter } from '../../rewriter/emitter';
import { NodeProto } from '../../rewriter/proto';
import { RuleContext, RuleEntry } from '../types';

interface Windows {
  /** Float mask [N, C, K, out…]: 1 where kernel offset k is the window's first maximum. */
  first: string;
  /** The values of v (shaped like X, padded with padValue) each offset reads: [N, C, K, out…]. */
  read(v: string, padValue: number): string;
  /** Sends [N, C, K, out…] values back to the X positions they were read from (summing). */
  scatter(perOffset: string): string;
}

/**
 * The windows of a MaxPool node, with channels folded into the batch ([N·C, 1, …]): reading is a
 * Conv with one one-hot kernel per offset (K outputs), gathering every offset of every window at
 * once; scattering is the transposed ConvTranspose. Both are exact (products with 1 and 0 only).
 * (The grouped forms, group = C, are computed wrongly by onnxruntime's WebGPU EP.) Ties go to
 * the first offset in scan order, as PyTorch and onnxruntime's Indices.
 */
const built = new WeakMap<Emitter, WeakMap<NodeProto, Windows>>();

/** windows() of the node, built once per augmented graph (several rules may ask for them). */
function windowsOf(ctx: RuleContext): Windows {
  const perGraph = built.get(ctx.em) ?? new WeakMap<NodeProto, Windows>();
  built.set(ctx.em, perGraph);
  const w = perGraph.get(ctx.node) ?? windows(ctx);
  perGraph.set(ctx.node, w);
  return w;
}

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
  const geo = convGeometry(ctx, xsp, kernel);
  const begin = geo.pads.slice(0, n);
  // Padded extent the windows read (every window exists, also under ceil_mode).
  const full = out.map((o, i) => (o - 1) * geo.strides[i] + (kernel[i] - 1) * geo.dilations[i] + 1);
  const end = full.map((f, i) => Math.max(0, f - begin[i] - xsp[i]));
  const K = kernel.reduce((a, b) => a * b, 1);
  const w = new Float64Array(K * K);
  for (let k = 0; k < K; k++) w[k * K + k] = 1;
  const oneHot = em.constFloat(w, [K, 1, ...kernel]);

  // ±Inf (a −Inf pad before the pool, timm's MaxPool2dSame) read as the largest finite floats: the
  // one-hot Conv's 0·∞ would be NaN. (Before opset 11 a Pad's value is an attribute, which must be finite.)
  const LARGEST = 3.4028234663852886e38;
  const finite = (v: string) => (ctx.opset >= 11 ? em.op('Clip', [v, em.scalar(-LARGEST), em.scalar(LARGEST)]) : v);
  const read = (v: string, padValue: number) => {
    const padded = em.reshape(em.pad(finite(v), [0, 0, ...begin, 0, 0, ...end], padValue), [-1, 1, ...xsp.map((d, i) => begin[i] + d + end[i])]);
    const all = em.op('Conv', [padded, oneHot], { strides: geo.strides, dilations: geo.dilations, pads: Array(2 * kernel.length).fill(0), group: 1 });
    return em.reshape(all, [-1, channels, K, ...out]);
  };

  const values = read(x, -3.4e38);
  const equal = em.mask('Equal', values, em.unsqueeze(finite(y), [2]));
  let first: string;
  if (ctx.opset >= 11) {
    // Running count of matches over the offsets: the first match is where it is 1.
    first = em.mul(equal, em.mask('Less', em.op('CumSum', [equal, em.constInt([2], [])]), em.scalar(1.5)));
  } else {
    const perOffset = em.split(equal, 2, Array(K).fill(1));
    let notYet = em.sub(em.scalar(1), perOffset[0]);
    first = em.concat(perOffset.map((eq, k) => {
      if (k === 0) return eq;
      const hit = em.mul(eq, notYet);
      if (k < K - 1) notYet = em.sub(notYet, hit);
      return hit;
    }), 2);
  }

  const scatter = (perOffset: string) => {
    const folded = em.reshape(perOffset, [-1, K, ...out]);
    const placed = scatterConv(em, folded, oneHot, { ...geo, pads: [...begin, ...end], group: 1 }, xsp, out);
    return em.reshape(placed, [-1, channels, ...xsp]);
  };
  return { first, read, scatter };
}

/** Values of v (shaped like X) at each window's winner, shaped like Y. */
export function maxPoolGather(ctx: RuleContext, v: string): string {
  const w = windowsOf(ctx);
  return ctx.em.reduceSum(ctx.em.mul(w.read(v, 0), w.first), [2], false);
}

/** dX without the Indices output: dY goes to each window's first maximum. */
export const MaxPool: RuleEntry = {
  opType: 'MaxPool', since: 1, category: 'selection',
  rule: {
    backward(ctx, [dY, dIndices]) {
      if (dIndices) ctx.fail('gradients through the Indices output are not supported');
      const w = windowsOf(ctx);
      return [w.scatter(ctx.em.mul(w.first, ctx.em.unsqueeze(dY!, [2])))];
    },
  },
};
