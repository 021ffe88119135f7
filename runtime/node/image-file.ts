import { PNG } from 'pngjs';
import { readRegularFile } from './files';
import { ExplainError } from '../../rewriter/errors';
import { Rgb, rgbFromRgba } from '../image';
import { decodeJpeg } from './jpeg';

export function readImage(file: string): Rgb {
  const buf = readRegularFile(file);
  let width: number, height: number, rgba: Uint8Array;
  try {
    if ([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a].every((b, k) => buf[k] === b)) {
      const png = PNG.sync.read(withoutTransparentColour(buf));
      ({ width, height } = png);
      rgba = png.data;
    } else if (buf[0] === 0xff && buf[1] === 0xd8) {
      const img = decodeJpeg(buf);
      ({ width, height } = img);
      rgba = img.data;
    } else {
      throw new ExplainError(`${file}: not a PNG or JPEG image`);
    }
  } catch (e) {
    if (e instanceof ExplainError) throw e;
    throw new ExplainError(`${file}: cannot decode image (${(e as Error).message})`);
  }
  return rgbFromRgba(rgba, width, height);
}

/**
 * The PNG less its tRNS chunk when it is grayscale or RGB (colour type 0 or 2, at byte 25 in IHDR):
 * pngjs blacks out the colour that chunk marks transparent, which Pillow's convert('RGB') keeps.
 */
function withoutTransparentColour(buf: Buffer): Buffer {
  if (buf[25] !== 0 && buf[25] !== 2) return buf;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  for (let at = 8; at + 8 <= buf.length;) {
    const size = 12 + view.getUint32(at);
    if (String.fromCharCode(...buf.subarray(at + 4, at + 8)) === 'tRNS') return Buffer.concat([buf.subarray(0, at), buf.subarray(at + size)]);
    at += size;
  }
  return buf;
}

