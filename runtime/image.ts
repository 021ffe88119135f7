import { ExplainError } from '../rewriter/errors';
import { channelsLast } from '../rewriter/image-layout';
import { pillowLuma, pillowNearest, pillowResize } from './pillow-resize';
import { TensorData } from './tensors';
import { lookupTable } from '../rewriter/lookup-table';

export interface Rgb { width: number; height: number; data: Float32Array /* HWC, 0..1 */ }

/** A decoded image's 8-bit RGBA as Rgb (alpha left out, as Pillow's convert('RGB')). */
export function rgbFromRgba(rgba: ArrayLike<number>, width: number, height: number): Rgb {
  const data = new Float32Array(width * height * 3);
  for (let i = 0; i < width * height; i++) for (let c = 0; c < 3; c++) data[i * 3 + c] = rgba[i * 4 + c] / 255;
  return { width, height, data };
}
export type Preprocess = 'torchvision' | 'tf' | 'caffe' | 'none' | 'pixels';
export type Layout = 'NCHW' | 'NHWC';

const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];

/** Per-channel mean and std that pixels in [0, 1] are normalised with: model value = (pixel − mean)/std. */
export interface Normalization { mean: number[]; std: number[] }

/**
 * A normalisation given for an image model (torchvision's `Normalize(mean, std)`: MNIST's 0.1307 and
 * 0.3081, CIFAR's, CLIP's), one value for every channel or one per channel, as per-channel lists.
 */
function channelNormalization(n: Normalization, channels: number, label: string): Normalization {
  const each = (values: number[], what: string) => {
    if (values.length !== 1 && values.length !== channels) throw new ExplainError(`${label}: ${what} has ${values.length} values; give one, or one per channel (${channels})`);
    if (values.some((v) => !Number.isFinite(v) || (what === 'std' && v <= 0))) throw new ExplainError(`${label}: ${what} [${values}] must be finite${what === 'std' ? ' and positive' : ''}`);
    return Array.from({ length: channels }, (_, c) => values[values.length === 1 ? 0 : c]);
  };
  return { mean: each(n.mean, 'mean'), std: each(n.std, 'std') };
}

/** A given normalisation, per channel, in place of the preset's (torchvision's or none's: the presets of [0, 1] pixels). */
export function givenNormalization(n: Normalization, preprocess: Preprocess, channels: number, label: string): Normalization {
  if (preprocess !== 'torchvision' && preprocess !== 'none') throw new ExplainError(`${label}: a mean and std normalise pixels in [0, 1]: give them with --preprocess torchvision or none, not ${preprocess}`);
  return channelNormalization(n, channels, label);
}

/** Per-channel mean and std a preset normalises pixels in [0, 1] with (model value = (pixel − mean)/std). */
export function presetNormalization(preprocess: Preprocess, channels: number): Normalization {
  if (preprocess === 'torchvision' && channels === 3) return { mean: MEAN, std: STD };
  // Keras applications' preprocess_input(mode='tf'): pixels scaled to [-1, 1].
  if (preprocess === 'tf') return { mean: Array(channels).fill(0.5), std: Array(channels).fill(0.5) };
  return { mean: Array(channels).fill(0), std: Array(channels).fill(1) };
}

/** The model's image layout, size and channels from its input dims ([N,C,H,W] or [N,H,W,C], C = 3 or 1; -1 = dynamic). */
export function imageLayout(dims: number[], label: string): { layout: Layout; height: number; width: number; channels: number } {
  if (channelsLast(dims)) return { layout: 'NHWC', height: dims[1], width: dims[2], channels: dims[3] };
  if (dims.length === 4 && (dims[1] === 3 || dims[1] === 1)) return { layout: 'NCHW', height: dims[2], width: dims[3], channels: dims[1] };
  throw new ExplainError(`${label}: input shape [${dims.map((d) => (d < 0 ? '?' : d))}] is not an image ([N,C,H,W] or [N,H,W,C] with C = 3 or 1); pass --input as .npy`);
}

/** Python's round() of a whole or half number: halves to even. */
const roundHalfEven = (v: number) => (v - Math.floor(v) === 0.5 && Math.floor(v) % 2 === 0 ? Math.floor(v) : Math.round(v));

const f = Math.fround;
/** Keras applications' `preprocess_input(mode='caffe')` means, subtracted from the channels it reverses to BGR. */
const CAFFE_BGR_MEAN = [103.939, 116.779, 123.68];

/** torchvision's `Normalize` of `ToTensor`'s value of an 8-bit level, in float32. */
const normalize = (level: number, mean: number, std: number) => f(f(f(level / 255) - f(mean)) / f(std));

/** Channel c's model value from `level(k)`, the pixel's 8-bit level of RGB channel k (or its luma), in float32 as each pipeline computes it. */
const VALUE: Record<Preprocess, (level: (k: number) => number, c: number, channels: number) => number> = lookupTable({
  torchvision: (level, c, channels) => (channels === 3 ? normalize(level(c), MEAN[c], STD[c]) : f(level(c) / 255)),
  tf: (level, c) => f(f(level(c) / 127.5) - 1),
  caffe: (level, c) => f(level(2 - c) - f(CAFFE_BGR_MEAN[c])),
  none: (level, c) => f(level(c) / 255),
  pixels: (level, c) => level(c),
});

/**
 * Image → model input (batch 1), as the Python pipeline of each preset makes it from the same file
 * (Pillow 9, torchvision, Keras), grayscale models reading Pillow's `convert('L')` first.
 * torchvision: `Resize(round(size/0.875))` of the shorter side (the longer one truncated, as
 * torchvision computes it; grown to the crop where shorter) with Pillow's bilinear filter
 * (antialiased when shrinking), `CenterCrop`, `ToTensor`, the ImageNet `Normalize` (RGB models;
 * a model of free height or width reads the image at its size, `ToTensor` and `Normalize` alone);
 * tf and caffe: Keras' `load_img(target_size=…)` (Pillow's nearest resize to the model's size) and
 * `preprocess_input` in that mode ([-1, 1]; BGR less the ImageNet means, 0–255 scale); none and
 * pixels: Pillow's bilinear resize to the model's size, [0,1] or [0,255] values. A `normalization`
 * (torchvision and none) replaces the preset's: (pixel − mean)/std per channel.
 */
export function imageToTensor(img: Rgb, dims: number[], preprocess: Preprocess, label: string, normalization?: Normalization): { tensor: TensorData; shown: Rgb } {
  const { layout, height, width, channels } = imageLayout(dims, label);
  if (preprocess === 'caffe' && channels !== 3) throw new ExplainError(`${label}: --preprocess caffe reverses three colour channels to BGR; the model's input has ${channels}`);
  const norm = normalization && givenNormalization(normalization, preprocess, channels, label);
  const h = height > 0 ? height : img.height;
  const w = width > 0 ? width : img.width;
  const rgb = new Uint8Array(img.data.length);
  for (let i = 0; i < rgb.length; i++) rgb[i] = Math.round(Math.min(Math.max(img.data[i], 0), 1) * 255);
  const bands = channels === 1 ? 1 : 3;
  const pixels = bands === 1 ? pillowLuma(rgb) : rgb;
  let [rw, rh] = [w, h];
  // A model of free height or width takes the image at its own size: no zoom to crop back.
  if (preprocess === 'torchvision' && height > 0 && width > 0) {
    const side = Math.round(Math.min(h, w) / 0.875);
    const [short, long] = [Math.min(img.width, img.height), Math.max(img.width, img.height)];
    const stretched = Math.trunc((side * long) / short);
    [rw, rh] = img.width <= img.height ? [side, stretched] : [stretched, side];
    [rw, rh] = [Math.max(rw, w), Math.max(rh, h)];
  }
  const resize = preprocess === 'tf' || preprocess === 'caffe' ? pillowNearest : pillowResize;
  const resized = resize(pixels, [img.height, img.width, bands], rw, rh);
  const top = roundHalfEven((rh - h) / 2);
  const left = roundHalfEven((rw - w) / 2);
  const data = new Float32Array(h * w * channels);
  const shown: Rgb = { width: w, height: h, data: new Float32Array(h * w * 3) };
  const value = norm ? (level: (k: number) => number, c: number) => normalize(level(c), norm.mean[c], norm.std[c]) : VALUE[preprocess];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      const level = (k: number) => resized[((y + top) * rw + x + left) * bands + Math.min(k, bands - 1)];
      for (let c = 0; c < 3; c++) shown.data[i * 3 + c] = level(c) / 255;
      for (let c = 0; c < channels; c++) data[layout === 'NCHW' ? c * h * w + i : i * channels + c] = value(level, c, channels);
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
