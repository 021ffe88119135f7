import { readsRenamed } from './graph-view';
import { AttrType, DataType, makeTensor, ModelProto, NodeProto, ValueInfoProto } from './proto';

/**
 * The model with each of the `names` inputs (inputs without a batch axis: a scalar, a per-model
 * vector) given a leading axis of rows: the input becomes [rows, …its dims] and the graph reads its
 * first row. Fed one row for every row of the batch, it then moves through batch handling (probing,
 * chunking, repeated rows) as any other fed input does, and what the graph computes is unchanged.
 */
export function withRowAxis(model: ModelProto, names: Set<string>): ModelProto {
  if (!names.size) return model;
  const graph = model.graph!;
  const row = (name: string) => `${name}/row`;
  const index = makeTensor('batchless/first_row', [], [0], DataType.INT64);
  const reads: NodeProto[] = [...names].map((name) => ({ op_type: 'Gather', input: [name, index.name!], output: [row(name)], name: row(name), attribute: [{ name: 'axis', type: AttrType.INT, i: 0 }] }));
  const input = (graph.input ?? []).map((vi): ValueInfoProto => {
    const tt = vi.type?.tensor_type;
    if (!names.has(vi.name ?? '') || !tt) return vi;
    return { ...vi, type: { ...vi.type, tensor_type: { ...tt, shape: { dim: [{ dim_param: `${vi.name}_rows` }, ...(tt.shape?.dim ?? [])] } } } };
  });
  const renamed = readsRenamed(graph, (t) => (names.has(t) ? row(t) : t));
  return { ...model, graph: { ...renamed, input, node: [...reads, ...(renamed.node ?? [])], initializer: [...(graph.initializer ?? []), index] } };
}
