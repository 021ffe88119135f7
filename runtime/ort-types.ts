import { DataType } from '../rewriter/proto';
import { ortApi, OrtTensor } from './backend';
import { lookupTable } from '../rewriter/lookup-table';

const byOrtType: Record<string, number> = lookupTable({
  float32: DataType.FLOAT, float64: DataType.DOUBLE, float16: DataType.FLOAT16, int64: DataType.INT64,
  int32: DataType.INT32, bool: DataType.BOOL, uint8: DataType.UINT8, int8: DataType.INT8,
  // onnxruntime's 16-bit quantization (QInt16/QUInt16 activations) computes these.
  int16: DataType.INT16, uint16: DataType.UINT16, uint32: DataType.UINT32,
});
const byOnnxType = Object.fromEntries(Object.entries(byOrtType).map(([k, v]) => [v, k])) as Record<number, OrtTensor['type']>;

export function onnxType(t: string): number {
  return byOrtType[t] ?? 0;
}

/** An ONNX data type's name for messages: onnxruntime's tensor type, else its number. */
export function typeName(t: number): string {
  return byOnnxType[t] ?? `ONNX type ${t}`;
}

export function ortType(t: number): OrtTensor['type'] {
  const r = byOnnxType[t];
  if (!r) throw new Error(`ONNX data type ${t} has no onnxruntime tensor type here`);
  return r;
}

/** A tensor of the given ONNX type filled from numbers. */
export function makeOrtTensor(type: number, data: ArrayLike<number>, dims: number[]): OrtTensor {
  const t = ortType(type);
  const { Tensor } = ortApi();
  switch (t) {
    case 'float32': return new Tensor(t, Float32Array.from(data), dims);
    case 'float64': return new Tensor(t, Float64Array.from(data), dims);
    case 'int64': return new Tensor(t, BigInt64Array.from(Array.from(data, (v) => BigInt(Math.trunc(v)))), dims);
    case 'int32': return new Tensor(t, Int32Array.from(data), dims);
    case 'bool': return new Tensor(t, Uint8Array.from(data), dims);
    case 'uint8': return new Tensor(t, Uint8Array.from(data), dims);
    case 'int8': return new Tensor(t, Int8Array.from(data), dims);
    case 'int16': return new Tensor(t, Int16Array.from(data), dims);
    case 'uint16': return new Tensor(t, Uint16Array.from(data), dims);
    case 'uint32': return new Tensor(t, Uint32Array.from(data), dims);
    default: throw new Error(`cannot build a ${t} tensor`);
  }
}

export function tensorNumbers(t: OrtTensor): number[] {
  return Array.from(t.data as ArrayLike<number | bigint>, Number);
}
