import { Emitter } from '../rewriter/emitter';
import { ExplainError } from '../rewriter/errors';
import { matmulAlongAxis } from './op-forms';
import { RuleContext } from './types';

/** Resize/Upsample semantics as onnxruntime computes them (float32 coordinate arithmetic). */
export interface ResizeMode {
  mode: string;
  /** coordinate_transformation_mode. */
  coord: string;
  /** nearest_mode; '' for the opset < 11 behaviour (truncate, ceil when downsampling). */
  nearest: string;
  /** Cubic mode: cubic_coeff_a, and whether taps outside the input are dropped (exclude_outside). */
  cubicA?: number;
  excludeOutside?: boolean;
  /** Antialiasing filter (Resize 18+), for linear and cubic. */
  antialias?: boolean;
}

const f = Math.fround;

/** Source coordinate of output index y along an axis. */
function originalCoordinate(coord: string, y: number, scale: number, outLen: number, inLen: number): number {
  switch (coord) {
    case 'asymmetric': return f(y / scale);
    case 'pytorch_half_pixel': return outLen > 1 ? f(f(f(y + 0.5) / scale) - 0.5) : 0;
    case 'tf_half_pixel_for_nn': return f(f(y + 0.5) / scale);
    case 'align_corners': return outLen === 1 ? 0 : f(f(y * (inLen - 1)) / (outLen - 1));
    case 'half_pixel_symmetric': {
      const adjustment = f(outLen / f(scale * inLen));
      const offset = f(f(inLen / 2) * f(1 - adjustment));
      return f(offset + (y + 0.5) / scale - 0.5);
    }
    case 'half_pixel': return f(f(f(y + 0.5) / scale) - 0.5);
    default: throw new Error(`coordinate_transformation_mode '${coord}'`);
  }
}

/** C++ std::round: halves away from zero. */
const roundHalfAway = (v: number) => Math.sign(v) * Math.floor(Math.abs(v) + 0.5);

function nearestPixel(mode: string, v: number, downsampling: boolean): number {
  switch (mode) {
    case '': return downsampling ? Math.ceil(v) : Math.trunc(v);
    case 'round_prefer_ceil': return roundHalfAway(v);
    case 'floor': return Math.floor(v);
    case 'ceil': return Math.ceil(v);
    case 'round_prefer_floor': return v === Math.trunc(v) + 0.5 ? Math.floor(v) : roundHalfAway(v);
    default: throw new Error(`nearest_mode '${mode}'`);
  }
}

/** Keys' cubic convolution kernel at distance x with coefficient a (0 from distance 2 on). */
function keys(x: number, a: number): number {
  const s = Math.abs(x);
  return s < 1 ? ((a + 2) * s - (a + 3)) * s * s + 1 : s < 2 ? ((a * s - 5 * a) * s + 8 * a) * s - 4 * a : 0;
}

/** Keys' cubic convolution weights of the taps at ⌊c⌋ − 1 … ⌊c⌋ + 2 for fraction t (onnxruntime's GetCubicCoeffs). */
function cubicWeights(t: number, a: number): number[] {
  return [keys(t + 1, a), keys(t, a), keys(1 - t, a), keys(2 - t, a)];
}

/** Interpolation matrix A (outLen × inLen, row-major) of one axis: y = A·x along that axis. */
export function interpolationMatrix(m: ResizeMode, scale: number, inLen: number, outLen: number): Float64Array {
  const a = new Float64Array(outLen * inLen);
  for (let y = 0; y < outLen; y++) {
    const src = scale === 1 ? y : originalCoordinate(m.coord, y, scale, outLen, inLen);
    if (m.mode === 'nearest') {
      const i = Math.min(Math.max(nearestPixel(m.nearest, src, scale < 1), 0), inLen - 1);
      a[y * inLen + i] = 1;
      continue;
    }
    if (m.mode === 'cubic') {
      // Taps beyond the input read its edge, or are dropped with the rest renormalised (exclude_outside).
      const base = Math.floor(src);
      const w = cubicWeights(src - base, m.cubicA ?? -0.75);
      const inside = w.map((_, k) => base - 1 + k >= 0 && base - 1 + k < inLen);
      const total = m.excludeOutside ? w.reduce((s, v, k) => s + (inside[k] ? v : 0), 0) : 1;
      w.forEach((v, k) => {
        if (m.excludeOutside && !inside[k]) return;
        a[y * inLen + Math.min(Math.max(base - 1 + k, 0), inLen - 1)] += v / total;
      });
      continue;
    }
    const c = Math.max(0, Math.min(src, inLen - 1));
    const i1 = Math.min(Math.trunc(c), inLen - 1);
    const i2 = Math.min(i1 + 1, inLen - 1);
    if (i1 === i2) {
      a[y * inLen + i1] = 1;
    } else {
      a[y * inLen + i1] += f(Math.abs(c - i2));
      a[y * inLen + i2] += f(Math.abs(c - i1));
    }
  }
  return a;
}

/**
 * Interpolation matrix of one axis for antialias (onnxruntime's Pillow-style filter): output i is
 * centred at c = 0.5 + its source coordinate; input taps ⌊c ∓ support + 0.5⌋ … weigh
 * filter((x − c + 0.5)·min(scale, 1)) with the filter's support widened by 1/scale when
 * downsampling (triangle for linear, Keys' cubic of cubic_coeff_a for cubic), normalised to sum 1;
 * taps outside the input are dropped (exclude_outside) or added to the edge tap.
 */
export function antialiasMatrix(m: ResizeMode, scale: number, inLen: number, outLen: number): Float64Array {
  const a = new Float64Array(outLen * inLen);
  const cubicA = m.cubicA ?? -0.75;
  const filter = m.mode === 'cubic' ? (x: number) => f(keys(x, cubicA)) : (x: number) => Math.max(0, f(1 - Math.abs(x)));
  const widen = f(1 / scale);
  const support = widen >= 1 ? f(f((m.mode === 'cubic' ? 4 : 2) * 0.5) * widen) : (m.mode === 'cubic' ? 2 : 1);
  const window = Math.ceil(support) * 2 + 1;
  const shrink = widen >= 1 ? f(1 / widen) : 1;
  for (let y = 0; y < outLen; y++) {
    const center = f(0.5 + (widen === 1 ? y : originalCoordinate(m.coord, y, scale, outLen, inLen)));
    const lo = Math.floor(f(f(center - support) + 0.5));
    const hi = lo + Math.min(Math.max(Math.floor(f(f(center + support) + 0.5)) - lo, 0), window);
    const taps: [number, number][] = [];
    for (let x = m.excludeOutside ? Math.max(lo, 0) : lo; x < (m.excludeOutside ? Math.min(hi, inLen) : hi); x++) taps.push([x, filter(f(f(x - center) + 0.5) * shrink)]);
    const total = taps.reduce((s, [, w]) => f(s + w), 0);
    for (const [x, w] of taps) a[y * inLen + Math.min(Math.max(x, 0), inLen - 1)] += w / (total === 0 ? 1 : total);
  }
  return a;
}

/** The most entries of one axis's dense interpolation matrix (2²⁶: 8192 × 8192, 256 MB as a float32 constant). */
const MAX_MATRIX = 2 ** 26;

/** Why an axis of inLen values cannot be resized to outLen (its matrix is too large for `builder`), or undefined. */
function oversized(axis: number, inLen: number, outLen: number, builder: string): string | undefined {
  return inLen * outLen > MAX_MATRIX ? `resizing axis ${axis} from ${inLen} to ${outLen} values needs a ${outLen}×${inLen} interpolation matrix, more than the ${MAX_MATRIX} entries ${builder} builds` : undefined;
}

/**
 * dX of a separable resize of X by per-axis scales: dY contracted with each resized axis's
 * interpolation matrix (dX = Aᵀ·dY along that axis).
 */
export function resizeBackward(ctx: RuleContext, dY: string, scales: number[], m: ResizeMode): string {
  if (!['nearest', 'linear', 'cubic'].includes(m.mode)) ctx.fail(`${m.mode} mode is not supported`);
  if (m.coord === 'tf_crop_and_resize') ctx.fail('tf_crop_and_resize is not supported');
  const x = ctx.node.input![0];
  const xs = ctx.shape(x);
  const ys = ctx.shape(ctx.node.output![0]);
  let g = dY;
  xs.forEach((inLen, axis) => {
    const scale = f(scales[axis] ?? 1);
    if (scale === 1 && ys[axis] === inLen) return;
    const tooLarge = oversized(axis, inLen, ys[axis], 'the backward pass');
    if (tooLarge) ctx.fail(tooLarge);
    const a = (m.antialias && m.mode !== 'nearest' ? antialiasMatrix : interpolationMatrix)(m, scale, inLen, ys[axis]);
    if (ys[axis] === inLen && a.every((v, k) => v === (Math.floor(k / inLen) === k % inLen ? 1 : 0))) return;
    if (axis === ctx.batchAxis(x)) ctx.fail('resizing the batch axis is not supported');
    g = matmulAlongAxis(ctx.em, g, axis, xs.length, a, ys[axis], inLen);
  });
  return g;
}

/**
 * Resizes the spatial axes (2, 3, …) of x to `size` with F.interpolate's semantics
 * (align_corners=False): 'bilinear' (linear per axis, half-pixel centres) or 'nearest'
 * (floor(dst · in/out)), as MatMuls with each axis's interpolation matrix.
 */
export function interpolateSpatial(em: Emitter, x: string, shape: number[], size: number[], mode: 'bilinear' | 'nearest'): string {
  const m: ResizeMode = mode === 'nearest' ? { mode: 'nearest', coord: 'asymmetric', nearest: 'floor' } : { mode: 'linear', coord: 'half_pixel', nearest: '' };
  let y = x;
  size.forEach((outLen, k) => {
    const axis = k + 2;
    const inLen = shape[axis];
    if (outLen === inLen) return;
    const tooLarge = oversized(axis, inLen, outLen, 'onnx-explain');
    if (tooLarge) throw new ExplainError(tooLarge);
    const a = interpolationMatrix(m, f(outLen / inLen), inLen, outLen);
    const t = new Float64Array(inLen * outLen);
    for (let r = 0; r < outLen; r++) for (let c = 0; c < inLen; c++) t[c * outLen + r] = a[r * inLen + c];
    y = matmulAlongAxis(em, y, axis, shape.length, t, inLen, outLen);
  });
  return y;
}
