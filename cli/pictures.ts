import { channelsLast } from '../rewriter/image-layout';
import { Canvas } from '../runtime/plot';

/** Channels, height and width of row 0 of an image tensor ([N, C, H, W], channels last, or [C, H, W]) and where channel ch of pixel i is. */
function imageOf(dims: number[]): { c: number; h: number; w: number; at: (ch: number, i: number) => number } {
  const hwc = channelsLast(dims);
  const [c, h, w] = hwc ? [dims[3], dims[1], dims[2]] : dims.slice(-3);
  return { c, h, w, at: hwc ? (ch, i) => i * c + ch : (ch, i) => ch * h * w + i };
}

/**
 * Row 0 of an image tensor as a picture: pixels = value·std + mean per channel (the preprocessing
 * preset undone), clamped to [0, 1]; three channels as RGB, any other count as the first channel in grey.
 */
export function pictureOf(data: ArrayLike<number>, dims: number[], norm: { mean: number[]; std: number[] }): Canvas {
  const { c, h, w, at } = imageOf(dims);
  const canvas = new Canvas(w, h);
  const pixel = (ch: number, i: number) => Math.round(255 * Math.min(1, Math.max(0, data[at(ch, i)] * norm.std[ch] + norm.mean[ch])));
  for (let i = 0; i < h * w; i++) {
    const rgb = c === 3 ? [pixel(0, i), pixel(1, i), pixel(2, i)] as const : [pixel(0, i), pixel(0, i), pixel(0, i)] as const;
    canvas.setPixel(i % w, Math.floor(i / w), rgb);
  }
  return canvas;
}

/** Per-pixel sum over the channels of row 0 of an image tensor (for a signed heat map). */
export function channelSum(data: ArrayLike<number>, dims: number[]): Float32Array {
  const { c, h, w, at } = imageOf(dims);
  const out = new Float32Array(h * w);
  for (let ch = 0; ch < c; ch++) for (let i = 0; i < h * w; i++) out[i] += data[at(ch, i)];
  return out;
}
