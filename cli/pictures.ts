import { Canvas } from '../runtime/plot';

/**
 * Row 0 of an NCHW tensor as a picture: pixels = value·std + mean per channel (the preprocessing
 * preset undone), clamped to [0, 1]; three channels as RGB, any other count as the first channel in grey.
 */
export function pictureOf(data: ArrayLike<number>, dims: number[], norm: { mean: number[]; std: number[] }): Canvas {
  const [c, h, w] = dims.slice(-3);
  const canvas = new Canvas(w, h);
  const pixel = (ch: number, i: number) => Math.round(255 * Math.min(1, Math.max(0, data[ch * h * w + i] * norm.std[ch] + norm.mean[ch])));
  for (let i = 0; i < h * w; i++) {
    const rgb = c === 3 ? [pixel(0, i), pixel(1, i), pixel(2, i)] as const : [pixel(0, i), pixel(0, i), pixel(0, i)] as const;
    canvas.setPixel(i % w, Math.floor(i / w), rgb);
  }
  return canvas;
}

/** Per-pixel sum over the channels of row 0 of an NCHW tensor (for a signed heat map). */
export function channelSum(data: ArrayLike<number>, dims: number[]): Float32Array {
  const [c, h, w] = dims.slice(-3);
  const out = new Float32Array(h * w);
  for (let ch = 0; ch < c; ch++) for (let i = 0; i < h * w; i++) out[i] += data[ch * h * w + i];
  return out;
}
