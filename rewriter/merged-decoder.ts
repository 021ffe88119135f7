import { nodeReads } from './graph-view';
import { inlineBranch } from './inline-if';
import { DataType, ModelProto, NodeProto, TensorProto } from './proto';

/**
 * optimum's merged decoders (decoder_model_merged.onnx, as transformers.js loads them): an If on
 * the boolean input `use_cache_branch` between the pass that reads a generation cache (then) and
 * the first pass, which has none (else). An explanation starts from a prompt: the If is read as
 * its first pass and the switch leaves the inputs; the cache inputs stay, unread (empty by
 * default, so that a mask over past and new tokens defaults to the new ones).
 */
export function firstPassOfMergedDecoder(model: ModelProto): ModelProto {
  const graph = model.graph!;
  const switches = new Set((graph.input ?? []).filter((i) => /use_cache/i.test(i.name ?? '') && i.type?.tensor_type?.elem_type === DataType.BOOL).map((i) => i.name));
  const merged = (n: NodeProto) => n.op_type === 'If' && !n.domain && switches.has(n.input?.[0]);
  if (!(graph.node ?? []).some(merged)) return model;
  const initializers: TensorProto[] = [];
  const node = (graph.node ?? []).flatMap((n) => {
    const first = merged(n) && n.attribute?.find((a) => a.name === 'else_branch')?.g;
    if (!first) return [n];
    const part = inlineBranch(first, `${n.name || n.output![0]}/first_pass/`, n.output!);
    initializers.push(...part.initializers);
    return part.nodes;
  });
  const read = new Set(node.flatMap(nodeReads));
  const input = (graph.input ?? []).filter((i) => read.has(i.name ?? '') || !switches.has(i.name));
  return { ...model, graph: { ...graph, node, input, initializer: [...(graph.initializer ?? []), ...initializers] } };
}
