import ndarray, { Data, NdArray } from 'ndarray';
import { halfToFloat, rowMajorStrides } from '../rewriter/proto';
import { OrtResults, ortApi, OrtTensor } from './backend';

/** A float32 tensor as the API takes and returns it (onnxruntime's layout: C order, dims). */
export interface TensorData { data: Float32Array; dims: number[] }
/** An `ndarray` of numbers, of int64 values (token ids, masks) or of strings (a string column). */
type AnyNdArray = NdArray | NdArray<Data<bigint>> | NdArray<Data<string>>;
export type TensorInput = TensorData | OrtTensor | { data: Float32Array | Float64Array | number[] | BigInt64Array | Int32Array | string[]; dims: number[] } | AnyNdArray;

/**
 * Accepts an `ndarray` (scijs) as { data, dims }: a C-contiguous float32 view is taken as it is
 * (zero copy), any other layout (transposed, sliced, stepped) is copied element by element.
 */
/** A tensor given as data and dims (an ndarray converted by fromNdarray). */
export type DenseInput = Exclude<TensorInput, AnyNdArray>;

export function fromNdarray(input: TensorInput): DenseInput {
  // onnxruntime's float16 tensors hold their values' bits as uint16.
  const ort = input as Partial<OrtTensor>;
  if (ort?.type === 'float16' && ort.data instanceof Uint16Array) return { data: Float32Array.from(ort.data, halfToFloat), dims: [...ort.dims!] };
  const a = input as Partial<NdArray>;
  if (!a || (input as { dims?: unknown }).dims || !Array.isArray(a.shape) || !Array.isArray(a.stride)) return input as DenseInput;
  const dims = [...a.shape];
  const expected = dims.reduce((p, d) => p * d, 1);
  const rowMajor = rowMajorStrides(dims);
  const contiguous = a.offset === 0 && dims.every((d, i) => d === 1 || a.stride![i] === rowMajor[i]);
  const data = a.data as DenseInput['data'];
  // int64 values (token ids, masks) and strings (a string column) keep their type; numbers become float32.
  const kept = data instanceof BigInt64Array || (Array.isArray(data) && typeof data[0] === 'string');
  if (contiguous && data.length === expected) return { data: kept || data instanceof Float32Array ? data : Float32Array.from(data as ArrayLike<number>), dims } as DenseInput;
  const out = (kept ? (Array.isArray(data) ? new Array(expected) : new (data.constructor as new (n: number) => typeof data)(expected)) : new Float32Array(expected)) as unknown[] & DenseInput['data'];
  const index = new Array(dims.length).fill(0);
  for (let n = 0; n < expected; n++) {
    out[n] = (a as NdArray<unknown[]>).get(...index) as never;
    for (let k = dims.length - 1; k >= 0 && ++index[k] === dims[k]; k--) index[k] = 0;
  }
  return { data: out, dims } as DenseInput;
}

/** A result as an `ndarray` view of the same memory (no copy): `a.get(n, c, h, w)`, slicing, ... */
export function asNdarray(t: TensorData): NdArray<Float32Array> {
  return ndarray(t.data, [...t.dims]);
}

export function floatTensor(data: Float32Array, dims: readonly number[]): OrtTensor {
  return new (ortApi().Tensor)('float32', data, dims);
}

/** Rows [start, end) of a tensor (a view of its data). */
export function rowRange(t: OrtTensor, start: number, end: number): OrtTensor {
  const per = t.size / t.dims[0];
  return new (ortApi().Tensor)(t.type as 'float32', (t.data as Float32Array).subarray(start * per, end * per), [end - start, ...t.dims.slice(1)]);
}

/** The given rows of t, in that order. */
export function pickRows(t: OrtTensor, rows: number[]): OrtTensor {
  const per = t.size / t.dims[0];
  const src = t.data as Float32Array;
  const data = new (src.constructor as Float32ArrayConstructor)(rows.length * per);
  rows.forEach((r, i) => data.set(src.subarray(r * per, (r + 1) * per), i * per));
  return new (ortApi().Tensor)(t.type as 'float32', data, [rows.length, ...t.dims.slice(1)]);
}

/** The given rows of every feed. */
export function pickFeeds(feeds: Record<string, OrtTensor>, rows: number[]): Record<string, OrtTensor> {
  return Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, pickRows(t, rows)]));
}

/** Runs of at most `size` rows of every feed (a one-row feed, like a shared baseline, goes whole to every run). */
export function chunkFeeds(feeds: Record<string, OrtTensor>, n: number, size: number): Record<string, OrtTensor>[] {
  return Array.from({ length: Math.ceil(n / size) }, (_, k) => Object.fromEntries(Object.entries(feeds).map(([name, t]) => [name, t.dims[0] === 1 && n > 1 ? t : rowRange(t, k * size, Math.min(n, (k + 1) * size))])));
}

/** Row r of every feed (a one-row feed, like a shared baseline, goes to every row). */
export function splitFeeds(feeds: Record<string, OrtTensor>, n: number): Record<string, OrtTensor>[] {
  return chunkFeeds(feeds, n, 1);
}

/**
 * The named float32 outputs of several runs, concatenated along the batch axis (index and boolean
 * outputs, e.g. an ArgMax after the explained tensor, are left out).
 */
export function concatRows(results: OrtResults[], names: string[]): Record<string, TensorData> {
  const out: Record<string, TensorData> = {};
  for (const name of names.filter((k) => (results[0][k] as OrtTensor).type === 'float32')) {
    const parts = results.map((r) => r[name] as OrtTensor);
    const data = new Float32Array(parts.reduce((a, p) => a + p.size, 0));
    let o = 0;
    for (const p of parts) { data.set(p.data as Float32Array, o); o += p.size; }
    const dims = [...parts[0].dims];
    if (dims.length) dims[0] = parts.reduce((a, p) => a + (p.dims[0] ?? 1), 0);
    out[name] = { data, dims };
  }
  return out;
}

/** 64 bits of FNV-1a (two lanes) over the arrays' bytes, in name order, in hex: a key for values. */
export function digest(arrays: Record<string, ArrayBufferView>): string {
  let a = 0x811c9dc5;
  let b = 0x050c5d1f;
  for (const name of Object.keys(arrays).sort()) {
    const v = arrays[name];
    const bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
    for (let i = 0; i < bytes.length; i++) {
      a = Math.imul(a ^ bytes[i], 0x01000193);
      b = Math.imul(b ^ bytes[i] ^ (i & 0xff), 0x01000193);
    }
  }
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
}

/** The digest of feeds per row (row r's tensor `name` as `r/name`). */
export function digestRows(rows: Record<string, OrtTensor>[]): string {
  return digest(Object.fromEntries(rows.flatMap((row, r) => Object.entries(row).map(([name, t]) => [`${r}/${name}`, t.data as ArrayBufferView]))));
}

/** A row of shape `dims` with its axes permuted: output axis i is input axis perm[i] (Transpose's perm, without a batch). */
export function permuteRow(data: Float32Array, dims: number[], perm: number[]): Float32Array {
  const outDims = perm.map((a) => dims[a]);
  const strides = rowMajorStrides(dims);
  const out = new Float32Array(data.length);
  const index = new Array(outDims.length).fill(0);
  for (let n = 0; n < out.length; n++) {
    out[n] = data[index.reduce((p, v, i) => p + v * strides[perm[i]], 0)];
    for (let k = outDims.length - 1; k >= 0 && ++index[k] === outDims[k]; k--) index[k] = 0;
  }
  return out;
}

/**
 * Row r of `values` (shape `dims`: a leading batch axis of 1 or N, then axes of size 1 or of
 * `rowDims`) broadcast to `rowDims`, row-major: a feature mask's or a weight map's values for row r.
 */
export function broadcastRow(values: ArrayLike<number>, dims: readonly number[], rowDims: readonly number[], r: number): Float64Array {
  const strides = rowMajorStrides(dims);
  const out = new Float64Array(rowDims.reduce((a, d) => a * d, 1));
  for (let p = 0; p < out.length; p++) {
    let rest = p, m = dims[0] === 1 ? 0 : r * strides[0];
    for (let k = rowDims.length - 1; k >= 0; k--) {
      if (dims[k + 1] !== 1) m += (rest % rowDims[k]) * strides[k + 1];
      rest = Math.floor(rest / rowDims[k]);
    }
    out[p] = values[m];
  }
  return out;
}
