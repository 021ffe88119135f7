import * as ort from 'onnxruntime-node';
import { DataType } from '../rewriter/proto';

const byOrtType: Record<string, number> = {
  float32: DataType.FLOAT, float64: DataType.DOUBLE, float16: DataType.FLOAT16, int64: DataType.INT64,
  int32: DataType.INT32, bool: DataType.BOOL, uint8: DataType.UINT8, int8: DataType.INT8,
};
const byOnnxType = Object.fromEntries(Object.entries(byOrtType).map(([k, v]) => [v, k])) as Record<number, ort.Tensor.Type>;

export function onnxType(t: string): number {
  return byOrtType[t] ?? 0;
}

export function ortType(t: number): ort.Tensor.Type {
  const r = byOnnxType[t];
  if (!r) throw new Error(`ONNX data type ${t} has no onnxruntime tensor type here`);
  return r;
}

/** A tensor of the given ONNX type filled from numbers. */
export function makeOrtTensor(type: number, data: ArrayLike<number>, dims: number[]): ort.Tensor {
  const t = ortType(type);
  switch (t) {
    case 'float32': return new ort.Tensor(t, Float32Array.from(data), dims);
    case 'float64': return new ort.Tensor(t, Float64Array.from(data), dims);
    case 'int64': return new ort.Tensor(t, BigInt64Array.from(Array.from(data, (v) => BigInt(Math.trunc(v)))), dims);
    case 'int32': return new ort.Tensor(t, Int32Array.from(data), dims);
    case 'bool': return new ort.Tensor(t, Uint8Array.from(data), dims);
    case 'uint8': return new ort.Tensor(t, Uint8Array.from(data), dims);
    case 'int8': return new ort.Tensor(t, Int8Array.from(data), dims);
    default: throw new Error(`cannot build a ${t} tensor`);
  }
}

export function tensorNumbers(t: ort.Tensor): number[] {
  return Array.from(t.data as ArrayLike<number | bigint>, Number);
}
