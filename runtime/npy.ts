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

const latin1 = (bytes: Uint8Array, start: number, end: number) => String.fromCharCode(...bytes.subarray(start, end));

/** Parses .npy bytes (float32, float64, int64 or int32; float16, 8/16-bit integers and bool read as float32; either byte order; C or Fortran order, returned in C order). */
export function parseNpy(buf: Uint8Array, label = '<npy>'): NdArray {
  if (buf.length < 10 || latin1(buf, 0, 6) !== '\x93NUMPY') throw new ExplainError(`${label}: not a .npy file`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const major = buf[6];
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = latin1(buf, start, Math.min(buf.length, start + headerLen));
  const written = /'descr':\s*'([^']+)'/.exec(header)?.[1] ?? '';
  const bigEndian = written.startsWith('>');
  const descr = bigEndian ? `<${written.slice(1)}` : written;
  const fortran = /'fortran_order':\s*True/.test(header);
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  const dtype = DESCR[descr];
  if (!dtype) throw new ExplainError(`${label}: .npy dtype '${written}' is not supported (use float16/32/64, int64, int32, 8/16-bit integers or bool)`);
  if (shapeText === undefined) throw new ExplainError(`${label}: .npy header has no shape`);
  const dimTexts = shapeText.split(',').map((s) => s.trim()).filter(Boolean);
  if (dimTexts.some((d) => !/^\d+$/.test(d) || !Number.isSafeInteger(Number(d)))) throw new ExplainError(`${label}: .npy header shape (${shapeText}) is not a tuple of non-negative integers`);
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
export function encodeNpy(data: Float32Array, dims: number[]): Uint8Array {
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
