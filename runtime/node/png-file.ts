import { PNG } from 'pngjs';
import { writeFileAtomic } from './files';

/** Encodes RGBA pixels as PNG bytes. */
export function encodePng(image: { width: number; height: number; data: Uint8Array }): Uint8Array<ArrayBuffer> {
  const png = new PNG({ width: image.width, height: image.height });
  png.data.set(image.data);
  return PNG.sync.write(png) as Uint8Array<ArrayBuffer>;
}

/** Writes RGBA pixels (a Canvas, a heat map) as a PNG file, creating its folder. */
export function writePng(file: string, image: { width: number; height: number; data: Uint8Array }): string {
  writeFileAtomic(file, encodePng(image));
  return file;
}
