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
      return [scatterConv(ctx.em, dY!, w, g, xs.slice(2), ctx.shape(ctx.node.output![0]).slice(2))];
    },
  },
};
