import { attrInt, attrString } from '../../rewriter/attributes';
import { Emitter } from '../../rewriter/emitter';
import { RuleEntry } from '../types';

/** Round half to even (std::nearbyint, as onnxruntime's nearest mode). */
function roundHalfEven(em: Emitter, v: string): string {
  const r = em.floor(em.add(v, em.scalar(0.5)));
  const odd = em.sub(r, em.mul(em.floor(em.mul(r, em.scalar(0.5))), em.scalar(2)));
  return em.sub(r, em.mul(em.mask('Equal', em.sub(r, v), em.scalar(0.5)), odd));
}

/** One sampled pixel per output position: its flat index, whether it lies in the image (zeros padding), its weight. */
interface Tap { index: string; inside?: string; weight: string }

/**
 * 2-D GridSample (Spatial Transformer Networks) with linear or nearest interpolation and zeros or
 * border padding. The grid [N, Ho, Wo, 2] gives normalised (x, y) in [−1, 1]; x maps to
 * ((x + 1)/2)(W − 1) with align_corners, else ((x + 1)W − 1)/2. Each output is Σ w_t·X at its
 * taps (four for linear, one for nearest), so dX = Σ_t w_t·one-hot(tap)ᵀ·dY (a MatMul per row
 * with the one-hot [Ho·Wo, H·W] built in the graph) and, for linear, dgrid = dY·∂Y/∂x·∂x/∂grid
 * with ∂Y/∂x = (1 − wy)(X₁₀ − X₀₀) + wy(X₁₁ − X₀₁) (and likewise for y); nearest gives dgrid = 0.
 */
export const GridSample: RuleEntry = {
  opType: 'GridSample', since: 16, category: 'weighted',
  rule: {
    backward(ctx, [dY]) {
      const { em, node } = ctx;
      const [x, grid] = node.input!;
      const xs = ctx.shape(x);
      if (xs.length !== 4) ctx.fail(`only 2-D sampling (4-D input) is supported, not rank ${xs.length}`);
      const mode = attrString(node, 'mode', ctx.opset >= 20 ? 'linear' : 'bilinear');
      const padding = attrString(node, 'padding_mode', 'zeros');
      if (!['linear', 'bilinear', 'nearest'].includes(mode)) ctx.fail(`mode '${mode}' is not supported (linear and nearest are)`);
      if (padding !== 'zeros' && padding !== 'border') ctx.fail(`padding_mode '${padding}' is not supported (zeros and border are)`);
      const align = attrInt(node, 'align_corners', 0) === 1;
      const [, C, H, W] = xs;
      const ys = ctx.shape(node.output![0]);
      const P = ys[2] * ys[3];
      // Pixel coordinates [N, P] of the grid's x and y.
      const coordinate = (k: number, size: number) => {
        const g = em.reshape(em.slice(grid, [k], [k + 1], [3]), [-1, P]);
        return align ? em.mul(em.add(g, em.scalar(1)), em.scalar((size - 1) / 2)) : em.mul(em.sub(em.mul(em.add(g, em.scalar(1)), em.scalar(size)), em.scalar(1)), em.scalar(0.5));
      };
      const [ix, iy] = [coordinate(0, W), coordinate(1, H)];
      const one = em.scalar(1);
      // Border padding reads the nearest edge pixel: the tap's index is clamped into the image.
      const tap = (cx: string, cy: string, weight?: string): Tap => {
        const within = (c: string, size: number) => em.mul(em.mask('GreaterOrEqual', c, em.scalar(0)), em.mask('LessOrEqual', c, em.scalar(size - 1)));
        const clamp = (c: string, size: number) => em.op('Clip', [c, em.scalar(0), em.scalar(size - 1)]);
        const index = em.add(em.mul(clamp(cy, H), em.scalar(W)), clamp(cx, W));
        const inside = padding === 'zeros' ? em.mul(within(cx, W), within(cy, H)) : undefined;
        // Nearest: weight 1.
        const base = weight ?? em.onesLike(ix);
        return { index, inside, weight: inside ? em.mul(base, inside) : base };
      };
      let taps: Tap[];
      let fx = '', fy = '';
      if (mode === 'nearest') {
        taps = [tap(roundHalfEven(em, ix), roundHalfEven(em, iy))];
      } else {
        const [x0, y0] = [em.floor(ix), em.floor(iy)];
        [fx, fy] = [em.sub(ix, x0), em.sub(iy, y0)];
        const [x1, y1] = [em.add(x0, one), em.add(y0, one)];
        const [gx, gy] = [em.sub(one, fx), em.sub(one, fy)];
        taps = [tap(x0, y0, em.mul(gx, gy)), tap(x1, y0, em.mul(fx, gy)), tap(x0, y1, em.mul(gx, fy)), tap(x1, y1, em.mul(fx, fy))];
      }
      const positions = em.constFloat(Array.from({ length: H * W }, (_, k) => k), [H * W]);
      // One-hot [N, P, H·W] of each tap, its weight folded in for dX.
      const hot = (t: Tap) => em.mask('Equal', em.unsqueeze(t.index, [2]), positions);
      const hots = taps.map(hot);
      const g = em.reshape(dY!, [-1, C, P]);
      let dX: string | null = null;
      if (ctx.needsGrad(0)) {
        const m = em.sum(taps.map((t, k) => em.mul(hots[k], em.unsqueeze(t.weight, [2]))));
        dX = em.reshape(em.matmul(g, m), [-1, C, H, W]);
      }
      if (!ctx.needsGrad(1)) return [dX, null];
      if (mode === 'nearest') return [dX, em.mul(grid, em.scalar(0))];
      // X at each tap [N, C, P], 0 outside with zeros padding.
      const flat = em.reshape(x, [-1, C, H * W]);
      const [v00, v10, v01, v11] = taps.map((t, k) => {
        const v = em.matmul(flat, em.transpose(hots[k], [0, 2, 1]));
        return t.inside ? em.mul(v, em.unsqueeze(t.inside, [1])) : v;
      });
      // The fractions [N, P] broadcast over the channels of [N, C, P].
      const [ux, uy] = [em.unsqueeze(fx, [1]), em.unsqueeze(fy, [1])];
      const dIx = em.add(em.mul(em.sub(one, uy), em.sub(v10, v00)), em.mul(uy, em.sub(v11, v01)));
      const dIy = em.add(em.mul(em.sub(one, ux), em.sub(v01, v00)), em.mul(ux, em.sub(v11, v10)));
      const scale = (size: number) => em.scalar(align ? (size - 1) / 2 : size / 2);
      const along = (d: string, size: number) => em.mul(em.reduceSum(em.mul(g, d), [1], false), scale(size));
      const dGrid = em.concat([em.unsqueeze(along(dIx, W), [2]), em.unsqueeze(along(dIy, H), [2])], 2);
      return [dX, ctx.reshapeLike(dGrid, grid)];
    },
  },
};
