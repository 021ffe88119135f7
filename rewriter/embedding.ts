import { attrInt } from './attributes';
import { GraphView } from './graph-view';
import { isFloatType, ModelProto, NodeProto, ValueInfoProto } from './proto';

/** Ops that carry integer indices unchanged in value (type and shape moves only). */
const INDEX_MOVES = new Set(['Cast', 'Reshape', 'Unsqueeze', 'Squeeze', 'Flatten', 'Identity']);

export interface Embedding {
  /** The Gather's output: one vector per index (the layer Captum's LayerIntegratedGradients uses). */
  output: string;
  /** The float table [rows, ...] it reads (an initializer). */
  table: string;
  rows: number;
}

/**
 * The embedding lookups of an integer input: Gather nodes reading a float table initializer at
 * indices that are the input's values (through casts and reshapes), largest table first.
 */
export function embeddingsOf(view: GraphView, input: string): Embedding[] {
  const indices = new Set([input]);
  const found: Embedding[] = [];
  for (const n of view.nodes) {
    const [data, idx] = n.input ?? [];
    if (INDEX_MOVES.has(n.op_type ?? '') && indices.has(data)) indices.add(n.output![0]);
    const table = n.op_type === 'Gather' && indices.has(idx) && attrInt(n, 'axis', 0) === 0 ? view.initializers.get(data) : undefined;
    if (table && isFloatType(table.data_type)) found.push({ output: n.output![0], table: data, rows: Number(table.dims?.[0] ?? 0) });
  }
  return found.sort((a, b) => b.rows - a.rows);
}

const COMPARISONS = new Set(['Equal', 'Greater', 'Less', 'GreaterOrEqual', 'LessOrEqual']);

/**
 * A float input that holds token ids: every node reading it is a Cast to an integer type or a
 * comparison (a padding mask), and the ids index an embedding table (tf2onnx's Keras Embedding,
 * whose ids input is float32; `mask_zero` compares them with 0).
 */
export function holdsTokenIds(view: GraphView, input: string): boolean {
  const readers = view.consumers.get(input) ?? [];
  const discrete = (n: NodeProto) => !n.domain && ((n.op_type === 'Cast' && !isFloatType(attrInt(n, 'to', 0))) || COMPARISONS.has(n.op_type ?? ''));
  return readers.length > 0 && readers.every(discrete) && embeddingsOf(view, input).length > 0;
}

/**
 * The model with the embedding lookup cut out: its output becomes a float graph input (dims: the
 * index input's dims, then the table's row dims), so attributions to the embedding are input
 * attributions of this model. The index input stays (position ids, masks, shapes may read it).
 */
export function cutAtEmbedding(view: GraphView, embedding: Embedding, indexInput: ValueInfoProto): ModelProto {
  const graph = view.graph;
  const table = view.initializers.get(embedding.table)!;
  const dim = [...(indexInput.type?.tensor_type?.shape?.dim ?? []), ...(table.dims ?? []).slice(1).map((d) => ({ dim_value: d }))];
  const input: ValueInfoProto = { name: embedding.output, type: { tensor_type: { elem_type: table.data_type, shape: { dim } } } };
  return { ...view.model, graph: { ...graph, node: (graph.node ?? []).filter((n) => n.output?.[0] !== embedding.output), input: [input, ...(graph.input ?? [])] } };
}
