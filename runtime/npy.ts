import { ExplainError } from '../rewriter/errors';
import { halfToFloat } from '../rewriter/proto';
import { lookupTable } from '../rewriter/lookup-table';

export interface NdArray { data: Float32Array | Float64Array | BigInt64Array | Int32Array; dims: number[]; dtype: 'float32' | 'float64' | 'int64' | 'int32' }

const DESCR: Record<string, NdArray['dtype']> = lookupTable({ '<f2': 'float32', '<f4': 'float32', '<f8': 'float64', '<i8': 'int64', '<i4': 'int32', '|u1': 'float32', '|i1': 'float32', '<u2': 'float32', '<i2': 'float32', '|b1': 'float32' });

/** Narrow types read as float32 values (all exact): half floats, 8- and 16-bit integers such as uint8 images, booleans as 0/1 (a bool input's feed). */
const NARROW: Record<string, (bytes: ArrayBuffer) => ArrayLike<number>> = lookupTable({
  '<f2': (b) => Float32Array.from(new Uint16Array(b), halfToFloat), '|u1': (b) => new Uint8Array(b), '|i1': (b) => new Int8Array(b),
  '<u2': (b) => new Uint16Array(b), '<i2': (b) => new Int16Array(b), '|b1': (b) => Uint8Array.from(new Uint8Array(b), (v) => (v ? 1 : 0)),
});

const latin1 = (bytes: Uint8Array, start: number, end: number) => Array.from(bytes.subarray(start, end), (c) => String.fromCharCode(c)).join('');

/** numpy's own bound on a header it reads (np.load's max_header_size). */
const MAX_HEADER = 10000;

/**
 * The header's dict literal, `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`, read as
 * numpy's reader does: exactly these three keys, a quoted descr, True or False, a tuple of integers.
 */
function headerFields(header: string, label: string): { descr: string; fortran: boolean; shape: string } {
  const bad = (why: string) => new ExplainError(`${label}: .npy header is not numpy's (${why})`);
  const entry = /\s*(['"])(descr|fortran_order|shape)\1\s*:\s*(?:(['"])([^'"]*)\3|(True|False)|\(([^()]*)\))\s*(,|(?=\}))/y;
  const open = /^\s*\{/.exec(header);
  if (!open) throw bad('no dict');
  const fields = new Map<string, string>();
  let at = open[0].length;
  for (let m = (entry.lastIndex = at, entry.exec(header)); m; m = entry.exec(header)) {
    const [, , key, , text, flag, tuple] = m;
    const value = key === 'descr' ? text : key === 'fortran_order' ? flag : tuple;
    if (value === undefined || fields.has(key)) throw bad(`its '${key}'`);
    fields.set(key, value);
    at = entry.lastIndex;
  }
  if (!/^\s*\}\s*$/.test(header.slice(at)) || fields.size !== 3) throw bad(`keys descr, fortran_order and shape, each once, and nothing else`);
  // Python 2's numpy wrote long integers with a suffix: (3L, 4L).
  return { descr: fields.get('descr')!, fortran: fields.get('fortran_order') === 'True', shape: fields.get('shape')!.replace(/(\d)L/g, '$1') };
}

/** Parses .npy bytes (float32, float64, int64 or int32; float16, 8/16-bit integers and bool read as float32; either byte order; C or Fortran order, returned in C order). */
export function parseNpy(buf: Uint8Array, label = '<npy>'): NdArray {
  if (buf.length < 10 || latin1(buf, 0, 6) !== '\x93NUMPY') throw new ExplainError(`${label}: not a .npy file`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const major = buf[6];
  if (![1, 2, 3].includes(major) || buf[7] !== 0) throw new ExplainError(`${label}: .npy format version ${major}.${buf[7]} is not one numpy writes (1.0, 2.0, 3.0)`);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  if (headerLen > MAX_HEADER) throw new ExplainError(`${label}: .npy header of ${headerLen} bytes is longer than numpy reads (${MAX_HEADER})`);
  if (start + headerLen > buf.length) throw new ExplainError(`${label}: .npy is truncated (its header runs past the end)`);
  const headerBytes = buf.subarray(start, start + headerLen);
  const header = major === 3 ? new TextDecoder().decode(headerBytes) : latin1(headerBytes, 0, headerLen);
  const { descr: written, fortran, shape: shapeText } = headerFields(header, label);
  const bigEndian = written.startsWith('>');
  const descr = bigEndian ? `<${written.slice(1)}` : written;
  const dtype = DESCR[descr];
  if (!dtype) throw new ExplainError(`${label}: .npy dtype '${written}' is not supported (use float16/32/64, int64, int32, 8/16-bit integers or bool)`);
  // A Python tuple of integers: (), (6,), (2, 3) or (2, 3,) — Python's own whitespace only.
  const tuple = /^[ \t\n\r\f\v]*(\d+[ \t\n\r\f\v]*(,[ \t\n\r\f\v]*\d+[ \t\n\r\f\v]*)*(,[ \t\n\r\f\v]*)?)?$/.test(shapeText);
  const dimTexts = shapeText.match(/\d+/g) ?? [];
  if (!tuple || (dimTexts.length === 1 && !shapeText.includes(',')) || dimTexts.some((d) => !Number.isSafeInteger(Number(d)))) throw new ExplainError(`${label}: .npy header shape (${shapeText}) is not a tuple of non-negative integers`);
  const dims = dimTexts.map(Number);
  const count = dims.reduce((a, b) => a * b, 1);
  const offset = start + headerLen;
  const width = descr in NARROW ? Number(descr.slice(2)) : dtype === 'float32' || dtype === 'int32' ? 4 : 8;
  if (buf.length - offset < count * width) throw new ExplainError(`${label}: .npy is truncated (expected ${count} values of shape [${dims}])`);
  const raw = new Uint8Array(buf.subarray(offset, offset + count * width));
  if (bigEndian) for (let i = 0; i < raw.length; i += width) raw.subarray(i, i + width).reverse();
  const bytes = raw.buffer;
  const data = descr in NARROW ? Float32Array.from(NARROW[descr](bytes))
    : dtype === 'float32' ? new Float32Array(bytes) : dtype === 'float64' ? new Float64Array(bytes) : dtype === 'int32' ? new Int32Array(bytes) : new BigInt64Array(bytes);
  return { data: fortran ? fromFortranOrder(data, dims) : data, dims, dtype };
}

/** Values stored with the first axis varying fastest, rearranged to C order (last axis fastest). */
function fromFortranOrder<T extends NdArray['data']>(data: T, dims: number[]): T {
  const out = data.slice() as T;
  const index = dims.map(() => 0);
  const stride = dims.map((_, k) => dims.slice(0, k).reduce((a, d) => a * d, 1));
  for (let c = 0; c < data.length; c++) {
    out[c] = data[index.reduce((f, i, k) => f + i * stride[k], 0)];
    for (let k = dims.length - 1; k >= 0 && ++index[k] === dims[k]; k--) index[k] = 0;
  }
  return out;
}

/** A float32 array as .npy bytes (version 1.0, C order). */
export function encodeNpy(data: Float32Array, dims: number[]): Uint8Array<ArrayBuffer> {
  const shape = dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shape}, }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  return out;
}
