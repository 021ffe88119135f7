import { attrInts } from './attributes';
import { GraphView } from './graph-view';
import { withAttrs } from './opset-lift';
import { DataType, makeTensor, ModelProto, NodeProto, TensorProto } from './proto';

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

/** int32's range, which onnxruntime-web's WebGPU (JSEP) Slice reads the attribute form's bounds in. */
const INT32_MAX = 2 ** 31 - 1;

/**
 * Slice's `starts` and `ends` attributes (opsets 1–9) clamped to int32: onnxruntime-web's default
 * WebGPU backend truncates torch's end of 2⁶³ − 1 to −1 and slices nothing. Clamped, a bound past
 * the axis is still past it (the spec clamps to the axis), so the outputs are the same.
 */
export function sliceAttributesInInt32(model: ModelProto): ModelProto {
  const clamped = (v: number) => Math.min(Math.max(v, -INT32_MAX - 1), INT32_MAX);
  const bounds = (n: NodeProto) => ['starts', 'ends'].map((a) => attrInts(n, a));
  const wide = (n: NodeProto) => n.op_type === 'Slice' && !n.domain && bounds(n).some((b) => b?.some((v) => v !== clamped(v)));
  if (!(model.graph?.node ?? []).some(wide)) return model;
  const node = model.graph!.node!.map((n) => {
    if (!wide(n)) return n;
    const [starts, ends] = bounds(n);
    return withAttrs(n, [], { ...(starts ? { starts: starts.map(clamped) } : {}), ...(ends ? { ends: ends.map(clamped) } : {}) });
  });
  return { ...model, graph: { ...model.graph!, node } };
}
