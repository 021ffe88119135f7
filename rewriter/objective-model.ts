import { ancestors } from './backward';
import { Emitter } from './emitter';
import { GraphView } from './graph-view';
import { DataType, ModelProto, ValueInfoProto, valueInfo } from './proto';

/**
 * A model holding the forward nodes the named outputs need (the rest of the original graph is
 * dropped) and the emitted objective/gradient nodes; `outputs` (float) name emitted or forward tensors.
 */
export function objectiveModel(view: GraphView, em: Emitter, inputs: ValueInfoProto[], outputs: { name: string; dims: (number | string)[] }[]): ModelProto {
  const needed = new Set<string>();
  const byOutput = new Map(em.nodes.flatMap((n) => (n.output ?? []).map((o) => [o, n] as const)));
  const stack = outputs.map((o) => o.name);
  // Forward tensors reached from the emitted nodes (and the outputs themselves).
  while (stack.length) {
    const t = stack.pop()!;
    if (needed.has(t)) continue;
    needed.add(t);
    const n = byOutput.get(t);
    if (n) stack.push(...(n.input ?? []).filter(Boolean));
  }
  const keep = new Set<string>();
  for (const t of needed) if (view.producer.has(t)) for (const a of ancestors(view, t)) keep.add(a);
  const nodes = [...view.nodes.filter((n) => (n.output ?? []).some((o) => keep.has(o))), ...em.nodes];
  const read = new Set(nodes.flatMap((n) => n.input ?? []));
  return {
    ...view.model,
    graph: {
      ...view.graph,
      value_info: [],
      node: nodes,
      initializer: [...(view.graph.initializer ?? []).filter((t) => read.has(t.name ?? '')), ...em.initializers],
      input: inputs,
      output: outputs.map((o) => valueInfo(o.name, DataType.FLOAT, o.dims)),
    },
  };
}
