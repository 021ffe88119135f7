import { ExplainError } from './errors';
import { decodeModel, GraphProto, isDefault, ModelProto, NodeProto, TensorProto, toNumber } from './proto';
import { denseSparseTensors } from './sparse-tensors';

interface SparseParts { values?: TensorProto; indices?: TensorProto }

const sparseParts = (sparse: SparseParts[]) => sparse.flatMap((t) => [t.values, t.indices]).filter((t): t is TensorProto => !!t);

/** Every tensor nodes hold as attributes, in subgraphs (If, Loop, Scan bodies) too. */
function* nodeTensors(nodes: NodeProto[]): Generator<TensorProto> {
  for (const n of nodes) {
    for (const a of n.attribute ?? []) {
      if (a.t) yield a.t;
      yield* a.tensors ?? [];
      yield* sparseParts([a.sparse_tensor, ...((a.sparse_tensors ?? []) as SparseParts[])].filter(Boolean) as SparseParts[]);
      for (const g of [a.g, ...(a.graphs ?? [])]) if (g) yield* graphTensors(g);
    }
  }
}

/** Every tensor a graph holds: its initializers (sparse ones' values and indices too) and its nodes' tensor attributes. */
function* graphTensors(graph: GraphProto): Generator<TensorProto> {
  yield* graph.initializer ?? [];
  yield* sparseParts((graph.sparse_initializer ?? []) as SparseParts[]);
  yield* nodeTensors(graph.node ?? []);
}

/** Every tensor of the model: its graph's and its local functions' (their Constant nodes' values). */
function* allTensors(model: ModelProto): Generator<TensorProto> {
  yield* graphTensors(model.graph!);
  for (const f of model.functions ?? []) yield* nodeTensors(f.node ?? []);
}

/** Fills an initializer stored as external data (the Node adapter reads it from the model's folder). */
export type ExternalDataReader = (t: TensorProto, label: string) => void;

/** Decodes and checks an ONNX model; external-data tensors are read through `readExternal`; sparse tensors are made dense. */
export function parseModel(bytes: Uint8Array, label: string, readExternal?: ExternalDataReader): ModelProto {
  if (bytes.length === 0) throw new ExplainError(`${label}: empty file, not an ONNX model`);
  let model: ModelProto;
  try {
    model = decodeModel(bytes);
  } catch (e) {
    // What repositories and failed downloads leave in place of a model: a Git LFS or Xet pointer, a web page.
    const head = String.fromCharCode(...bytes.subarray(0, 64));
    if (head.startsWith('version https://git-lfs.github.com/spec/')) throw new ExplainError(`${label}: a Git LFS pointer, not the model itself (fetch it with 'git lfs pull')`);
    if (head.startsWith('# xet version')) throw new ExplainError(`${label}: a Xet pointer, not the model itself (fetch the file through Xet or the hub)`);
    if (/^\s*<(!doctype html|html)/i.test(head)) throw new ExplainError(`${label}: an HTML page, not an ONNX model (a download that saved a web page?)`);
    throw new ExplainError(`${label}: not an ONNX model or truncated file (${(e as Error).message})`);
  }
  const missing = [!model.graph && 'graph', !model.opset_import?.length && 'opset_import', !(toNumber(model.ir_version) > 0) && 'ir_version'].filter(Boolean);
  if (missing.length) throw new ExplainError(`${label}: not an ONNX model (no ${missing.join(', no ')})`);
  const graph = model.graph!;
  if (!graph.node?.length) throw new ExplainError(`${label}: the graph has no nodes (its outputs are its inputs or constants): nothing to explain`);
  if (!model.opset_import!.some((o) => isDefault(o.domain)) && graph.node.some((n) => isDefault(n.domain))) {
    throw new ExplainError(`${label}: the model imports no opset of the standard domain (its opset_import: ${model.opset_import!.map((o) => `'${o.domain}' ${toNumber(o.version)}`).join(', ')}), so the versions of its ${graph.node.find((n) => isDefault(n.domain))!.op_type} and other standard ops are unknown`);
  }
  for (const t of allTensors(model)) {
    if (t.data_location !== 1) continue;
    if (!readExternal) throw new ExplainError(`${label}: tensor '${t.name}' uses external data; load the model from a path, or pass baseDir with its bytes (Node)`);
    readExternal(t, label);
    delete t.external_data;
    t.data_location = 0;
  }
  return denseSparseTensors(model, label);
}
