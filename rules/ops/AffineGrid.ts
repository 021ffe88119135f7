import { attrInt } from '../../rewriter/attributes';
import { RuleEntry } from '../types';

/**
 * AffineGrid (opset 20; torch's F.affine_grid before grid_sample), 2-D and 3-D: grid[n, …, p] =
 * θ_n·(x_w, y_h[, z_d], 1) with x_w = (2w + 1)/W − 1 (align_corners: 2w/(W − 1) − 1), likewise y_h,
 * z_d. A single step with align_corners sits at 1, as onnxruntime's kernel computes it (Eigen's
 * LinSpaced gives its end point; torch gives 0). Linear in θ: dθ_n = Σ_p dgrid[n, p]ᵀ ⊗ (x, y[, z], 1),
 * one MatMul with the constant base.
 */
export const AffineGrid: RuleEntry = {
  opType: 'AffineGrid', since: 20, category: 'weighted',
  rule: {
    backward(ctx, [dY]) {
      const { em, node } = ctx;
      const ys = ctx.shape(node.output![0]);
      const spatial = ys.slice(1, -1);
      const nd = spatial.length;
      const align = attrInt(node, 'align_corners', 0) === 1;
      const at = (k: number, size: number) => (align ? (size > 1 ? (2 * k) / (size - 1) - 1 : 1) : (2 * k + 1) / size - 1);
      const positions = spatial.reduce((a, b) => a * b, 1);
      const base: number[] = [];
      for (let p = 0; p < positions; p++) {
        const index = spatial.map((_, i) => Math.floor(p / spatial.slice(i + 1).reduce((a, b) => a * b, 1)) % spatial[i]);
        base.push(...index.map((k, i) => at(k, spatial[i])).reverse(), 1);
      }
      const g = em.transpose(em.reshape(dY!, [-1, positions, nd]), [0, 2, 1]);
      return [em.matmul(g, em.constFloat(base, [positions, nd + 1])), null];
    },
  },
};
