import * as jpeg from 'jpeg-js';

/**
 * JPEG → RGBA as libjpeg(-turbo) decodes it under Pillow's defaults, for the usual YCbCr files
 * (4:4:4, 4:2:2, 4:2:0): jpeg-js's samples (its IDCT differs from libjpeg's by a level at most
 * pixels) with libjpeg's "fancy" triangle upsampling of the chroma (jdsample.c; jpeg-js repeats each
 * chroma sample, 34 levels off at colour edges) and its fixed-point YCbCr → RGB tables (jdcolor.c;
 * jpeg-js truncates). Other files (grayscale, Adobe or RGB colour, other sampling) as jpeg-js decodes them.
 */
export function decodeJpeg(buf: Uint8Array): { width: number; height: number; data: Uint8Array } {
  const sampling = ycbcrSampling(buf);
  if (!sampling) return jpeg.decode(buf, { useTArray: true, formatAsRGBA: true });
  const raw = jpeg.decode(buf, { useTArray: true, formatAsRGBA: true, colorTransform: false });
  const { width, height } = raw;
  const [h, v] = sampling;
  const plane = (c: number) => {
    const [w2, h2] = [Math.ceil(width / h), Math.ceil(height / v)];
    const p = new Int32Array(w2 * h2);
    for (let y = 0; y < h2; y++) for (let x = 0; x < w2; x++) p[y * w2 + x] = raw.data[(y * v * width + x * h) * 4 + c];
    return upsample(p, w2, h2, h, v, width, height);
  };
  const [cb, cr] = [plane(1), plane(2)];
  const data = new Uint8Array(width * height * 4);
  // jdcolor.c's factors in 16-bit fixed point, FIX(x) = ⌊x·2¹⁶ + ½⌋.
  const [crR, cbG, crG, cbB] = [1.402, 0.34414, 0.71414, 1.772].map((x) => Math.floor(x * 65536 + 0.5));
  const clamp = (x: number) => Math.min(Math.max(x, 0), 255);
  for (let i = 0; i < width * height; i++) {
    const [y, b, r] = [raw.data[i * 4], cb[i] - 128, cr[i] - 128];
    data[i * 4] = clamp(y + Math.floor((crR * r + 32768) / 65536));
    data[i * 4 + 1] = clamp(y + Math.floor((-cbG * b + 32768 - crG * r) / 65536));
    data[i * 4 + 2] = clamp(y + Math.floor((cbB * b + 32768) / 65536));
    data[i * 4 + 3] = 255;
  }
  return { width, height, data };
}

/** The chroma subsampling [h, v] of a baseline/progressive YCbCr JPEG (no Adobe marker, chroma 1×1, luma 1 or 2 each way), else undefined. */
function ycbcrSampling(buf: Uint8Array): [number, number] | undefined {
  for (let at = 2; at + 4 <= buf.length && buf[at] === 0xff;) {
    const marker = buf[at + 1];
    if (marker === 0xff) { at++; continue; }
    const length = (buf[at + 2] << 8) | buf[at + 3];
    if (marker === 0xee || marker === 0xda) return undefined;
    if (marker >= 0xc0 && marker <= 0xc2) {
      const count = buf[at + 9];
      const ids = [0, 1, 2].map((k) => buf[at + 10 + 3 * k]);
      const factors = [0, 1, 2].map((k) => buf[at + 11 + 3 * k]);
      if (count !== 3 || ids.join() === '82,71,66' || factors[1] !== 0x11 || factors[2] !== 0x11) return undefined;
      const [h, v] = [factors[0] >> 4, factors[0] & 15];
      return h <= 2 && v <= 2 && !(h === 1 && v === 2) ? [h, v] : undefined;
    }
    at += 2 + length;
  }
  return undefined;
}

/** libjpeg's fancy upsampling of a [h2, w2] chroma plane by h × v (1 or 2), cut to width × height; rows past the edges repeat it. */
function upsample(p: Int32Array, w2: number, h2: number, h: number, v: number, width: number, height: number): Int32Array {
  const out = new Int32Array(width * height);
  const at = (x: number, y: number) => p[Math.min(Math.max(y, 0), h2 - 1) * w2 + Math.min(Math.max(x, 0), w2 - 1)];
  for (let y = 0; y < height; y++) {
    const [row, other] = v === 2 ? [y >> 1, (y & 1 ? 1 : -1) + (y >> 1)] : [y, y];
    // Column sums 3·nearer row + farther row (h2v2), or the row itself (h2v1, h1v1).
    const sum = (x: number) => (v === 2 ? 3 * at(x, row) + at(x, other) : at(x, row));
    for (let x = 0; x < width; x++) {
      if (h === 1) { out[y * width + x] = sum(x); continue; }
      const [col, side] = [x >> 1, x & 1 ? 1 : -1];
      const edge = col + side < 0 || col + side >= w2;
      const value = v === 2
        ? (edge ? (sum(col) * 4 + (x & 1 ? 7 : 8)) >> 4 : (sum(col) * 3 + sum(col + side) + (x & 1 ? 7 : 8)) >> 4)
        : (edge ? sum(col) : (sum(col) * 3 + sum(col + side) + (x & 1 ? 2 : 1)) >> 2);
      out[y * width + x] = value;
    }
  }
  return out;
}
