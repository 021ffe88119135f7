import { GraphView } from './graph-view';
import { DataType, makeTensor, ModelProto, TensorProto } from './proto';

/**
 * Slice's starts, ends, axes and steps given as scalars (torch's dynamo export writes them so) as
 * the 1-D tensors the spec asks for: onnxruntime folds such a Slice of constants when it optimises
 * the model, but rejects it where the Slice runs ("Starts must be a 1-D array"), as in the
 * unoptimised probe or when its data is computed.
 */
export function sliceIndicesAsVectors(model: ModelProto, label: string): ModelProto {
  if (!(model.graph?.node ?? []).some((n) => n.op_type === 'Slice')) return model;
  const view = new GraphView(model, label);
  const scalar = (t: string, i: number) => i > 0 && !!t && view.constant(t)?.dims.length === 0;
  const slices = view.nodes.filter((n) => n.op_type === 'Slice' && !n.domain && view.opset >= 10 && n.input!.some(scalar));
  if (!slices.length) return model;
  const added = new Map<string, TensorProto>();
  const vector = (t: string) => {
    const name = `${t}/as_vector`;
    const declared = view.initializers.get(t)?.data_type ?? view.producer.get(t)?.attribute?.find((a) => a.name === 'value')?.t?.data_type;
    if (!added.has(name)) added.set(name, makeTensor(name, [1], view.constant(t)!.values, declared === DataType.INT32 ? DataType.INT32 : DataType.INT64));
    return name;
  };
  const node = view.nodes.map((n) => (!slices.includes(n) ? n : {
    ...n, input: n.input!.map((t, i) => (scalar(t, i) ? vector(t) : t)),
  }));
  const graph = model.graph!;
  return { ...model, graph: { ...graph, node, initializer: [...(graph.initializer ?? []), ...added.values()] } };
}
