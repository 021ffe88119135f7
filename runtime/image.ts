import { ExplainError } from '../rewriter/errors';
import { TensorData } from './tensors';

export interface Rgb { width: number; height: number; data: Float32Array /* HWC, 0..1 */ }
export type Preprocess = 'torchvision' | 'none';
export type Layout = 'NCHW' | 'NHWC';

const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];

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

/** The model's image layout and size from its input dims ([N,3,H,W] or [N,H,W,3]; -1 = dynamic). */
export function imageLayout(dims: number[], label: string): { layout: Layout; height: number; width: number } {
  if (dims.length === 4 && dims[1] === 3) return { layout: 'NCHW', height: dims[2], width: dims[3] };
  if (dims.length === 4 && dims[3] === 3) return { layout: 'NHWC', height: dims[1], width: dims[2] };
  throw new ExplainError(`${label}: input shape [${dims.map((d) => (d < 0 ? '?' : d))}] is not an RGB image ([N,3,H,W] or [N,H,W,3]); pass --input as .npy`);
}

/** Image → model input (batch 1). torchvision: resize shorter side to size/0.875, centre crop, ImageNet mean/std. */
export function imageToTensor(img: Rgb, dims: number[], preprocess: Preprocess, label: string): { tensor: TensorData; shown: Rgb } {
  const { layout, height, width } = imageLayout(dims, label);
  const h = height > 0 ? height : img.height;
  const w = width > 0 ? width : img.width;
  let shown: Rgb;
  if (preprocess === 'torchvision') {
    const scale = Math.round(Math.min(h, w) / 0.875) / Math.min(img.width, img.height);
    shown = crop(resize(img, Math.max(w, Math.round(img.width * scale)), Math.max(h, Math.round(img.height * scale))), w, h);
  } else {
    shown = resize(img, w, h);
  }
  const data = new Float32Array(h * w * 3);
  for (let i = 0; i < h * w; i++) {
    for (let c = 0; c < 3; c++) {
      const v = preprocess === 'torchvision' ? (shown.data[i * 3 + c] - MEAN[c]) / STD[c] : shown.data[i * 3 + c];
      data[layout === 'NCHW' ? c * h * w + i : i * 3 + c] = v;
    }
  }
  return { tensor: { data, dims: layout === 'NCHW' ? [1, 3, h, w] : [1, h, w, 3] }, shown };
}

/** Row 0 of an image tensor as displayable RGB (min–max scaled). */
export function tensorToRgb(t: TensorData, label: string): Rgb {
  const { layout, height: h, width: w } = imageLayout(t.dims, label);
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < h * w * 3; i++) { lo = Math.min(lo, t.data[i]); hi = Math.max(hi, t.data[i]); }
  const data = new Float32Array(h * w * 3);
  for (let i = 0; i < h * w; i++) for (let c = 0; c < 3; c++) data[i * 3 + c] = (t.data[layout === 'NCHW' ? c * h * w + i : i * 3 + c] - lo) / (hi - lo || 1);
  return { width: w, height: h, data };
}

/** Per-pixel Σ|attribution| over channels of row 0 (Captum's absolute-value heat map). */
function heat(attr: TensorData, layout: Layout, h: number, w: number): Float32Array {
  const out = new Float32Array(h * w);
  for (let i = 0; i < h * w; i++) for (let c = 0; c < 3; c++) out[i] += Math.abs(attr.data[layout === 'NCHW' ? c * h * w + i : i * 3 + c]);
  return out;
}

/** RGBA pixels: the heat map (normalised at its 99th percentile, 'hot' colours) blended over the image. */
export function heatmapRgba(attr: TensorData, shown: Rgb, label: string): { width: number; height: number; data: Uint8Array } {
  const { layout, height: h, width: w } = imageLayout(attr.dims, label);
  const m = heat(attr, layout, h, w);
  const sorted = Float32Array.from(m).sort();
  const top = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] || 1;
  const data = new Uint8Array(w * h * 4);
  for (let i = 0; i < h * w; i++) {
    const v = Math.min(1, m[i] / top);
    const hot = [Math.min(1, 3 * v), Math.min(1, Math.max(0, 3 * v - 1)), Math.max(0, 3 * v - 2)];
    for (let c = 0; c < 3; c++) data[i * 4 + c] = Math.round(255 * Math.min(1, 0.35 * shown.data[i * 3 + c] + 0.65 * hot[c]));
    data[i * 4 + 3] = 255;
  }
  return { width: w, height: h, data };
}
