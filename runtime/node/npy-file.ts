import { ExplainError } from '../../rewriter/errors';
import { encodeNpy, NdArray, parseNpy } from '../npy';
import { readRegularFile, writeFileAtomic } from './files';

/** Reads a .npy file (float32, float64 or int64, C order). */
export function readNpy(file: string): NdArray {
  return parseNpy(readRegularFile(file), file);
}

/**
 * An input array from a .npy file (floats as float32, integers kept) or a JSON list (nested lists
 * of numbers, e.g. token ids [[101, 2023, 102]]) or number (a scalar).
 */
export function readArray(file: string): { data: Float32Array | Float64Array | BigInt64Array | Int32Array | number[] | string[]; dims: number[] } {
  if (!/\.json$/i.test(file)) {
    const a = readNpy(file);
    // float64 values past float32's range stay as they are, for the refusal to name them (as float32 they are ±Infinity).
    const wide = a.data instanceof Float64Array && a.data.some((v) => Number.isFinite(v) && !Number.isFinite(Math.fround(v)));
    return { data: a.dtype.startsWith('float') && !wide ? Float32Array.from(a.data as Float64Array) : (a.data as Float64Array | BigInt64Array | Int32Array), dims: a.dims };
  }
  const text = new TextDecoder().decode(readRegularFile(file));
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ExplainError(`${file}: not a JSON list`);
  }
  // A bare number is a scalar (an input without axes: a temperature, a flag).
  if (typeof value === 'number' && Number.isFinite(value)) return { data: [value], dims: [] };
  const dims: number[] = [];
  for (let v = value; Array.isArray(v); v = v[0]) {
    dims.push(v.length);
    if (dims.length > 32) throw new ExplainError(`${file}: a JSON list nested more than 32 deep`);
  }
  const data = dims.length ? (value as unknown[]).flat(dims.length - 1) : [];
  // Strings are a string column's values (rewriter/string-categories.ts).
  const strings = data.length > 0 && data.every((v) => typeof v === 'string');
  if (!dims.length || data.length !== dims.reduce((a, b) => a * b, 1) || !(strings || data.every((v) => typeof v === 'number' && Number.isFinite(v)))) {
    throw new ExplainError(`${file}: expected a (nested, rectangular) JSON list of numbers, or of strings for a string column`);
  }
  return { data: data as number[] | string[], dims };
}

/** Writes a float32 array as .npy. */
export function writeNpy(file: string, data: Float32Array, dims: number[]): void {
  writeFileAtomic(file, encodeNpy(data, dims));
}
