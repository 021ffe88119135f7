import { elementTypes } from '../rewriter/element-types';
import { DataType, FLOAT8_TYPES, GraphProto, NodeProto } from '../rewriter/proto';

/**
 * ONNX types a run cannot hand back to Node (float8, 4-bit integers, float4): onnxruntime-node
 * throws "Unsupported data type" for float8 and runs out of memory converting int4.
 */
const UNRETURNABLE = new Set([...FLOAT8_TYPES, DataType.UINT4, DataType.INT4, 23]);

/** Suffix of the float copy under which the probe exposes such a tensor. */
const AS_FLOAT = '::onnx_explain_as_float';

/** Tensors of the graph whose type a run cannot return, with that type. */
export function unreturnableTensors(graph: GraphProto): Map<string, number> {
  return new Map([...elementTypes(graph)].filter(([, t]) => UNRETURNABLE.has(t)));
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
