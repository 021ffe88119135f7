/**
 * Pillow's bilinear `Image.resize` of 8-bit images, to the integer (libImaging/Resample.c), so that
 * an image file becomes the tensor torchvision's PIL transforms make of it: each output sample
 * weighs the inputs under a triangle filter widened by the scale when shrinking (antialiasing,
 * which a plain bilinear lookup lacks), weights normalised to sum 1 and held with 22 fraction
 * bits; a horizontal pass, rounded to 8 bits, then a vertical one.
 */

const FRACTION_BITS = 22;
const ONE = 2 ** FRACTION_BITS;

interface AxisWeights {
  /** First input index each output sample reads. */
  first: Int32Array;
  /** Fixed-point weights of each output sample's inputs, from `first` on. */
  weights: Int32Array[];
}

/** precompute_coeffs and normalize_coeffs_8bpc for the bilinear filter (support 1). */
function axisWeights(inSize: number, outSize: number): AxisWeights {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filterScale;
  const inverse = 1 / filterScale;
  const first = new Int32Array(outSize);
  const weights: Int32Array[] = [];
  for (let i = 0; i < outSize; i++) {
    const center = (i + 0.5) * scale;
    const lo = Math.max(Math.trunc(center - support + 0.5), 0);
    const count = Math.min(Math.trunc(center + support + 0.5), inSize) - lo;
    const w = Array.from({ length: Math.max(count, 0) }, (_, k) => Math.max(0, 1 - Math.abs((k + lo - center + 0.5) * inverse)));
    const total = w.reduce((a, b) => a + b, 0);
    first[i] = lo;
    weights.push(Int32Array.from(w, (v) => Math.trunc(0.5 + (total !== 0 ? v / total : v) * ONE)));
  }
  return { first, weights };
}

/** One pass along `axis` (0: rows, 1: columns) of an 8-bit [height, width, bands] image. */
function pass(src: Uint8Array, [height, width, bands]: number[], axis: 0 | 1, outSize: number): Uint8Array {
  const { first, weights } = axisWeights(axis === 0 ? height : width, outSize);
  const [outH, outW] = axis === 0 ? [outSize, width] : [height, outSize];
  const step = axis === 0 ? width * bands : bands;
  const dst = new Uint8Array(outH * outW * bands);
  for (let y = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++) {
      const o = axis === 0 ? y : x;
      const start = axis === 0 ? first[o] * width * bands + x * bands : y * width * bands + first[o] * bands;
      const k = weights[o];
      for (let c = 0; c < bands; c++) {
        let sum = ONE / 2;
        for (let t = 0; t < k.length; t++) sum += src[start + t * step + c] * k[t];
        dst[(y * outW + x) * bands + c] = Math.min(Math.max(Math.floor(sum / ONE), 0), 255);
      }
    }
  }
  return dst;
}

/** `Image.resize((width, height), BILINEAR)` of an 8-bit [h, w, bands] image (a pass only where that axis changes). */
export function pillowResize(src: Uint8Array, dims: [number, number, number], width: number, height: number): Uint8Array {
  const [h, w, bands] = dims;
  const across = width !== w ? pass(src, dims, 1, width) : src;
  return height !== h ? pass(across, [h, width, bands], 0, height) : across;
}

/** `Image.convert('L')` of 8-bit RGB: ITU-R 601-2 luma in 16-bit fixed point (libImaging/Convert.c, L24). */
export function pillowLuma(rgb: Uint8Array): Uint8Array {
  const out = new Uint8Array(rgb.length / 3);
  for (let i = 0; i < out.length; i++) out[i] = (rgb[3 * i] * 19595 + rgb[3 * i + 1] * 38470 + rgb[3 * i + 2] * 7471 + 0x8000) >>> 16;
  return out;
}

/**
 * `Image.resize((width, height), NEAREST)` (Keras' `load_img(target_size=…)` default): output i reads
 * input ⌊(i + ½)·in/out⌋, the position summed up step by step as ImagingScaleAffine does.
 */
export function pillowNearest(src: Uint8Array, [h, w, bands]: [number, number, number], width: number, height: number): Uint8Array {
  const sources = (inSize: number, outSize: number) => {
    const step = inSize / outSize;
    let at = step * 0.5;
    return Array.from({ length: outSize }, () => { const i = Math.trunc(at); at += step; return i; });
  };
  const [xs, ys] = [sources(w, width), sources(h, height)];
  const dst = new Uint8Array(width * height * bands);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) dst.set(src.subarray((ys[y] * w + xs[x]) * bands, (ys[y] * w + xs[x] + 1) * bands), (y * width + x) * bands);
  }
  return dst;
}
