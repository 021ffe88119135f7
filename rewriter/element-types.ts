import { attrInt } from './attributes';
import { allNodes } from './graph-view';
import { QUANTIZED_CLAMPS, QUANTIZED_MOVES } from './quantized-moves';
import { GraphProto, NodeProto } from './proto';

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

/**
 * Element types of a graph's tensors as far as the graph says, before any run: initializers,
 * declarations, and what Constants, Casts, quantizers and the ops that move or clamp quantized
 * values give (subgraphs' nodes included).
 */
export function elementTypes(graph: GraphProto): Map<string, number> {
  const types = new Map<string, number>();
  for (const t of graph.initializer ?? []) types.set(t.name!, t.data_type ?? 0);
  for (const vi of [...(graph.input ?? []), ...(graph.value_info ?? []), ...(graph.output ?? [])]) if (vi.type?.tensor_type?.elem_type) types.set(vi.name!, vi.type.tensor_type.elem_type);
  for (const n of allNodes(graph)) {
    const type = outputType(n, types);
    if (type) for (const o of n.op_type === 'Split' ? n.output ?? [] : [n.output?.[0] ?? '']) if (o) types.set(o, type);
  }
  return types;
}
