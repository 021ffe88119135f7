import { AttributionLayout, attributionLayout } from '../runtime/image';
import { Canvas } from '../runtime/plot';

/** The layout of a rank-4 image tensor, [N, C, H, W] or channels last, with any channel count. */
export function imageLayout(dims: number[]): Extract<AttributionLayout, { kind: 'image' }> {
  return attributionLayout(dims) as Extract<AttributionLayout, { kind: 'image' }>;
}

/**
 * Row 0 of a rank-4 image tensor as a picture: pixels = value·std + mean per channel (the
 * preprocessing preset undone), clamped to [0, 1]; three channels as RGB, any other count as the
 * first channel in grey.
 */
export function pictureOf(data: ArrayLike<number>, dims: number[], norm: { mean: number[]; std: number[] }): Canvas {
  const { channels: c, height: h, width: w, layout } = imageLayout(dims);
  const at = layout === 'NCHW' ? (ch: number, i: number) => ch * h * w + i : (ch: number, i: number) => i * c + ch;
  const canvas = new Canvas(w, h);
  const pixel = (ch: number, i: number) => Math.round(255 * Math.min(1, Math.max(0, data[at(ch, i)] * norm.std[ch] + norm.mean[ch])));
  for (let i = 0; i < h * w; i++) {
    const rgb = c === 3 ? [pixel(0, i), pixel(1, i), pixel(2, i)] as const : [pixel(0, i), pixel(0, i), pixel(0, i)] as const;
    canvas.setPixel(i % w, Math.floor(i / w), rgb);
  }
  return canvas;
}
