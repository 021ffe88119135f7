import { Rgb } from '../image';

/**
 * Decodes an image file (PNG, JPEG, WebP, … whatever the browser decodes) into RGB in [0, 1]: the
 * file's own values, as Pillow reads them, without the colour management a browser applies for
 * display (an embedded ICC profile, as phone photos' Display P3, or a PNG gamma).
 */
export async function decodeImage(file: Blob): Promise<Rgb> {
  const bitmap = await createImageBitmap(file, { colorSpaceConversion: 'none' });
  const { width, height } = bitmap;
  const context = new OffscreenCanvas(width, height).getContext('2d')!;
  context.drawImage(bitmap, 0, 0);
  bitmap.close();
  const rgba = context.getImageData(0, 0, width, height).data;
  const data = new Float32Array(width * height * 3);
  for (let i = 0; i < width * height; i++) for (let c = 0; c < 3; c++) data[i * 3 + c] = rgba[i * 4 + c] / 255;
  return { width, height, data };
}

/** RGBA pixels (a visualize() Canvas) as an ImageData for a canvas's putImageData. */
export function rgbaImageData(pixels: { width: number; height: number; data: Uint8Array }): ImageData {
  return new ImageData(Uint8ClampedArray.from(pixels.data), pixels.width, pixels.height);
}
