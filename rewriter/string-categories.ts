import { attrFloat, attrFloats, attrInt, attrInts, attrStrings } from './attributes';
import { computedFrom, nodeReads } from './graph-view';
import { DataType, isFloatType, makeTensor, ModelProto, NodeProto, TensorProto, ValueInfoProto } from './proto';


const ML = 'ai.onnx.ml';

/** Where a categorical input's vocabulary is kept: its ValueInfo's doc_string, after this prefix (JSON). */
export const CATEGORIES = 'onnx-explain categories: ';

/** Ops that move a string tensor's elements without reading them (its first input; indices and shapes constant or not): they move codes alike. */
const MOVES = new Set(['ArrayFeatureExtractor', 'Identity', 'Reshape', 'Squeeze', 'Unsqueeze', 'Flatten', 'Transpose', 'Slice', 'Gather', 'Expand', 'Tile']);

/** A string encoder's keys, its output type and the axes it adds, and the table row (output values) of a key's position, or of an unknown string. */
interface Encoder { keys: string[]; row(k: number | undefined): number[]; dims: number[]; type: number }

/** The encoder a node applies to a string input, where it is one onnx-explain reads (else undefined). */
function encoderOf(n: NodeProto): Encoder | undefined {
  if (n.domain !== ML) return undefined;
  if (n.op_type === 'OneHotEncoder') {
    const keys = attrStrings(n, 'cats_strings');
    if (!keys) return undefined;
    // Unknown strings give all zeros (zeros = 1, skl2onnx's handle_unknown='ignore'; with zeros = 0 onnxruntime fails instead).
    return { keys, dims: [keys.length], type: DataType.FLOAT, row: (k) => keys.map((_, j) => (j === k ? 1 : 0)) };
  }
  if (n.op_type === 'CategoryMapper') {
    const [keys, values] = [attrStrings(n, 'cats_strings'), attrInts(n, 'cats_int64s')];
    if (!keys || !values) return undefined;
    return { keys, dims: [], type: DataType.INT64, row: (k) => [k === undefined ? attrInt(n, 'default_int64', -1) : values[k]] };
  }
  if (n.op_type === 'LabelEncoder') {
    const classes = attrStrings(n, 'classes_strings');
    if (classes) return { keys: classes, dims: [], type: DataType.INT64, row: (k) => [k ?? attrInt(n, 'default_int64', -1)] };
    const keys = attrStrings(n, 'keys_strings');
    const [ints, floats] = [attrInts(n, 'values_int64s'), attrFloats(n, 'values_floats')];
    if (!keys || (!ints && !floats)) return undefined;
    if (ints) return { keys, dims: [], type: DataType.INT64, row: (k) => [k === undefined ? attrInt(n, 'default_int64', -1) : ints[k]] };
    return { keys, dims: [], type: DataType.FLOAT, row: (k) => [k === undefined ? attrFloat(n, 'default_float', -0) : floats![k]] };
  }
  return undefined;
}

/**
 * String inputs read only by categorical encoders (ai.onnx.ml OneHotEncoder, LabelEncoder,
 * CategoryMapper: scikit-learn pipelines' string columns as skl2onnx writes them), directly or
 * through ops that only move elements (ArrayFeatureExtractor picking columns, reshapes), where a
 * float output is computed from them, as int64 codes:
 * code v is the v-th string of the input's vocabulary (every encoder's keys, in order; kept in the
 * input's doc_string after CATEGORIES), one past the last is an unknown string. Each encoder becomes a
 * Gather of its outputs for every code (a one-hot row, its value or its default), the same values
 * onnxruntime's kernels give. Feeds of such an input are strings, mapped to codes when fed.
 */
export function stringCategoriesAsCodes(model: ModelProto): ModelProto {
  const graph = model.graph!;
  const readers = (name: string) => (graph.node ?? []).filter((n) => nodeReads(n).includes(name));
  // Whether a float output is computed from the input (ML.NET's string Label only gives its key output: left out, string-inputs.ts).
  const floatOutputs = new Set((graph.output ?? []).filter((o) => isFloatType(o.type?.tensor_type?.elem_type)).map((o) => o.name ?? ''));
  const reachesFloatOutput = (name: string) => {
    const derived = computedFrom(graph, [name]);
    return [...floatOutputs].some((o) => derived.has(o));
  };
  const outputs = new Set((graph.output ?? []).map((o) => o.name ?? ''));
  // Each convertible input's vocabulary and the encoders its region (the input and what moving ops make of it) reaches.
  const converted = new Map<string, { vocabulary: string[]; encoders: Map<NodeProto, Encoder>; region: string[] }>();
  for (const vi of graph.input ?? []) {
    if (vi.type?.tensor_type?.elem_type !== DataType.STRING || !reachesFloatOutput(vi.name ?? '')) continue;
    const encoders = new Map<NodeProto, Encoder>();
    const region = [vi.name ?? ''];
    let convertible = true;
    for (let k = 0; k < region.length && convertible; k++) {
      const users = readers(region[k]);
      if (!users.length || outputs.has(region[k])) convertible = false;
      for (const n of users) {
        const encoder = encoderOf(n);
        if (encoder) encoders.set(n, encoder);
        else if (MOVES.has(n.op_type ?? '') && n.input!.indexOf(region[k]) === 0 && n.input!.lastIndexOf(region[k]) === 0) region.push(...(n.output ?? []).slice(0, 1));
        else convertible = false;
      }
    }
    if (!convertible) continue;
    converted.set(vi.name ?? '', { vocabulary: [...new Set([...encoders.values()].flatMap((e) => e.keys))], encoders, region });
  }
  if (!converted.size) return model;
  const tables: TensorProto[] = [];
  const node = (graph.node ?? []).map((n): NodeProto => {
    const input = [...converted.values()].find((c) => c.encoders.has(n));
    const encoder = input?.encoders.get(n);
    if (!input || !encoder) return n;
    const rows = [...input.vocabulary.map((s) => encoder.keys.indexOf(s)), -1].flatMap((k) => encoder.row(k < 0 ? undefined : k));
    const table = makeTensor(`${n.output![0]}/table`, [input.vocabulary.length + 1, ...encoder.dims], rows, encoder.type);
    tables.push(table);
    return { op_type: 'Gather', input: [table.name!, n.input![0]], output: [n.output![0]], name: n.name || n.output![0], attribute: [{ name: 'axis', type: 2, i: 0 }] };
  });
  // The region's tensors now hold codes: their declared string types go.
  const regions = new Set([...converted.values()].flatMap((c) => c.region));
  const valueInfo = (graph.value_info ?? []).filter((vi) => !regions.has(vi.name ?? ''));
  const input = (graph.input ?? []).map((vi): ValueInfoProto => {
    const c = converted.get(vi.name ?? '');
    if (!c) return vi;
    return { ...vi, doc_string: `${CATEGORIES}${JSON.stringify(c.vocabulary)}`, type: { ...vi.type, tensor_type: { ...vi.type!.tensor_type, elem_type: DataType.INT64 } } };
  });
  return { ...model, graph: { ...graph, node, input, value_info: valueInfo, initializer: [...(graph.initializer ?? []), ...tables] } };
}
