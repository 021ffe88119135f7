import { attrInt } from '../rewriter/attributes';
import { QUANTIZED_CLAMPS, QUANTIZED_MOVES } from '../rewriter/quantized-moves';
import { DataType, FLOAT8_TYPES, GraphProto, NodeProto } from '../rewriter/proto';

/**
 * ONNX types a run cannot hand back to Node (float8, 4-bit integers, float4): onnxruntime-node
 * throws "Unsupported data type" for float8 and runs out of memory converting int4.
 */
const UNRETURNABLE = new Set([...FLOAT8_TYPES, DataType.UINT4, DataType.INT4, 23]);

/** Suffix of the float copy under which the probe exposes such a tensor. */
const AS_FLOAT = '::onnx_explain_as_float';

/** The type a node gives its first output where it follows from the node alone or its input 0. */
function outputType(n: NodeProto, types: Map<string, number>): number | undefined {
  const [x, , zeroPoint] = n.input ?? [];
  if (n.domain) return undefined;
  switch (n.op_type) {
    case 'Constant': return (n.attribute ?? []).find((a) => a.name === 'value')?.t?.data_type;
    case 'Cast': return attrInt(n, 'to', 0);
    case 'CastLike': return types.get(n.input![1]);
    case 'QuantizeLinear': return attrInt(n, 'output_dtype', 0) || types.get(zeroPoint);
    default: return QUANTIZED_MOVES.has(n.op_type ?? '') || QUANTIZED_CLAMPS.has(n.op_type ?? '') ? types.get(x) : undefined;
  }
}

/** Tensors of the graph whose type a run cannot return, with that type (as initializers, declarations and the nodes that make them say). */
export function unreturnableTensors(graph: GraphProto): Map<string, number> {
  const types = new Map<string, number>();
  for (const t of graph.initializer ?? []) types.set(t.name!, t.data_type ?? 0);
  for (const vi of [...(graph.value_info ?? []), ...(graph.output ?? [])]) if (vi.type?.tensor_type?.elem_type) types.set(vi.name!, vi.type.tensor_type.elem_type);
  for (const n of graph.node ?? []) {
    const type = outputType(n, types);
    if (type) for (const o of n.op_type === 'Split' ? n.output ?? [] : [n.output?.[0] ?? '']) if (o) types.set(o, type);
  }
  return new Map([...types].filter(([, t]) => UNRETURNABLE.has(t)));
}

/** A Cast to float of each such tensor computed by a node, exposed instead of it. */
export function floatCopies(graph: GraphProto, exposed: string[]): { nodes: NodeProto[]; outputs: string[] } {
  const narrow = unreturnableTensors(graph);
  const copied = exposed.filter((o) => narrow.has(o));
  return {
    nodes: copied.map((o) => ({ op_type: 'Cast', input: [o], output: [o + AS_FLOAT], name: o + AS_FLOAT, attribute: [{ name: 'to', type: 2, i: DataType.FLOAT }] })),
    outputs: exposed.map((o) => (narrow.has(o) ? o + AS_FLOAT : o)),
  };
}

/** The tensor a probe output stands for: itself, or the one whose float copy it is. */
export function exposedTensor(output: string): string {
  return output.endsWith(AS_FLOAT) ? output.slice(0, -AS_FLOAT.length) : output;
}
