import { AttributeProto, DataType, GraphProto, makeTensor, ModelProto, NodeProto, TensorProto, tensorArray, tensorDims, toNumber, ValueInfoProto } from './proto';

/** The half-precision element types (readInFloat32 widens them exactly). */
export const HALF: ReadonlySet<number> = new Set([DataType.FLOAT16, DataType.BFLOAT16]);
/** The float types it reads as float32: the half types, and float64 (narrowed). */
const TO_FLOAT32: ReadonlySet<number> = new Set([...HALF, DataType.DOUBLE]);

/** Attributes that name an element type (Cast's target, the dtype of EyeLike and the Random ops, DequantizeLinear's output_dtype from opset 21). */
const TYPE_ATTRIBUTES = new Set(['to', 'dtype', 'output_dtype']);

/**
 * Half-precision models (float16 or bfloat16 weights and activations, as onnxconverter-common's
 * convert_float_to_float16 writes them, with or without float32 inputs and outputs) widened to
 * float32. Every half value is exactly a float32, so the weights are unchanged; the computations
 * then run in float32, so the model's outputs differ from onnxruntime's half-precision kernels by
 * their rounding, and gradients carry float32 rather than half rounding. Casts to a half type
 * become casts to float32. Float64 models (skl2onnx pipelines on double inputs) are read in float32
 * the same way, as Captum users call model.float(): their outputs then differ from onnxruntime's
 * double kernels by float32 rounding. Models without a half or double type are returned as they are.
 */
export function readInFloat32(model: ModelProto): ModelProto {
  return toFloat32(model, new Set());
}

/** The half and double types readInFloat32 changes in a model: weights, Constants, inputs, outputs, casts (no weight converted). */
export function typesReadInFloat32(model: ModelProto): Set<number> {
  const met = new Set<number>();
  toFloat32(model, met, false);
  return met;
}

/** readInFloat32, collecting the types it meets in `changed`; `convertWeights` false leaves the weights' values as they are (only their types are wanted). */
function toFloat32(model: ModelProto, changed: Set<number>, convertWeights = true): ModelProto {
  let any = false;
  const met = (type: number) => { any = true; changed.add(type); };
  const tensor = (t: TensorProto): TensorProto => {
    if (!TO_FLOAT32.has(t.data_type ?? 0)) return t;
    met(t.data_type!);
    return convertWeights ? makeTensor(t.name ?? '', tensorDims(t), tensorArray(t), DataType.FLOAT) : t;
  };
  const value = (vi: ValueInfoProto): ValueInfoProto => {
    const tt = vi.type?.tensor_type;
    if (!tt || !TO_FLOAT32.has(tt.elem_type ?? 0)) return vi;
    met(tt.elem_type!);
    return { ...vi, type: { ...vi.type, tensor_type: { ...tt, elem_type: DataType.FLOAT } } };
  };
  const attribute = (a: AttributeProto): AttributeProto => {
    if (a.t) return { ...a, t: tensor(a.t) };
    if (a.g) return { ...a, g: graph(a.g) };
    if (a.graphs?.length) return { ...a, graphs: a.graphs.map(graph) };
    if (TYPE_ATTRIBUTES.has(a.name ?? '') && TO_FLOAT32.has(toNumber(a.i ?? 0))) {
      met(toNumber(a.i!));
      return { ...a, i: DataType.FLOAT };
    }
    return a;
  };
  const node = (n: NodeProto): NodeProto => (n.attribute?.length ? { ...n, attribute: n.attribute.map(attribute) } : n);
  const graph = (g: GraphProto): GraphProto => ({
    ...g,
    node: (g.node ?? []).map(node),
    initializer: (g.initializer ?? []).map(tensor),
    input: (g.input ?? []).map(value),
    output: (g.output ?? []).map(value),
    value_info: (g.value_info ?? []).map(value),
  });
  const widened = graph(model.graph!);
  return any ? { ...model, graph: widened } : model;
}

