import { attrFloat, attrInt, attrInts, attrString } from '../../rewriter/attributes';
import { resizeBackward } from '../interpolation';
import { normAxis } from '../op-forms';
import { RuleEntry } from '../types';

/**
 * dX through the per-axis interpolation matrices (scales, or sizes turned into scales); roi only
 * moves tf_crop_and_resize's samples, which are refused, so it gets nothing.
 */
export const Resize: RuleEntry = {
  opType: 'Resize', since: 10, category: 'linear',
  rule: {
    backward(ctx, [dY]) {
      const { node, opset } = ctx;
      const x = node.input![0];
      const xs = ctx.shape(x);
      const rank = xs.length;
      const axes = (attrInts(node, 'axes') ?? xs.map((_, k) => k)).map((a) => normAxis(ctx, a, rank));
      const scalesName = node.input![opset >= 11 ? 2 : 1];
      const given = scalesName ? ctx.requireConstant(scalesName, 'scales').values : [];
      const scales = xs.map(() => 1);
      if (given.length > 0) {
        axes.forEach((a, k) => { scales[a] = given[k]; });
      } else {
        const sizesName = node.input![3] || ctx.fail('neither scales nor sizes given');
        const ys = ctx.shape(node.output![0]);
        axes.forEach((a) => { scales[a] = Math.fround(ys[a] / xs[a]); });
        const policy = attrString(node, 'keep_aspect_ratio_policy', 'stretch');
        if (policy !== 'stretch') {
          const sizes = ctx.requireConstant(sizesName, 'sizes').values;
          const ratios = axes.map((a, k) => Math.fround(sizes[k] / xs[a]));
          const s = policy === 'not_larger' ? Math.min(...ratios) : Math.max(...ratios);
          axes.forEach((a) => { scales[a] = s; });
        }
      }
      const mode = attrString(node, 'mode', 'nearest');
      const coord = opset >= 11 ? attrString(node, 'coordinate_transformation_mode', 'half_pixel') : 'asymmetric';
      const nearest = opset >= 11 ? attrString(node, 'nearest_mode', 'round_prefer_floor') : '';
      const cubic = { cubicA: attrFloat(node, 'cubic_coeff_a', -0.75), excludeOutside: attrInt(node, 'exclude_outside', 0) === 1, antialias: attrInt(node, 'antialias', 0) === 1 };
      return [resizeBackward(ctx, dY!, scales, { mode, coord, nearest, ...cubic }), null, null, null];
    },
  },
};
