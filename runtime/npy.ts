import * as fs from 'fs';
import { ExplainError } from '../rewriter/errors';

export interface NdArray { data: Float32Array | Float64Array | BigInt64Array; dims: number[]; dtype: 'float32' | 'float64' | 'int64' }

const DESCR: Record<string, NdArray['dtype']> = { '<f4': 'float32', '<f8': 'float64', '<i8': 'int64' };

/** Reads a .npy file (float32, float64 or int64, C order). */
export function readNpy(file: string): NdArray {
  if (!fs.existsSync(file)) throw new ExplainError(`${file}: file not found`);
  return parseNpy(fs.readFileSync(file), file);
}

export function parseNpy(buf: Buffer, label = '<npy>'): NdArray {
  if (buf.length < 10 || buf.toString('latin1', 0, 6) !== '\x93NUMPY') throw new ExplainError(`${label}: not a .npy file`);
  const major = buf[6];
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', start, start + headerLen);
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1] ?? '';
  const fortran = /'fortran_order':\s*True/.test(header);
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  const dtype = DESCR[descr];
  if (!dtype) throw new ExplainError(`${label}: .npy dtype '${descr}' is not supported (use float32, float64 or int64, little-endian)`);
  if (fortran) throw new ExplainError(`${label}: .npy in Fortran order is not supported (save a C-order array)`);
  if (shapeText === undefined) throw new ExplainError(`${label}: .npy header has no shape`);
  const dims = shapeText.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const count = dims.reduce((a, b) => a * b, 1);
  const offset = start + headerLen;
  const width = dtype === 'float32' ? 4 : 8;
  if (buf.length - offset < count * width) throw new ExplainError(`${label}: .npy is truncated (expected ${count} values of shape [${dims}])`);
  const bytes = new Uint8Array(buf.subarray(offset, offset + count * width)).buffer;
  const data = dtype === 'float32' ? new Float32Array(bytes) : dtype === 'float64' ? new Float64Array(bytes) : new BigInt64Array(bytes);
  return { data, dims, dtype };
}

/** Writes a float32 array as .npy (version 1.0, C order). */
export function writeNpy(file: string, data: Float32Array, dims: number[]): void {
  const shape = dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shape}, }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  fs.writeFileSync(file, Buffer.concat([head, Buffer.from(header, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]));
}
