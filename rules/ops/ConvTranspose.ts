import { attrInt, attrInts, attrString } from '../../rewriter/attributes';
import { convBiasGrad, convWeightGrad, splitPadding } from '../op-forms';
import { RuleEntry } from '../types';

/**
 * dX = Conv(dY, W) with the forward's strides, dilations, group and pads (W [C_in, C_out/g, k…] is
 * read by Conv as [M = C_in, C_out/g, k…]); output_padding only adds end positions Conv ignores.
 * Pads implied by output_shape / auto_pad are recovered from the shapes (ONNX spec split). Weights
 * computed from the input get dW of that Conv with dY as its input and X as its output's gradient.
 */
export const ConvTranspose: RuleEntry = {
  opType: 'ConvTranspose', since: 1, category: 'weighted',
  rule: {
    backward(ctx, [dY]) {
      const { em, node } = ctx;
      const [x, w] = node.input!;
      const xs = ctx.shape(x).slice(2);
      // Of the rank of xs: validateProbed refuses the other ranks onnxruntime's inference gives.
      const ys = ctx.shape(node.output![0]).slice(2);
      const kernel = ctx.shape(w).slice(2);
      const n = kernel.length;
      const strides = attrInts(node, 'strides') ?? Array(n).fill(1);
      const dilations = attrInts(node, 'dilations') ?? Array(n).fill(1);
      const outputPadding = attrInts(node, 'output_padding') ?? Array(n).fill(0);
      const autoPad = attrString(node, 'auto_pad', 'NOTSET');
      let pads = attrInts(node, 'pads') ?? Array(2 * n).fill(0);
      // An output_shape past the full extent: onnxruntime pads nothing and the end positions beyond
      // it hold only the bias, so their dY is dropped.
      const beyond = Array(n).fill(0);
      if (attrInts(node, 'output_shape') || autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
        pads = Array(2 * n).fill(0);
        for (let i = 0; i < n; i++) {
          const excess = strides[i] * (xs[i] - 1) + outputPadding[i] + (kernel[i] - 1) * dilations[i] + 1 - ys[i];
          beyond[i] = Math.max(0, -excess);
          [pads[i], pads[i + n]] = splitPadding(Math.max(0, excess), autoPad);
        }
      }
      const axes = beyond.flatMap((b, i) => (b > 0 ? [i + 2] : []));
      const read = axes.length ? em.slice(dY!, axes.map(() => 0), axes.map((a) => ys[a - 2] - beyond[a - 2]), axes) : dY!;
      const geometry = { kernel, strides, dilations, pads, group: attrInt(node, 'group', 1) };
      return [
        ctx.needsGrad(0) ? em.op('Conv', [read, w], { strides, dilations, pads, group: geometry.group }) : null,
        ctx.needsGrad(1) ? convWeightGrad(em, read, x, geometry, ctx.shape(node.output![0])[1], ys.map((y, i) => y - beyond[i]), xs) : null,
        ctx.needsGrad(2) ? convBiasGrad(em, dY!, xs.length + 2) : null,
      ];
    },
  },
};
