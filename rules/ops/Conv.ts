import { convGeometry, scatterConv } from '../op-forms';
import { RuleEntry } from '../types';

/** dX = ConvTranspose(dY, W) with the forward's strides, pads, dilations and group. */
export const Conv: RuleEntry = {
  opType: 'Conv', since: 1,
  rule: {
    backward(ctx, [dY]) {
      const [x, w] = ctx.node.input!;
      if (ctx.needsGrad(1)) ctx.fail('weights computed from the input are not supported');
      const xs = ctx.shape(x);
      const ws = ctx.shape(w);
      const g = convGeometry(ctx, xs.slice(2), ws.slice(2));
      const ys = ctx.shape(ctx.node.output![0]).slice(2);
      const multiplier = ws[0] / g.group;
      if (g.group > 1 && ws[1] === 1 && multiplier > 1) {
        // Depthwise with channel multiplier m: each output channel's own depthwise ConvTranspose,
        // then the m channels of each input channel summed (the grouped ConvTranspose with m
        // inputs and one output per group is computed wrongly by the WebGPU EP).
        const placed = scatterConv(ctx.em, dY!, w, { ...g, group: ws[0] }, xs.slice(2), ys);
        return [ctx.em.reduceSum(ctx.em.reshape(placed, [0, xs[1], multiplier, ...xs.slice(2)]), [2], false)];
      }
      return [scatterConv(ctx.em, dY!, w, g, xs.slice(2), ys)];
    },
  },
};
