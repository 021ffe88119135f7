import { GraphView, readsRenamed } from './graph-view';
import { GraphProto, ModelProto, NodeProto, TensorProto } from './proto';

/**
 * A branch's nodes and initializers with its own tensor names prefixed (outer-scope names kept, its
 * graph inputs read as `inputs` maps them), its outputs copied to `outputs` (where given); `results`
 * are the tensors its outputs name, renamed.
 */
export function inlineBranch(branch: GraphProto, prefix: string, outputs: string[], inputs = new Map<string, string>()): { nodes: NodeProto[]; initializers: TensorProto[]; results: string[] } {
  const own = new Set<string>([...(branch.initializer ?? []).map((t) => t.name ?? ''), ...(branch.node ?? []).flatMap((n) => n.output ?? [])]);
  const rename = (t: string) => (t && own.has(t) ? prefix + t : inputs.get(t) ?? t);
  // Nested subgraphs may read the branch's tensors from their enclosing scope.
  const nodes: NodeProto[] = readsRenamed(branch, rename).node!.map((n) => ({ ...n, name: prefix + (n.name || n.output?.[0]), output: (n.output ?? []).map(rename) }));
  const results = (branch.output ?? []).map((o) => rename(o.name ?? ''));
  results.forEach((r, k) => outputs[k] && nodes.push({ op_type: 'Identity', input: [r], output: [outputs[k]], name: `${prefix}output_${k}` }));
  return { nodes, initializers: (branch.initializer ?? []).map((t) => ({ ...t, name: prefix + t.name })), results };
}

/**
 * Graph canonicalisation before the walk: every top-level If whose condition is a constant or
 * computed from shapes only (its value `values` were observed when probing) is replaced by the
 * taken branch. Returns undefined when no If was inlined. An If on a condition computed from the
 * input's values stays; the walk then reports that its outputs have no gradient.
 */
export function inlineConstantIfs(view: GraphView, values: Map<string, number[]>): ModelProto | undefined {
  let inlined = false;
  const graph = view.graph;
  const initializers: TensorProto[] = [];
  const nodes = (graph.node ?? []).flatMap((n) => {
    if (n.op_type !== 'If') return [n];
    const cond = n.input![0];
    const value = view.constant(cond)?.values ?? values.get(cond);
    if (!value?.length) return [n];
    const branch = n.attribute?.find((a) => a.name === (value[0] ? 'then_branch' : 'else_branch'))?.g;
    if (!branch) return [n];
    inlined = true;
    const part = inlineBranch(branch, `${n.name || n.output![0]}/${value[0] ? 'then' : 'else'}/`, n.output!);
    initializers.push(...part.initializers);
    return part.nodes;
  });
  if (!inlined) return undefined;
  return { ...view.model, graph: { ...graph, node: nodes, initializer: [...(graph.initializer ?? []), ...initializers] } };
}
