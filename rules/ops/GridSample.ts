import { attrInt, attrString } from '../../rewriter/attributes';
import { Emitter } from '../../rewriter/emitter';
import { roundHalfEven } from '../op-forms';
import { RuleEntry } from '../types';

/** A tap's weight along one axis as a function of the fraction t, and its derivative. */
interface Factor { weight: string; slope?: string }

/**
 * Keys' cubic weights (a = −0.75, onnxruntime's GsGetCubicCoeffs) of the taps at ⌊c⌋ − 1 … ⌊c⌋ + 2
 * for fraction t, with their derivatives in t.
 */
function cubicFactors(em: Emitter, t: string): Factor[] {
  const a = -0.75;
  const poly = (s: string, c: number[]) => c.reduce((acc, k, i) => (i === 0 ? em.scalar(k) : em.add(em.mul(acc, s), em.scalar(k))), '');
  const far = (s: string) => poly(s, [a, -5 * a, 8 * a, -4 * a]);
  const farSlope = (s: string) => poly(s, [3 * a, -10 * a, 8 * a]);
  const near = (s: string) => poly(s, [a + 2, -(a + 3), 0, 1]);
  const nearSlope = (s: string) => poly(s, [3 * (a + 2), -2 * (a + 3), 0]);
  const one = em.scalar(1);
  const [p1, m1, m2] = [em.add(t, one), em.sub(one, t), em.sub(em.scalar(2), t)];
  return [
    { weight: far(p1), slope: farSlope(p1) }, { weight: near(t), slope: nearSlope(t) },
    { weight: near(m1), slope: em.neg(nearSlope(m1)) }, { weight: far(m2), slope: em.neg(farSlope(m2)) },
  ];
}

/**
 * GridSample (Spatial Transformer Networks) in 2-D or 3-D with linear, nearest or (2-D) cubic
 * interpolation and zeros, border or reflection padding, as onnxruntime computes it. The grid
 * [N, (Do,) Ho, Wo, k] gives normalised (x, y(, z)) in [−1, 1]; x maps to ((x + 1)/2)(W − 1) with
 * align_corners, else ((x + 1)W − 1)/2. Each output is Σ w_t·X at its taps (one for nearest, 2ᵏ for
 * linear, 4×4 for cubic, with weights from the fractions of the unpadded coordinate); a tap outside
 * the image reads 0 (zeros), the nearest edge pixel (border) or its mirror image about the borders
 * (reflection: [−½, W − ½], or [0, W − 1] with align_corners). So dX = Σ_t w_t·one-hot(tap)ᵀ·dY (a
 * MatMul per row with the one-hot [P, H·W] built in the graph) and dgrid = dY·Σ_t (∂w_t/∂x)·X_t·∂x/∂grid
 * (and likewise for y and z); nearest gives dgrid = 0.
 */
export const GridSample: RuleEntry = {
  opType: 'GridSample', since: 16, category: 'weighted',
  rule: {
    backward(ctx, [dY]) {
      const { em, node } = ctx;
      const [x, grid] = node.input!;
      const xs = ctx.shape(x);
      if (xs.length !== 4 && xs.length !== 5) ctx.fail(`only 2-D and 3-D sampling (4-D or 5-D input) are supported, not rank ${xs.length}`);
      const mode = attrString(node, 'mode', ctx.opset >= 20 ? 'linear' : 'bilinear');
      const padding = attrString(node, 'padding_mode', 'zeros');
      if (!['linear', 'bilinear', 'nearest', 'cubic', 'bicubic'].includes(mode)) ctx.fail(`mode '${mode}' is not supported`);
      if (!['zeros', 'border', 'reflection'].includes(padding)) ctx.fail(`padding_mode '${padding}' is not supported`);
      const align = attrInt(node, 'align_corners', 0) === 1;
      const [, C, ...spatial] = xs;
      const volume = spatial.reduce((a, b) => a * b, 1);
      // Grid component k (x, y, z) addresses spatial axis rank − 1 − k: its size and its stride in the flattened image.
      const sizes = spatial.map((_, k) => spatial[spatial.length - 1 - k]);
      const strides = sizes.map((_, k) => sizes.slice(0, k).reduce((a, b) => a * b, 1));
      const P = ctx.shape(node.output![0]).slice(2).reduce((a, b) => a * b, 1);
      // Pixel coordinates [N, P] of the grid's component k.
      const coordinate = (k: number, size: number) => {
        const g = em.reshape(em.slice(grid, [k], [k + 1], [spatial.length + 1]), [-1, P]);
        return align ? em.mul(em.add(g, em.scalar(1)), em.scalar((size - 1) / 2)) : em.mul(em.sub(em.mul(em.add(g, em.scalar(1)), em.scalar(size)), em.scalar(1)), em.scalar(0.5));
      };
      const one = em.scalar(1);
      // The pixel a tap at integer c reads along an axis of `size`, and whether it lies inside.
      const clamp = (c: string, size: number) => em.op('Clip', [c, em.scalar(0), em.scalar(size - 1)]);
      const read = (c: string, size: number): { at: string; inside?: string } => {
        if (padding === 'zeros') return { at: clamp(c, size), inside: em.mul(em.mask('GreaterOrEqual', c, em.scalar(0)), em.mask('LessOrEqual', c, em.scalar(size - 1))) };
        if (padding === 'border') return { at: clamp(c, size) };
        // onnxruntime's GsReflect: folded n times by the range, back from the lower or upper border.
        const [lo, hi] = align ? [0, size - 1] : [-0.5, size - 0.5];
        const [below, above] = [em.compare('Less', c, em.scalar(lo)), em.compare('Greater', c, em.scalar(hi))];
        const past = em.where(below, em.sub(em.scalar(lo), c), em.where(above, em.sub(c, em.scalar(hi)), em.scalar(0)));
        const folds = em.floor(em.div(past, em.scalar(hi - lo)));
        const rest = em.sub(past, em.mul(folds, em.scalar(hi - lo)));
        const odd = em.compare('Equal', em.sub(folds, em.mul(em.floor(em.mul(folds, em.scalar(0.5))), em.scalar(2))), one);
        const [fromLo, fromHi] = [em.add(em.scalar(lo), rest), em.sub(em.scalar(hi), rest)];
        const mirrored = em.where(below, em.where(odd, fromHi, fromLo), em.where(above, em.where(odd, fromLo, fromHi), c));
        return { at: clamp(em.floor(mirrored), size) };
      };
      // Per axis: the taps' integer positions and weight factors.
      const axis = (c: string): { taps: string[]; factors: Factor[] } => {
        if (mode === 'nearest') return { taps: [roundHalfEven(em, c)], factors: [{ weight: em.onesLike(c) }] };
        const base = em.floor(c);
        const t = em.sub(c, base);
        if (mode === 'cubic' || mode === 'bicubic') {
          if (spatial.length !== 2) ctx.fail('cubic mode samples 2-D inputs only');
          return { taps: [-1, 0, 1, 2].map((k) => em.add(base, em.scalar(k))), factors: cubicFactors(em, t) };
        }
        return { taps: [base, em.add(base, one)], factors: [{ weight: em.sub(one, t), slope: em.neg(one) }, { weight: t, slope: one }] };
      };
      const axes = sizes.map((size, k) => {
        const a = axis(coordinate(k, size));
        return { ...a, reads: a.taps.map((c) => read(c, size)) };
      });
      // Every combination of one tap per axis: its flat index, weight, and weight slopes per component.
      const product = <T>(lists: T[][]): T[][] => lists.reduce<T[][]>((acc, list) => acc.flatMap((p) => list.map((v) => [...p, v])), [[]]);
      const taps = product(axes.map((a) => a.reads.map((r, i) => ({ r, f: a.factors[i] })))).map((combo) => {
        const insides = combo.flatMap(({ r }) => (r.inside ? [r.inside] : []));
        const inside = insides.length ? insides.reduce((a, b) => em.mul(a, b)) : undefined;
        const masked = (w: string) => (inside ? em.mul(w, inside) : w);
        const weightBut = (skip: number) => combo.map(({ f }) => f.weight).filter((_, k) => k !== skip).reduce((a, b) => em.mul(a, b));
        return {
          index: combo.map(({ r }, k) => em.mul(r.at, em.scalar(strides[k]))).reduce((a, b) => em.add(a, b)),
          weight: masked(combo.map(({ f }) => f.weight).reduce((a, b) => em.mul(a, b))),
          slopes: combo.every(({ f }) => f.slope) ? combo.map(({ f }, k) => masked(em.mul(f.slope!, weightBut(k)))) : undefined,
        };
      });
      const positions = em.constFloat(Array.from({ length: volume }, (_, k) => k), [volume]);
      // One-hot [N, P, volume] of each tap.
      const hots = taps.map((t) => em.mask('Equal', em.unsqueeze(t.index, [2]), positions));
      const g = em.reshape(dY!, [-1, C, P]);
      let dX: string | null = null;
      if (ctx.needsGrad(0)) {
        const m = em.sum(taps.map((t, k) => em.mul(hots[k], em.unsqueeze(t.weight, [2]))));
        dX = em.reshape(em.matmul(g, m), [-1, C, ...spatial]);
      }
      if (!ctx.needsGrad(1)) return [dX, null];
      if (mode === 'nearest') return [dX, em.mul(grid, em.scalar(0))];
      // Σ_t (∂w_t/∂c)·X_t [N, C, P], X at each tap read through its one-hot.
      const flat = em.reshape(x, [-1, C, volume]);
      const values = hots.map((h) => em.matmul(flat, em.transpose(h, [0, 2, 1])));
      const along = (k: number, size: number) => {
        const dI = em.sum(taps.map((t, i) => em.mul(values[i], em.unsqueeze(t.slopes![k], [1]))));
        return em.mul(em.reduceSum(em.mul(g, dI), [1], false), em.scalar(align ? (size - 1) / 2 : size / 2));
      };
      const dGrid = em.concat(sizes.map((size, k) => em.unsqueeze(along(k, size), [2])), 2);
      return [dX, ctx.reshapeLike(dGrid, grid)];
    },
  },
};
