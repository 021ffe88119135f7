import { convBiasGrad, convGeometry, ConvGeometry, convWeightGrad, flippedKernel, scatterConv } from '../op-forms';
import { RuleContext, RuleEntry } from '../types';

/**
 * Stride 1, group 1 or depthwise: dX = Conv(dY, W'), W' = W with in/out channels swapped and the
 * kernel flipped, pads d·(k−1) − p: the ConvTranspose's numbers from onnxruntime's faster Conv
 * kernels (≈1.4× per layer on CPU). The weight transform is on constants, folded at session load.
 * Only for channel counts that are multiples of 4: onnxruntime 1.30's WebGPU Conv computes some
 * other channel counts wrongly (e.g. 6 or 18 inputs with 4k outputs), where ConvTranspose is right.
 */
function flippedConv(ctx: RuleContext, dY: string, w: string, ws: number[], g: ConvGeometry): string | undefined {
  const { em } = ctx;
  const n = g.kernel.length;
  const depthwise = g.group > 1 && g.group === ws[0] && ws[1] === 1;
  const pads = g.pads.map((p, i) => g.dilations[i % n] * (g.kernel[i % n] - 1) - p);
  const channels = depthwise ? [ws[0]] : [ws[0], ws[1]];
  if (ctx.opset < 10 || g.strides.some((s) => s !== 1) || (g.group !== 1 && !depthwise) || pads.some((p) => p < 0)
    || channels.some((c) => c % 4 !== 0) || !ctx.isConstant(w)) return undefined;
  return em.op('Conv', [dY, flippedKernel(em, w, g.kernel, !depthwise)], { strides: g.strides, dilations: g.dilations, pads, group: g.group });
}

/** dX = ConvTranspose(dY, W) with the forward's strides, pads, dilations and group. */
function inputGrad(ctx: RuleContext, dY: string, xs: number[], ws: number[], g: ConvGeometry, ys: number[]): string {
  const w = ctx.node.input![1];
  const asConv = flippedConv(ctx, dY, w, ws, g);
  if (asConv) return asConv;
  const multiplier = ws[0] / g.group;
  if (g.group > 1 && ws[1] === 1 && multiplier > 1) {
    // Depthwise with channel multiplier m: each output channel's own depthwise ConvTranspose,
    // then the m channels of each input channel summed (the grouped ConvTranspose with m
    // inputs and one output per group is computed wrongly by the WebGPU EP).
    const placed = scatterConv(ctx.em, dY, w, { ...g, group: ws[0] }, xs.slice(2), ys);
    return ctx.em.reduceSum(ctx.em.reshape(placed, [0, xs[1], multiplier, ...xs.slice(2)]), [2], false);
  }
  return scatterConv(ctx.em, dY, w, g, xs.slice(2), ys);
}

/** dX as above; weights and bias computed from the input (a Siamese cross-correlation, dynamic filters) get theirs too. */
export const Conv: RuleEntry = {
  opType: 'Conv', since: 1, category: 'weighted',
  rule: {
    backward(ctx, [dY]) {
      const [x, w] = ctx.node.input!;
      const xs = ctx.shape(x);
      const ws = ctx.shape(w);
      const g = convGeometry(ctx, xs.slice(2), ws.slice(2));
      const ys = ctx.shape(ctx.node.output![0]).slice(2);
      return [
        ctx.needsGrad(0) ? inputGrad(ctx, dY!, xs, ws, g, ys) : null,
        ctx.needsGrad(1) ? convWeightGrad(ctx.em, x, dY!, g, xs[1], xs.slice(2), ys) : null,
        ctx.needsGrad(2) ? convBiasGrad(ctx.em, dY!, xs.length) : null,
      ];
    },
  },
};
