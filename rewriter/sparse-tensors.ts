import { ExplainError } from './errors';
import { AttrType, AttributeProto, ModelProto, NodeProto, rowMajorStrides, TensorProto, tensorValues, toNumber } from './proto';

interface SparseTensorProto { values?: TensorProto; indices?: TensorProto; dims?: TensorProto['dims'] }

const TYPED_FIELDS = ['float_data', 'int32_data', 'int64_data', 'double_data', 'uint64_data'] as const;

/**
 * Sparse tensors as the dense ones onnxruntime makes of them: the graph's sparse initializers
 * (pruned weights, as onnx-graphsurgeon writes them) and Constant nodes' sparse_value. Indices
 * [NNZ] index the flattened tensor, indices [NNZ, rank] give each value's coordinates; the rest is zero.
 */
export function denseSparseTensors(model: ModelProto, label: string): ModelProto {
  const graph = model.graph!;
  const sparse = (graph.sparse_initializer ?? []) as SparseTensorProto[];
  const sparseConstant = (n: NodeProto) => n.op_type === 'Constant' && !n.domain && n.attribute?.some((a) => a.name === 'sparse_value');
  if (!sparse.length && !(graph.node ?? []).some(sparseConstant)) return model;
  const node = (graph.node ?? []).map((n): NodeProto => {
    if (!sparseConstant(n)) return n;
    const value = dense(n.attribute!.find((a) => a.name === 'sparse_value')!.sparse_tensor as SparseTensorProto, label);
    const attribute: AttributeProto[] = [{ name: 'value', type: AttrType.TENSOR, t: value }];
    return { ...n, attribute };
  });
  return { ...model, graph: { ...graph, node, sparse_initializer: [], initializer: [...(graph.initializer ?? []), ...sparse.map((s) => dense(s, label))] } };
}

function dense(s: SparseTensorProto, label: string): TensorProto {
  const values = s.values ?? {};
  const dims = (s.dims ?? []).map(toNumber);
  const size = dims.reduce((a, b) => a * b, 1);
  const fail = (what: string): never => { throw new ExplainError(`${label}: sparse tensor '${values.name}' [${dims}]: ${what}`); };
  const at = positions(s, dims, fail);
  if (at.some((p) => !Number.isInteger(p) || p < 0 || p >= size)) fail('an index lies outside the tensor');
  const count = (values.dims ?? []).map(toNumber).reduce((a, b) => a * b, 1);
  if (count !== at.length) fail(`${count} values for ${at.length} indices`);
  const base: TensorProto = { name: values.name, dims, data_type: values.data_type };
  const raw = values.raw_data;
  if (raw?.length) {
    const width = raw.length / Math.max(at.length, 1);
    if (!Number.isInteger(width)) fail(`${raw.length} value bytes do not hold ${at.length} values`);
    const out = new Uint8Array(size * width);
    at.forEach((p, k) => out.set(raw.subarray(k * width, (k + 1) * width), p * width));
    return { ...base, raw_data: out };
  }
  const field = TYPED_FIELDS.find((f) => (values[f]?.length ?? 0) > 0);
  if (!field && at.length) fail(`${at.length} indices but no values`);
  if (field && values[field]!.length !== at.length) fail(`${values[field]!.length} values for ${at.length} indices`);
  const data: unknown[] = new Array(size).fill(0);
  if (field) at.forEach((p, k) => { data[p] = values[field]![k]; });
  return { ...base, [field ?? 'float_data']: data };
}

/** Each value's position in the flattened tensor. */
function positions(s: SparseTensorProto, dims: number[], fail: (what: string) => never): number[] {
  const indices = s.indices ? tensorValues(s.indices) : [];
  const shape = (s.indices?.dims ?? []).map(toNumber);
  if (shape.length <= 1) return indices;
  if (shape.length !== 2 || shape[1] !== dims.length) fail(`indices [${shape}] are neither [NNZ] nor [NNZ, ${dims.length}]`);
  const strides = rowMajorStrides(dims);
  return Array.from({ length: shape[0] }, (_, k) => strides.reduce((p, stride, j) => p + indices[k * dims.length + j] * stride, 0));
}
