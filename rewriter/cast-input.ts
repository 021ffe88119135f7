import { embeddingsOf } from './embedding';
import { GraphView } from './graph-view';
import { DataType, isFloatType, ModelProto, NodeProto, toNumber, ValueInfoProto } from './proto';

const INTEGER_TYPES: ReadonlySet<number> = new Set([DataType.UINT8, DataType.INT8, DataType.UINT16, DataType.INT16, DataType.INT32, DataType.INT64, DataType.UINT32, DataType.UINT64]);

/**
 * Integer inputs read only through Casts to a float type (uint8 images of tf2onnx or TF-Hub
 * exports: image → Cast → Div 255) as float32 inputs: the Casts then turn float32 into float,
 * so the outputs are unchanged for the same values (8- and 16-bit integers are exact in float32,
 * larger ones round as the Cast would). Attributions are then with respect to the pixel values.
 * Returns the model as it is when no input qualifies, or when the model has a float input or token
 * ids (then integer inputs are masks or lengths it is fed: HF Funnel casts its attention_mask).
 */
export function floatCastInputs(model: ModelProto, label: string): ModelProto {
  const graph = model.graph!;
  const initializers = new Set((graph.initializer ?? []).map((t) => t.name));
  const readers = (name: string): NodeProto[] => (graph.node ?? []).filter((n) => n.input?.includes(name));
  const castToFloat = (n: NodeProto) => n.op_type === 'Cast' && isFloatType(toNumber(n.attribute?.find((a) => a.name === 'to')?.i ?? 0));
  const qualifies = (vi: ValueInfoProto) => {
    const users = readers(vi.name ?? '');
    return !initializers.has(vi.name) && INTEGER_TYPES.has(vi.type?.tensor_type?.elem_type ?? 0) && users.length > 0 && users.every(castToFloat);
  };
  // A model with a float input is explained at it: its integer inputs (masks, lengths) stay fed.
  if ((graph.input ?? []).some((vi) => !initializers.has(vi.name) && isFloatType(vi.type?.tensor_type?.elem_type))) return model;
  const retyped = new Set((graph.input ?? []).filter(qualifies));
  if (!retyped.size) return model;
  const view = new GraphView(model, label);
  if ((graph.input ?? []).some((vi) => !retyped.has(vi) && embeddingsOf(view, vi.name ?? '').length > 0)) return model;
  const input = (graph.input ?? []).map((vi) => (retyped.has(vi) ? { ...vi, type: { ...vi.type, tensor_type: { ...vi.type!.tensor_type, elem_type: DataType.FLOAT } } } : vi));
  return { ...model, graph: { ...graph, input } };
}

