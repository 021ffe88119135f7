import { attrInts } from '../../rewriter/attributes';
import { RuleEntry } from '../types';

/**
 * Col2Im (opset 18; torch's F.fold in newer exporters) sums the blocks [N, C·∏b, L] into the image
 * [N, C, …]. Its adjoint is im2col of dY: each channel, folded into the batch, convolved with one
 * one-hot kernel per block offset (in the input's order, offset-major within a channel) at the
 * node's strides, pads and dilations, then laid out as [N, C·∏b, L].
 */
export const Col2Im: RuleEntry = {
  opType: 'Col2Im', since: 18, category: 'linear',
  rule: {
    backward(ctx, [dY]) {
      const { em, node } = ctx;
      const [x, imageShape, blockShape] = node.input!;
      const image = ctx.requireConstant(imageShape, 'the image shape').values;
      const block = ctx.requireConstant(blockShape, 'the block shape').values;
      const rank = block.length;
      const offsets = block.reduce((a, b) => a * b, 1);
      const kernels = new Float32Array(offsets * offsets);
      for (let j = 0; j < offsets; j++) kernels[j * offsets + j] = 1;
      const perChannel = em.reshape(dY!, [-1, 1, ...image]);
      const blocks = em.op('Conv', [perChannel, em.constFloat(kernels, [offsets, 1, ...block])], {
        kernel_shape: block, group: 1,
        strides: attrInts(node, 'strides') ?? Array(rank).fill(1),
        pads: attrInts(node, 'pads') ?? Array(2 * rank).fill(0),
        dilations: attrInts(node, 'dilations') ?? Array(rank).fill(1),
      });
      return [ctx.reshapeLike(blocks, x), null, null];
    },
  },
};
