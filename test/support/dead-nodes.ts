import { subgraphReads } from '../../rewriter/graph-view';
import { ModelProto } from '../../rewriter/proto';

/** Names (or op types) of the nodes after the first `originalCount` whose outputs no node, subgraph or graph output reads. */
export function deadNodes(model: ModelProto, originalCount: number): string[] {
  const nodes = model.graph?.node ?? [];
  const read = new Set([...(model.graph?.output ?? []).map((o) => o.name), ...nodes.flatMap((n) => [...(n.input ?? []), ...subgraphReads(n)])]);
  return nodes.slice(originalCount).filter((n) => !(n.output ?? []).some((o) => o && read.has(o))).map((n) => n.name || n.op_type!);
}

/** The model's initializers that no node reads, no output names and no input declares (a text model's token table, cut at its embedding). */
export function deadInitializers(model: ModelProto): string[] {
  const nodes = model.graph?.node ?? [];
  const read = new Set([...(model.graph?.output ?? []).map((o) => o.name), ...(model.graph?.input ?? []).map((i) => i.name), ...nodes.flatMap((n) => [...(n.input ?? []), ...subgraphReads(n)])]);
  return (model.graph?.initializer ?? []).map((t) => t.name!).filter((name) => !read.has(name));
}
