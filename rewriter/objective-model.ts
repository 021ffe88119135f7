import { Emitter } from './emitter';
import { ancestors, GraphView } from './graph-view';
import { DataType, ModelProto, ValueInfoProto, valueInfo } from './proto';

/**
 * A model holding the forward nodes the named outputs need (the rest of the original graph is
 * dropped) and the emitted objective/gradient nodes; `outputs` (float) name emitted or forward tensors.
 * Its inputs are `inputs` and the model's other inputs that the kept nodes read (a mask, a second input).
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
  const nodes = [...view.nodes.filter((n) => (n.output ?? []).some((o) => keep.has(o))), ...em.folded(em.nodes, outputs.map((o) => o.name))];
  const read = new Set(nodes.flatMap((n) => n.input ?? []));
  const given = new Set(inputs.map((i) => i.name));
  const others = (view.graph.input ?? []).filter((i) => read.has(i.name ?? '') && !given.has(i.name) && !view.initializers.has(i.name ?? ''));
  return {
    ...view.model,
    graph: {
      ...view.graph,
      value_info: [],
      node: nodes,
      initializer: [...(view.graph.initializer ?? []).filter((t) => read.has(t.name ?? '')), ...em.initializers],
      input: [...inputs, ...others],
      output: outputs.map((o) => valueInfo(o.name, DataType.FLOAT, o.dims)),
    },
  };
}
