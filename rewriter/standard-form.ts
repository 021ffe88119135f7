import { Emitter } from './emitter';
import { ExplainError } from './errors';
import { GraphView } from './graph-view';
import { DataType, ModelProto, NodeProto } from './proto';

/**
 * How one node reads in standard ops: emits them into `em` (writing the node's outputs under their
 * names) and returns what stays of the node itself, if anything.
 */
export type StandardForm = (em: Emitter, view: GraphView, node: NodeProto, fail: (what: string) => never) => NodeProto[] | void;

/**
 * The model with every node `select` picks replaced by its standard form, in place (so the order
 * stays topological); the model itself where none is picked. `fail` throws a one-line error
 * naming the node; the emitted nodes are named `<node>/<op>_<k>`.
 */
export function readInStandardOps(model: ModelProto, label: string, prefix: string, select: (n: NodeProto) => boolean, form: StandardForm): ModelProto {
  if (!(model.graph?.node ?? []).some(select)) return model;
  const view = new GraphView(model, label);
  const em = new Emitter(view.opset, DataType.FLOAT, prefix);
  const node = (model.graph!.node ?? []).flatMap((n) => {
    if (!select(n)) return [n];
    const start = em.nodes.length;
    const fail = (what: string): never => { throw new ExplainError(`${view.label}: ${view.nodeLabel(n)}: ${what}`); };
    const kept = form(em, view, n, fail) ?? [];
    // Emitted nodes are named after the node they read, which later errors then name.
    const source = n.name || n.output![0];
    return [...kept, ...em.folded(em.nodes.slice(start)).map((m, k) => ({ ...m, name: `${source}/${m.op_type}_${k}` }))];
  });
  return { ...model, graph: { ...model.graph, node, initializer: [...(model.graph!.initializer ?? []), ...em.initializers] } };
}
