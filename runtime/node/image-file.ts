import * as zlib from 'zlib';
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
      checkPng(buf, file);
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


/** Pixels at most, as jpeg-js allows JPEGs (100 MP): a 2³¹−1-square PNG header aborted Node inside pngjs. */
const MAX_PIXELS = 100e6;
/** Adam7's passes: first column and row, column and row steps. */
const ADAM7 = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]];
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/**
 * A PNG's size from IHDR, before pngjs allocates it, and its image data's length once inflated:
 * pngjs decodes missing rows (a truncated IDAT, none at all) as zeros where Pillow refuses.
 */
function checkPng(buf: Buffer, file: string): void {
  if (buf.length < 29) return;
  const [width, height, depth, colour, interlaced] = [buf.readUInt32BE(16), buf.readUInt32BE(20), buf[24], buf[25], buf[28]];
  if (width * height > MAX_PIXELS) throw new ExplainError(`${file}: a PNG of ${width}×${height} pixels, more than ${MAX_PIXELS / 1e6} million (a decompression bomb or a corrupt header)`);
  const channels = CHANNELS[colour];
  if (!channels) return;
  const idat: Buffer[] = [];
  for (let at = 8; at + 8 <= buf.length;) {
    const size = buf.readUInt32BE(at);
    if (buf.toString('latin1', at + 4, at + 8) === 'IDAT') idat.push(buf.subarray(at + 8, at + 8 + size));
    at += 12 + size;
  }
  const bytes = (w: number, h: number) => (w > 0 && h > 0 ? h * (1 + Math.ceil((w * channels * depth) / 8)) : 0);
  const expected = interlaced ? ADAM7.reduce((sum, [x0, y0, dx, dy]) => sum + bytes(Math.ceil((width - x0) / dx), Math.ceil((height - y0) / dy)), 0) : bytes(width, height);
  let held: number;
  try {
    held = zlib.inflateSync(Buffer.concat(idat)).length;
  } catch (e) {
    throw new ExplainError(`${file}: a truncated or corrupt PNG (its image data does not inflate: ${(e as Error).message})`);
  }
  if (held < expected) throw new ExplainError(`${file}: a truncated PNG: its image data holds ${held} of the ${expected} bytes of ${width}×${height} pixels`);
}
