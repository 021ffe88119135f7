import * as protobuf from 'protobufjs';
import { ExplainError } from './errors';
import { onnxSchema } from './onnx-schema';

/** int64 fields decode as Long objects (protobufjs) or numbers. */
export type Int64 = number | { toNumber(): number };

export interface TensorProto {
  name?: string;
  dims?: Int64[];
  data_type?: number;
  raw_data?: Uint8Array;
  float_data?: number[];
  int32_data?: number[];
  int64_data?: Int64[];
  double_data?: number[];
  uint64_data?: Int64[];
  string_data?: Uint8Array[];
  data_location?: number;
  external_data?: { key?: string; value?: string }[];
  [k: string]: unknown;
}
export interface AttributeProto {
  name?: string;
  type?: number;
  f?: number;
  i?: Int64;
  s?: Uint8Array;
  t?: TensorProto;
  g?: GraphProto;
  floats?: number[];
  ints?: Int64[];
  strings?: Uint8Array[];
  tensors?: TensorProto[];
  graphs?: GraphProto[];
  [k: string]: unknown;
}
export interface NodeProto {
  input?: string[];
  output?: string[];
  name?: string;
  op_type?: string;
  domain?: string;
  attribute?: AttributeProto[];
  [k: string]: unknown;
}
export interface DimProto { dim_value?: Int64; dim_param?: string; }
export interface ValueInfoProto {
  name?: string;
  type?: { tensor_type?: { elem_type?: number; shape?: { dim?: DimProto[] } }; [k: string]: unknown };
  [k: string]: unknown;
}
export interface GraphProto {
  node?: NodeProto[];
  name?: string;
  initializer?: TensorProto[];
  input?: ValueInfoProto[];
  output?: ValueInfoProto[];
  value_info?: ValueInfoProto[];
  [k: string]: unknown;
}
/** The default ONNX domain, written '' or 'ai.onnx'. */
export const isDefault = (domain?: string | null) => !domain || domain === 'ai.onnx';

/** A model-local function (IR 8): its nodes run where a node of its domain and name stands. */
export interface FunctionProto {
  name?: string;
  domain?: string;
  overload?: string;
  input?: string[];
  output?: string[];
  attribute?: string[];
  attribute_proto?: AttributeProto[];
  node?: NodeProto[];
  opset_import?: { domain?: string; version?: Int64 }[];
}

export interface ModelProto {
  ir_version?: Int64;
  opset_import?: { domain?: string; version?: Int64 }[];
  producer_name?: string;
  graph?: GraphProto;
  functions?: FunctionProto[];
  [k: string]: unknown;
}

const root = protobuf.Root.fromJSON(onnxSchema as unknown as protobuf.INamespace);
const ModelType = root.lookupType('onnx.ModelProto');

export function decodeModel(bytes: Uint8Array): ModelProto {
  return ModelType.decode(bytes) as unknown as ModelProto;
}
/** The model's bytes (over an ArrayBuffer, as a `Blob` part takes them). */
export function encodeModel(model: ModelProto): Uint8Array<ArrayBuffer> {
  return ModelType.encode(model as unknown as protobuf.Message).finish() as Uint8Array<ArrayBuffer>;
}

export function toNumber(v: Int64 | undefined | null): number {
  if (v === undefined || v === null) return 0;
  return typeof v === 'number' ? v : v.toNumber();
}

/** TensorProto.DataType values used here. */
export const DataType = {
  FLOAT: 1, UINT8: 2, INT8: 3, UINT16: 4, INT16: 5, INT32: 6, INT64: 7, STRING: 8, BOOL: 9, FLOAT16: 10, DOUBLE: 11, UINT32: 12, UINT64: 13, BFLOAT16: 16,
  FLOAT8E4M3FN: 17, FLOAT8E4M3FNUZ: 18, FLOAT8E5M2: 19, FLOAT8E5M2FNUZ: 20, UINT4: 21, INT4: 22,
} as const;

export const AttrType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7, STRINGS: 8 } as const;

/** The float8 types (opset 19): E4M3FN, E4M3FNUZ, E5M2, E5M2FNUZ. */
export const FLOAT8_TYPES: ReadonlySet<number> = new Set([DataType.FLOAT8E4M3FN, DataType.FLOAT8E4M3FNUZ, DataType.FLOAT8E5M2, DataType.FLOAT8E5M2FNUZ]);

export function isFloatType(t: number | undefined): boolean {
  return t === DataType.FLOAT || t === DataType.DOUBLE || t === DataType.FLOAT16 || t === DataType.BFLOAT16;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Typed views of raw little-endian data per TensorProto data type. */
const TYPED: Record<number, (b: ArrayBuffer) => ArrayLike<number>> = {
  1: (b) => new Float32Array(b), 2: (b) => new Uint8Array(b), 3: (b) => new Int8Array(b), 4: (b) => new Uint16Array(b),
  5: (b) => new Int16Array(b), 6: (b) => new Int32Array(b), 9: (b) => new Uint8Array(b), 11: (b) => new Float64Array(b), 12: (b) => new Uint32Array(b),
};

/** Bytes per value of each data type raw_data may hold. */
const BYTES: Record<number, number> = { 1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4, 16: 2, 17: 1, 18: 1, 19: 1, 20: 1 };

/** Bytes per value of a data type (4 where unknown). */
export function bytesPerValue(type: number | undefined): number {
  return BYTES[type ?? 0] ?? 4;
}

let halfTable: Float32Array | undefined;

/** Raw half or bfloat16 bytes as float32 values (a table lookup). */
function halfValues(raw: Uint8Array, type: number): Float32Array {
  const bits = new Uint16Array(new Uint8Array(raw).buffer, 0, raw.length >> 1);
  if (type === DataType.BFLOAT16) return new Float32Array(Uint32Array.from(bits, (h) => h << 16).buffer);
  halfTable ??= Float32Array.from({ length: 65536 }, (_, h) => halfToFloat(h));
  return Float32Array.from(bits, (h) => halfTable![h]);
}

/** Raw data decoded in bulk as a typed array, where the platform and the type allow (not int64). */
function rawTyped(t: TensorProto): ArrayLike<number> | undefined {
  const type = t.data_type ?? 0;
  const raw = t.raw_data;
  if (!raw?.length || !LITTLE_ENDIAN) return undefined;
  const width = BYTES[type];
  if (width && raw.length % width !== 0) throw new ExplainError(`tensor '${t.name}': ${raw.length} bytes of raw data do not hold whole values of data type ${type}`);
  if (type === DataType.FLOAT16 || type === DataType.BFLOAT16) return halfValues(raw, type);
  return TYPED[type]?.(new Uint8Array(raw).buffer); // a copy: raw may be an unaligned view (a Node Buffer's slice)
}

/**
 * A tensor's values, as a typed array where its data is raw (decoded in bulk: weights can hold
 * tens of millions of values), else as numbers.
 */
export function tensorArray(t: TensorProto): ArrayLike<number> {
  return nibbleValues(t) ?? float8Values(t) ?? rawTyped(t) ?? tensorValues(t);
}

/**
 * The float8 formats (ONNX's FLOAT8E4M3FN, E4M3FNUZ, E5M2, E5M2FNUZ): exponent bits, bias, and
 * whether they are "fnuz" (0x80 the only NaN, no −0, no infinities) or E4M3FN (S.1111.111 NaN, no
 * infinities); E5M2 is IEEE-like.
 */
const FLOAT8: Record<number, { exponent: number; bias: number; kind: 'fn' | 'fnuz' | 'ieee' }> = {
  17: { exponent: 4, bias: 7, kind: 'fn' }, 18: { exponent: 4, bias: 8, kind: 'fnuz' }, 19: { exponent: 5, bias: 15, kind: 'ieee' }, 20: { exponent: 5, bias: 16, kind: 'fnuz' },
};

const float8Tables = new Map<number, Float32Array>();

/** The 256 values of a float8 format's bytes. */
function float8Table(type: number): Float32Array {
  const { exponent, bias, kind } = FLOAT8[type];
  const mantissa = 7 - exponent;
  const top = (1 << exponent) - 1;
  return Float32Array.from({ length: 256 }, (_, b) => {
    const sign = b & 0x80 ? -1 : 1;
    const e = (b >> mantissa) & top;
    const m = b & ((1 << mantissa) - 1);
    if (kind === 'fnuz' && b === 0x80) return NaN;
    if (kind === 'fn' && (b & 0x7f) === 0x7f) return NaN;
    if (kind === 'ieee' && e === top) return m ? NaN : sign * Infinity;
    return sign * (e ? 1 + m / (1 << mantissa) : m / (1 << mantissa)) * 2 ** ((e || 1) - bias);
  });
}

/** Float8 values (raw bytes, or one byte per int32_data entry). */
function float8Values(t: TensorProto): Float32Array | undefined {
  const type = t.data_type ?? 0;
  if (!FLOAT8[type]) return undefined;
  if (!float8Tables.has(type)) float8Tables.set(type, float8Table(type));
  const table = float8Tables.get(type)!;
  return Float32Array.from(t.raw_data?.length ? t.raw_data : (t.int32_data ?? []), (b) => table[b & 0xff]);
}

/** The bits-bit code at index i of packed codes that start at byte `start` (low bits first). */
export function packedCode(packed: ArrayLike<number>, start: number, i: number, bits: number): number {
  return (packed[start + Math.floor((i * bits) / 8)] >> ((i * bits) % 8)) & ((1 << bits) - 1);
}

/** 4-bit integers (UINT4, INT4, opset 21's blocked quantization): two a byte, the first in the low nibble. */
function nibbleValues(t: TensorProto): Int8Array | Uint8Array | undefined {
  const type = t.data_type;
  if (type !== DataType.UINT4 && type !== DataType.INT4) return undefined;
  // int32_data holds one packed byte per entry.
  const bytes = t.raw_data?.length ? t.raw_data : (t.int32_data ?? []);
  const count = tensorDims(t).reduce((a, d) => a * d, 1);
  const out = type === DataType.INT4 ? new Int8Array(count) : new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const v = packedCode(bytes, 0, i, 4);
    out[i] = type === DataType.INT4 && v > 7 ? v - 16 : v;
  }
  return out;
}

/** Reads a (non-external) tensor's values as numbers. */
export function tensorValues(t: TensorProto): number[] {
  const typed = nibbleValues(t) ?? float8Values(t) ?? rawTyped(t);
  if (typed) return Array.from(typed);
  const type = t.data_type ?? 0;
  const raw = t.raw_data;
  if (raw && raw.length > 0) {
    const buf = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const out: number[] = [];
    const w = BYTES[type];
    if (!w) throw new ExplainError(`tensor '${t.name}': data type ${type} cannot be read`);
    for (let i = 0; i < raw.length / w; i++) {
      const o = i * w;
      switch (type) {
        case 1: out.push(buf.getFloat32(o, true)); break;
        case 2: case 9: out.push(buf.getUint8(o)); break;
        case 3: out.push(buf.getInt8(o)); break;
        case 4: out.push(buf.getUint16(o, true)); break;
        case 5: out.push(buf.getInt16(o, true)); break;
        case 12: out.push(buf.getUint32(o, true)); break;
        case 6: out.push(buf.getInt32(o, true)); break;
        case 7: out.push(Number(buf.getBigInt64(o, true))); break;
        case 11: out.push(buf.getFloat64(o, true)); break;
        case 10: out.push(halfToFloat(buf.getUint16(o, true))); break;
        case 16: out.push(bfloat16ToFloat(buf.getUint16(o, true))); break;
      }
    }
    return out;
  }
  if (type === DataType.INT64) return (t.int64_data ?? []).map(toNumber);
  if (type === DataType.DOUBLE) return [...(t.double_data ?? [])];
  if (type === DataType.FLOAT) return [...(t.float_data ?? [])];
  if (type === DataType.FLOAT16) return (t.int32_data ?? []).map(halfToFloat);
  if (type === DataType.BFLOAT16) return (t.int32_data ?? []).map(bfloat16ToFloat);
  return [...(t.int32_data ?? [])];
}

/** A bfloat16 bit pattern's value: the upper half of a float32. */
function bfloat16ToFloat(h: number): number {
  return new Float32Array(new Uint32Array([(h & 0xffff) << 16]).buffer)[0];
}

/** An IEEE half-precision bit pattern's value. */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

export function tensorDims(t: TensorProto): number[] {
  return (t.dims ?? []).map(toNumber);
}

/** Row-major strides of a shape: how many elements one step along each axis skips. */
export function rowMajorStrides(dims: readonly number[]): number[] {
  return dims.map((_, k) => dims.slice(k + 1).reduce((a, d) => a * d, 1));
}

/** Builds a TensorProto from numbers (float32, float64 or int64). */
export function makeTensor(name: string, dims: number[], values: ArrayLike<number>, dataType: number): TensorProto {
  let raw: Uint8Array;
  if (dataType === DataType.INT64) {
    const a = new BigInt64Array(values.length);
    // INT64_MAX as a JS number is 2⁶³, which BigInt64Array would wrap to INT64_MIN: saturate.
    const [lo, hi] = [-(2n ** 63n), 2n ** 63n - 1n];
    for (let i = 0; i < values.length; i++) {
      const v = BigInt(Math.trunc(values[i]));
      a[i] = v > hi ? hi : v < lo ? lo : v;
    }
    raw = new Uint8Array(a.buffer);
  } else if (dataType === DataType.DOUBLE) {
    raw = new Uint8Array(Float64Array.from(values).buffer);
  } else if (dataType === DataType.FLOAT) {
    const floats = values instanceof Float32Array ? values : Float32Array.from(values);
    raw = new Uint8Array(floats.buffer, floats.byteOffset, floats.byteLength);
  } else if (dataType === DataType.INT32) {
    raw = new Uint8Array(Int32Array.from(values).buffer);
  } else if (dataType === DataType.INT8 || dataType === DataType.UINT8) {
    raw = new Uint8Array((dataType === DataType.INT8 ? Int8Array : Uint8Array).from(values).buffer);
  } else {
    throw new Error(`makeTensor: unsupported data type ${dataType}`);
  }
  return { name, dims, data_type: dataType, raw_data: raw };
}

/** A value's declared dims, −1 where dynamic (a dim_param, or no value). */
export function declaredDims(vi: ValueInfoProto): number[] {
  return (vi.type?.tensor_type?.shape?.dim ?? []).map((d) => (d.dim_value !== undefined && d.dim_value !== null && toNumber(d.dim_value) > 0 ? toNumber(d.dim_value) : -1));
}

/** A value info with its element type kept and its declared shape dropped (left to inference). */
export function shapeless(vi: ValueInfoProto): ValueInfoProto {
  return { ...vi, type: vi.type?.tensor_type ? { tensor_type: { elem_type: vi.type.tensor_type.elem_type } } : vi.type };
}

export function valueInfo(name: string, elemType: number, dims?: (number | string)[]): ValueInfoProto {
  const tensor_type: { elem_type: number; shape?: { dim: DimProto[] } } = { elem_type: elemType };
  if (dims) tensor_type.shape = { dim: dims.map((d) => (typeof d === 'string' ? { dim_param: d } : { dim_value: d })) };
  return { name, type: { tensor_type } };
}

/** A value declared as a tensor, or of undeclared type (not a sequence, map or optional: ZipMap's output is one). */
export function isTensorValue(vi: ValueInfoProto): boolean {
  return !vi.type || Object.keys(vi.type).every((k) => k === 'tensor_type' || k === 'denotation');
}
