import { attrInt } from './attributes';
import { Emitter } from './emitter';
import { GraphView, isSigmoid, producerPastViews, readsRenamed } from './graph-view';
import { AttrType, DataType, isFloatType, isTensorValue, makeTensor, ModelProto, NodeProto, ValueInfoProto } from './proto';

/**
 * The model with each of the `names` inputs (inputs without a batch axis: a scalar, a per-model
 * vector) given a leading axis of rows: the input becomes [rows, …its dims] and the graph reads its
 * first row. Fed one row for every row of the batch, it then moves through batch handling (probing,
 * chunking, repeated rows) as any other fed input does, and what the graph computes is unchanged.
 */
export function withRowAxis(model: ModelProto, names: Set<string>): ModelProto {
  if (!names.size) return model;
  const graph = model.graph!;
  const row = (name: string) => `${name}/row`;
  const index = makeTensor('batchless/first_row', [], [0], DataType.INT64);
  const reads: NodeProto[] = [...names].map((name) => ({ op_type: 'Gather', input: [name, index.name!], output: [row(name)], name: viewNode(row(name)), attribute: [{ name: 'axis', type: AttrType.INT, i: 0 }] }));
  const input = (graph.input ?? []).map((vi): ValueInfoProto => {
    const tt = vi.type?.tensor_type;
    if (!names.has(vi.name ?? '') || !tt) return vi;
    // Its own symbolic sizes get names of their own: fed once for every row, a size it shares by name with
    // the batch (a recurrent state [2, batch, H]) is one, not the batch onnxruntime would hold it to.
    const dims = (tt.shape?.dim ?? []).map((d, k) => (d.dim_param ? { dim_param: `${vi.name}_dim${k}` } : d));
    return { ...vi, type: { ...vi.type, tensor_type: { ...tt, shape: { dim: [{ dim_param: `${vi.name}_rows` }, ...dims] } } } };
  });
  const renamed = readsRenamed(graph, (t) => (names.has(t) ? row(t) : t));
  return { ...model, graph: { ...renamed, input, node: [...reads, ...(renamed.node ?? [])], initializer: [...(graph.initializer ?? []), index] } };
}

/**
 * A model that takes one sample without a batch axis (exported from an unbatched example input,
 * as torchvision's detection models are), viewed with one: every input x becomes [1, …x's dims],
 * read through a Squeeze of that axis, and every tensor output y an Unsqueeze of it, [1, …y's dims].
 * The names stay the model's. Batch handling then takes it as a model that fixes batch 1 (rows run
 * one at a time), and its inputs are fed with that leading axis.
 */
export function withSampleAxis(model: ModelProto, label: string): ModelProto {
  const view = new GraphView(model, label);
  const graph = model.graph!;
  const em = new Emitter(view.opset, DataType.FLOAT, 'unbatched');
  const inner = (name: string) => `${name}/sample`;
  const inputs = new Set(view.inputs.map((i) => i.name ?? ''));
  const outputs = new Set((graph.output ?? []).filter(isTensorValue).map((o) => o.name ?? ''));
  const withAxis = (vi: ValueInfoProto): ValueInfoProto => {
    const tt = vi.type?.tensor_type;
    // An input that declares no shape keeps none (its rank is unknown).
    return tt?.shape ? { ...vi, type: { ...vi.type, tensor_type: { ...tt, shape: { dim: [{ dim_value: 1 }, ...(tt.shape.dim ?? [])] } } } } : vi;
  };
  for (const x of inputs) em.rename(em.squeeze(x, [0]), inner(x));
  const squeezes = em.nodes.splice(0);
  const renamed = readsRenamed(graph, (t) => (inputs.has(t) || outputs.has(t) ? inner(t) : t));
  const node = (renamed.node ?? []).flatMap((n) => {
    // An embedding lookup of token ids reads the ids with the sample axis, so the embedding has it too (and is explained as a batch of one).
    const ids = n.op_type === 'Gather' && !n.domain && attrInt(n, 'axis', 0) === 0 && isFloatType(view.initializers.get(n.input![0])?.data_type) ? [...inputs].find((x) => inner(x) === n.input![1]) : undefined;
    if (ids) {
      const start = em.nodes.length;
      em.rename(em.squeeze(`${n.output![0]}/with_sample_axis`, [0]), n.output![0]);
      return [{ ...n, input: [n.input![0], ids], output: [`${n.output![0]}/with_sample_axis`] }, ...own(em.nodes.splice(start))];
    }
    return [n.output?.some((o) => outputs.has(o)) ? { ...n, output: n.output.map((o) => (outputs.has(o) ? inner(o) : o)) } : n];
  });
  // The output keeps its name; its node is named apart from the one that now computes `inner(y)`.
  for (const y of outputs) em.nodes.push({ op_type: 'Identity', input: [em.unsqueeze(inner(y), [0])], output: [y], name: y });
  // A final Softmax's logits with the axis too: what is explained (resolveOutput).
  for (const logits of finalSoftmaxInputs(view, outputs)) em.rename(em.unsqueeze(logits, [0]), withBatchAxis(logits));
  return {
    ...model,
    graph: {
      ...renamed, node: [...own(squeezes), ...node, ...own(em.nodes)], initializer: [...(graph.initializer ?? []), ...em.initializers], value_info: [],
      input: (graph.input ?? []).map((vi) => (inputs.has(vi.name ?? '') ? withAxis(vi) : vi)),
      output: (graph.output ?? []).map((o) => (outputs.has(o.name ?? '') ? withAxis(o) : o)),
    },
  };
}

/** The name of an unbatched model's tensor viewed with the sample axis (withSampleAxis). */
export const withBatchAxis = (name: string) => `${name}/with_batch_axis`;

/** The inputs of the Softmax, LogSoftmax and Sigmoid nodes (LRP's logits) that compute outputs (past producerPastViews). */
function finalSoftmaxInputs(view: GraphView, outputs: Set<string>): string[] {
  return [...outputs].flatMap((y) => {
    const n = producerPastViews(view, y);
    return n && !n.domain && (n.op_type === 'Softmax' || n.op_type === 'LogSoftmax' || isSigmoid(n)) ? [n.input![0]] : [];
  });
}

/** The prefix of the names of the nodes these views add (info counts the model's own ops). */
const VIEW = 'batch_view/';
const viewNode = (name: string) => `${VIEW}${name}`;

/** Nodes a view emitted, named as its own. */
const own = (list: NodeProto[]) => list.map((n) => ({ ...n, name: viewNode(n.name || n.output![0]) }));

/** Whether a node is one the batch views added, not the model's. */
export const isViewNode = (n: NodeProto) => !!n.name?.startsWith(VIEW);
