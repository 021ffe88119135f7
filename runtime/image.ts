import { ExplainError } from '../rewriter/errors';
import { channelsLast } from '../rewriter/image-layout';
import { TensorData } from './tensors';

export interface Rgb { width: number; height: number; data: Float32Array /* HWC, 0..1 */ }
export type Preprocess = 'torchvision' | 'tf' | 'none' | 'pixels';
export type Layout = 'NCHW' | 'NHWC';

const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];

/** Per-channel mean and std a preset normalises pixels in [0, 1] with (model value = (pixel − mean)/std). */
export function presetNormalization(preprocess: Preprocess, channels: number): { mean: number[]; std: number[] } {
  if (preprocess === 'torchvision' && channels === 3) return { mean: MEAN, std: STD };
  // Keras applications' preprocess_input(mode='tf'): pixels scaled to [-1, 1].
  if (preprocess === 'tf') return { mean: Array(channels).fill(0.5), std: Array(channels).fill(0.5) };
  return { mean: Array(channels).fill(0), std: Array(channels).fill(1) };
}

/** Bilinear resize (half-pixel centres, as torchvision/PIL without antialias). */
function resize(img: Rgb, width: number, height: number): Rgb {
  const out = new Float32Array(width * height * 3);
  const sx = img.width / width;
  const sy = img.height / height;
  for (let y = 0; y < height; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), img.height - 1);
    const y0 = Math.floor(fy), y1 = Math.min(y0 + 1, img.height - 1), wy = fy - y0;
    for (let x = 0; x < width; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), img.width - 1);
      const x0 = Math.floor(fx), x1 = Math.min(x0 + 1, img.width - 1), wx = fx - x0;
      for (let c = 0; c < 3; c++) {
        const p = (yy: number, xx: number) => img.data[(yy * img.width + xx) * 3 + c];
        out[(y * width + x) * 3 + c] = (1 - wy) * ((1 - wx) * p(y0, x0) + wx * p(y0, x1)) + wy * ((1 - wx) * p(y1, x0) + wx * p(y1, x1));
      }
    }
  }
  return { width, height, data: out };
}

function crop(img: Rgb, width: number, height: number): Rgb {
  const left = Math.floor((img.width - width) / 2);
  const top = Math.floor((img.height - height) / 2);
  const out = new Float32Array(width * height * 3);
  for (let y = 0; y < height; y++) out.set(img.data.subarray(((y + top) * img.width + left) * 3, ((y + top) * img.width + left + width) * 3), y * width * 3);
  return { width, height, data: out };
}

/** The model's image layout, size and channels from its input dims ([N,C,H,W] or [N,H,W,C], C = 3 or 1; -1 = dynamic). */
export function imageLayout(dims: number[], label: string): { layout: Layout; height: number; width: number; channels: number } {
  if (channelsLast(dims)) return { layout: 'NHWC', height: dims[1], width: dims[2], channels: dims[3] };
  if (dims.length === 4 && (dims[1] === 3 || dims[1] === 1)) return { layout: 'NCHW', height: dims[2], width: dims[3], channels: dims[1] };
  throw new ExplainError(`${label}: input shape [${dims.map((d) => (d < 0 ? '?' : d))}] is not an image ([N,C,H,W] or [N,H,W,C] with C = 3 or 1); pass --input as .npy`);
}

/**
 * Image → model input (batch 1). torchvision: resize shorter side to size/0.875, centre crop,
 * ImageNet mean/std (RGB models; grayscale models get the crop and [0,1] luminance); tf: resize,
 * values in [-1, 1] (Keras applications' mode 'tf'); none: resize, [0,1] pixels; pixels: resize,
 * [0,255] values (models that read uint8 images).
 */
export function imageToTensor(img: Rgb, dims: number[], preprocess: Preprocess, label: string): { tensor: TensorData; shown: Rgb } {
  const { layout, height, width, channels } = imageLayout(dims, label);
  const h = height > 0 ? height : img.height;
  const w = width > 0 ? width : img.width;
  let shown: Rgb;
  if (preprocess === 'torchvision') {
    const scale = Math.round(Math.min(h, w) / 0.875) / Math.min(img.width, img.height);
    shown = crop(resize(img, Math.max(w, Math.round(img.width * scale)), Math.max(h, Math.round(img.height * scale))), w, h);
  } else {
    shown = resize(img, w, h);
  }
  const data = new Float32Array(h * w * channels);
  for (let i = 0; i < h * w; i++) {
    const px = shown.data.subarray(i * 3, i * 3 + 3);
    for (let c = 0; c < channels; c++) {
      const v = channels === 1 ? 0.299 * px[0] + 0.587 * px[1] + 0.114 * px[2] : preprocess === 'torchvision' ? (px[c] - MEAN[c]) / STD[c] : px[c];
      data[layout === 'NCHW' ? c * h * w + i : i * channels + c] = preprocess === 'pixels' ? v * 255 : preprocess === 'tf' ? 2 * v - 1 : v;
    }
  }
  return { tensor: { data, dims: layout === 'NCHW' ? [1, channels, h, w] : [1, h, w, channels] }, shown };
}

/** How attributions of this shape are drawn: images (channel-summed maps) or 1-D sequences (per-position bars). */
export type AttributionLayout =
  | { kind: 'image'; layout: Layout; channels: number; height: number; width: number }
  | { kind: 'sequence'; channelsFirst: boolean; channels: number; length: number };

/**
 * Rank 4: [N,C,H,W] (or [N,H,W,C] with C = 1 or 3); rank 3: [N,C,L] one-hot-like sequences when
 * C ≤ 8 and L ≥ 4C ([N,L,C] likewise), else a grayscale [N,H,W] image; rank 2: [N,L] sequences.
 */
export function attributionLayout(dims: number[]): AttributionLayout {
  const [, a, b, c] = dims;
  if (dims.length === 4) {
    return channelsLast(dims) ? { kind: 'image', layout: 'NHWC', channels: c, height: a, width: b } : { kind: 'image', layout: 'NCHW', channels: a, height: b, width: c };
  }
  if (dims.length === 3) {
    if (a <= 8 && b >= 4 * a) return { kind: 'sequence', channelsFirst: true, channels: a, length: b };
    if (b <= 8 && a >= 4 * b) return { kind: 'sequence', channelsFirst: false, channels: b, length: a };
    return { kind: 'image', layout: 'NCHW', channels: 1, height: a, width: b };
  }
  if (dims.length === 2) return { kind: 'sequence', channelsFirst: true, channels: 1, length: a };
  throw new ExplainError(`cannot draw attributions of shape [${dims}]: expected an image ([N,C,H,W], [N,H,W]) or a sequence ([N,L], [N,C,L]); save them as .npy`);
}

/** Row r summed over channels: a height×width map (images) or one value per position (sequences), as Captum sums over channels. */
export function channelSum(t: TensorData, row: number, l: AttributionLayout): Float32Array {
  const size = l.kind === 'image' ? l.height * l.width : l.length;
  const per = size * l.channels;
  const first = l.kind === 'image' ? l.layout === 'NCHW' : l.channelsFirst;
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) for (let c = 0; c < l.channels; c++) out[i] += t.data[row * per + (first ? c * size + i : i * l.channels + c)];
  return out;
}

/** Row r of an image tensor as displayable RGB (min–max scaled; grayscale repeated over R, G, B). */
export function tensorToRgb(t: TensorData, label: string, row = 0): Rgb {
  const { layout, height: h, width: w, channels } = imageLayout(t.dims, label);
  const per = h * w * channels;
  const x = t.data.subarray(row * per, (row + 1) * per);
  let lo = Infinity, hi = -Infinity;
  for (const v of x) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  const data = new Float32Array(h * w * 3);
  for (let i = 0; i < h * w; i++) {
    for (let c = 0; c < 3; c++) {
      const k = Math.min(c, channels - 1);
      data[i * 3 + c] = (x[layout === 'NCHW' ? k * h * w + i : i * channels + k] - lo) / (hi - lo || 1);
    }
  }
  return { width: w, height: h, data };
}
