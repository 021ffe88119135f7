import { attrInt } from '../../rewriter/attributes';
import { RuleEntry } from '../types';

/**
 * 2-D AffineGrid (opset 20; torch's F.affine_grid before grid_sample): grid[n, h, w] =
 * θ_n·(x_w, y_h, 1) with x_w = (2w + 1)/W − 1 (align_corners: 2w/(W − 1) − 1), likewise y_h.
 * Linear in θ: dθ_n = Σ_{h,w} dgrid[n, h, w]ᵀ ⊗ (x_w, y_h, 1), one MatMul with the constant base.
 */
export const AffineGrid: RuleEntry = {
  opType: 'AffineGrid', since: 20, category: 'weighted',
  rule: {
    backward(ctx, [dY]) {
      const { em, node } = ctx;
      const ys = ctx.shape(node.output![0]);
      if (ys.length !== 4) ctx.fail(`only 2-D grids (θ of shape [N, 2, 3]) are supported, not a grid of rank ${ys.length}`);
      const [, H, W] = ys;
      const align = attrInt(node, 'align_corners', 0) === 1;
      const at = (k: number, size: number) => (align ? (size > 1 ? (2 * k) / (size - 1) - 1 : 0) : (2 * k + 1) / size - 1);
      const base: number[] = [];
      for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) base.push(at(w, W), at(h, H), 1);
      const g = em.transpose(em.reshape(dY!, [-1, H * W, 2]), [0, 2, 1]);
      return [em.matmul(g, em.constFloat(base, [H * W, 3])), null];
    },
  },
};
