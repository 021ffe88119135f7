import { attrFloat, attrInt } from '../../rewriter/attributes';
import { normalizeBackward, normAxis } from '../op-forms';
import { RuleEntry } from '../types';

/**
 * dX = rstd·(g − mean(g) − x̂·mean(g·x̂)), g = dY·γ, means over axes [axis, rank). Standard from
 * opset 17; onnxruntime registers the same op in the ONNX domain from opset 1 for its transformer
 * fusions, so optimised models at older opsets contain it too.
 */
export const LayerNormalization: RuleEntry = {
  opType: 'LayerNormalization', since: 1, category: 'normalization',
  rule: {
    backward(ctx, dY) {
      const { em, node } = ctx;
      const [x, scale] = node.input!;
      if (dY.slice(1).some(Boolean)) ctx.fail('gradients through the Mean/InvStdDev outputs are not supported');
      if ([1, 2].some((i) => ctx.needsGrad(i))) ctx.fail('scale or bias computed from the input is not supported');
      const rank = ctx.shape(x).length;
      const axis = normAxis(ctx, attrInt(node, 'axis', -1), rank);
      const axes = Array.from({ length: rank - axis }, (_, k) => axis + k);
      return [normalizeBackward(em, x, em.mul(dY[0]!, scale), axes, attrFloat(node, 'epsilon', 1e-5)), null, null];
    },
  },
};
