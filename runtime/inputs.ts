import { Embedding, embeddingsOf, holdsTokenIds } from '../rewriter/embedding';
import { ExplainError, shortList } from '../rewriter/errors';
import { lookupTable } from '../rewriter/lookup-table';
import { computedFrom, descendants, GraphView, nodeReads } from '../rewriter/graph-view';
import { DataType, declaredDims, isFloatType, ValueInfoProto } from '../rewriter/proto';
import { CATEGORIES } from '../rewriter/string-categories';
import { OrtTensor } from './backend';
import { makeOrtTensor, onnxType, ortType, typeName } from './ort-types';
import { InputSpec } from './probe';
import { DenseInput, fromNdarray, TensorInput } from './tensors';

/**
 * A graph input: its type and dims (-1 where dynamic), with the names of its dynamic dims. An input
 * without a batch axis in the model (isBatchless) is viewed with one added (rows: see
 * rewriter/batchless-inputs.ts); `unbatched` holds its dims as the model declares them.
 */
export interface ModelInput extends InputSpec {
  params: (string | undefined)[];
  /** The model returns updated caches (an output named …present…, …cache… or past…): see isCacheInput. */
  cacheOutputs?: boolean;
  /** A float input that holds token ids (holdsTokenIds): explained as token ids, not as floats. */
  floatIds?: boolean;
  /** A string column read as int64 codes (rewriter/string-categories.ts): its vocabulary; fed as strings. */
  categories?: string[];
  /** Read only by Identity copies that are graph outputs (ML.NET's Target column → Target.output): fed zeros, never explained. */
  copiedOnly?: boolean;
  /** Read by no node (a skl2onnx pipeline's dropped columns): fed zeros without a note. */
  unread?: boolean;
  /** The model declares no shape for it (not even a rank): `dims` is then empty. */
  rankUnknown?: boolean;
  /** A recurrent state the model hands back as this output for the next call: fed (zeros by default), never explained. */
  handedBack?: string;
  /** The element type the model file declares where its canonical form reads another (integers read only through Casts, float64, float16: float32). */
  fileType?: number;
  /** A dynamic first axis named apart from the explained batch that an output also declares (CLIP's prompts [text_batch, L]): fed once for every row, one row of defaults unless fed. */
  otherBatch?: boolean;
}

/**
 * Whether tensor `name` is read, and only by Identity nodes whose outputs are graph outputs, read (if
 * at all) likewise — in a model that computes some other output (a model that only passes its
 * inputs through is explained at those copies).
 */
export function copiedToOutputsOnly(view: GraphView, name: string): boolean {
  const outputs = new Set((view.graph.output ?? []).map((o) => o.name ?? ''));
  const readers = (t: string) => view.nodes.filter((n) => n.input?.includes(t));
  const copiesOnly = (t: string): boolean => readers(t).every((n) => n.op_type === 'Identity' && !n.domain && outputs.has(n.output![0]) && copiesOnly(n.output![0]));
  const inputs = new Set(view.inputs.map((i) => i.name));
  return readers(name).length > 0 && copiesOnly(name) && [...outputs].some((o) => !inputs.has(o) && !copiesInput(view, o));
}

/** Whether a tensor is an Identity copy of a graph input (through any chain of copies). */
export function copiesInput(view: GraphView, name: string): boolean {
  const n = view.producer.get(name);
  return !!n && n.op_type === 'Identity' && !n.domain && (view.inputs.some((i) => i.name === n.input![0]) || copiesInput(view, n.input![0]));
}

/**
 * Whether graph output `output` is input `input` handed back for the next call (a recurrent state):
 * named after it (Silero VAD's `state` → `stateN`, `h` → `hn`, `h0` → `h_out`), of its rank and fixed
 * sizes, computed from it.
 */
function handsBack(view: GraphView, output: ValueInfoProto, input: ValueInfoProto): boolean {
  const sizes = (vi: ValueInfoProto) => vi.type?.tensor_type?.shape?.dim?.map((d) => Number(d.dim_value ?? 0)) ?? [];
  const [out, dims] = [sizes(output), sizes(input)];
  const stem = (input.name ?? '').toLowerCase().replace(/_?(0|in|input)$/, '');
  return !!stem && isFloatType(input.type?.tensor_type?.elem_type ?? undefined) && (output.name ?? '').toLowerCase().startsWith(stem)
    && dims.length === out.length && dims.every((d, k) => !d || !out[k] || d === out[k]) && computedFrom(view.graph, [input.name ?? '']).has(output.name ?? '');
}

export function modelInputs(view: GraphView): ModelInput[] {
  const inputs = declaredInputs(view);
  // A state is read beside a signal that does not come back, without the batch axis the signal has
  // (Silero's [2, batch, 128] beside [batch, L]); an autoencoder's only input `x` → `x_hat` is none.
  const signal = inputs.find((i) => isFloatType(i.elemType) && !i.handedBack);
  const state = (i: ModelInput) => !!signal && (isBatchless(i, inputs) || i.dims[0] !== signal.dims[0]);
  return inputs.map((i) => (i.handedBack && !state(i) ? { ...i, handedBack: undefined } : i));
}

function declaredInputs(view: GraphView): ModelInput[] {
  // Not …state…: encoders (a time-series transformer beside its past_values) return last_hidden_state.
  const cacheOutputs = (view.graph.output ?? []).some((o) => /present|cache|^past/i.test(o.name ?? ''));
  return view.inputs.map((vi: ValueInfoProto) => {
    const dims = vi.type?.tensor_type?.shape?.dim ?? [];
    const elemType = vi.type?.tensor_type?.elem_type ?? 0;
    const handedBack = (view.graph.output ?? []).find((o) => handsBack(view, o, vi))?.name;
    return {
      name: vi.name!,
      elemType,
      dims: declaredDims(vi),
      params: dims.map((d) => d.dim_param || undefined),
      ...(cacheOutputs ? { cacheOutputs } : {}),
      ...(isFloatType(elemType) && holdsTokenIds(view, vi.name!) ? { floatIds: true } : {}),
      ...(isFloatType(elemType) && copiedToOutputsOnly(view, vi.name!) ? { copiedOnly: true } : {}),
      ...(!view.nodes.some((n) => nodeReads(n).includes(vi.name!)) ? { unread: true } : {}),
      ...(vi.type?.tensor_type && !vi.type.tensor_type.shape ? { rankUnknown: true } : {}),
      ...(handedBack ? { handedBack } : {}),
      ...(typeof vi.doc_string === 'string' && vi.doc_string.startsWith(CATEGORIES) ? { categories: JSON.parse(vi.doc_string.slice(CATEGORIES.length)) as string[] } : {}),
    };
  });
}

/** Token ids: an integer input, or a float one that holds ids. */
export const isIdsInput = (i: ModelInput): boolean => !isFloatType(i.elemType) || !!i.floatIds;

/**
 * A generation cache input, a float input of rank 3 or more named past… or …cache… of a model that
 * returns updated caches (a time-series model's past_values is its data, not a cache): the past keys
 * and values of a decoder exported with past, as optimum and transformers.js write them
 * (past_key_values.0.key …), with a dynamic length besides the batch, by default empty along it (a
 * prompt with no past); or the fixed-size state of a hybrid decoder's convolution or recurrent layer
 * (LFM2's past_conv.0, Qwen3.5's past_key_values.0.conv_state and .recurrent_state, as
 * onnxruntime-genai writes them) or a static KV cache of the maximum length, by default zeros (before
 * the first token). It is not explained.
 */
export function isCacheInput(i: ModelInput): boolean {
  if (!i.cacheOutputs || !isFloatType(i.elemType) || !/past|cache/i.test(i.name) || i.dims.length < 3) return false;
  return i.dims.slice(1).some((d) => d < 0) || isStateInput(i);
}

/** A cache input of fixed size: a convolution or recurrent state, or a static KV cache (opset 24's TensorScatter writes into it). */
export function isStateInput(i: ModelInput): boolean {
  const kv = /[._](key|value)$/i.test(i.name) && i.dims.length >= 4;
  return (kv || /state|conv|ssm/i.test(i.name)) && i.dims.slice(1).every((d) => d > 0);
}

/** The float inputs that can be explained (generation caches and inputs without a batch axis are not). */
export function explainableFloats(inputs: ModelInput[]): ModelInput[] {
  return inputs.filter((i) => !isIdsInput(i) && !isCacheInput(i) && !i.copiedOnly && !i.handedBack && !isBatchless(i, inputs));
}

/**
 * An input without a batch axis, fed once for every row: a scalar (a temperature, TF1's keep_prob
 * placeholder, a flag), or one whose first dim is fixed while another input's first dim (the
 * batch) is dynamic (a per-model vector; position ids declared [1, L]).
 */
export function isBatchless(i: ModelInput, inputs: ModelInput[]): boolean {
  if (i.unbatched) return true;
  if (i.dims.length === 0) return true;
  return i.dims[0] > 0 && inputs.some((o) => o !== i && o.dims.length > 0 && o.dims[0] < 0 && !isCacheInput(o));
}

/** `wrt` for joint attribution to every float input of the model. */
export const ALL_INPUTS = 'all';

/**
 * The inputs attributions are computed for. One input: `wrt`, else the one float input, else the
 * integer input that indexes the largest embedding table (token ids); integer inputs are explained
 * at their embedding output (Captum's LayerIntegratedGradients convention). Several (joint, as
 * Captum's tuple of inputs, or its LayerIntegratedGradients over a list of embedding layers): `wrt`
 * 'all' (every float input) or a list of inputs, float or token ids. `embeddings` holds the lookup
 * of each token-id input explained, by input name.
 */
export function explainedInputs(view: GraphView, inputs: ModelInput[], wrt: string | string[] | undefined, label: string, fed: string[] = []): { inputs: ModelInput[]; joint: boolean; embeddings: Map<string, Embedding> } {
  const chosen = chooseInputs(view, inputs, wrt, label, fed);
  const shapeless = chosen.inputs.find((i) => i.rankUnknown);
  if (shapeless) fail(noShape(shapeless, label));
  return chosen;
}

const noShape = (i: ModelInput, label: string) => `${label}: input '${i.name}' declares no shape, so its rank is unknown: declare its shape in the model (its exporter's input shapes, or onnx.tools.update_model_dims.update_inputs_outputs_dims)`;

/** Ops whose outputs are shapes, indices, booleans or (ZipMap) maps: never differentiated. */
export const STRUCTURAL_OPS = new Set(['ZipMap', 'Constant', 'Shape', 'Size', 'ConstantOfShape', 'Range', 'NonZero', 'ArgMax', 'ArgMin', 'Equal', 'Greater', 'Less', 'GreaterOrEqual', 'LessOrEqual', 'Not', 'And', 'Or', 'Xor', 'NonMaxSuppression']);

/** Whether any node but a structural one (ArgMax, comparisons, shapes) reads `name`'s values, directly or through such a node. */
export function computesWith(view: GraphView, name: string): boolean {
  return descendants(view, [name], (n) => !STRUCTURAL_OPS.has(n.op_type ?? '')).size > 1;
}

function chooseInputs(view: GraphView, inputs: ModelInput[], wrt: string | string[] | undefined, label: string, fed: string[]): { inputs: ModelInput[]; joint: boolean; embeddings: Map<string, Embedding> } {
  const list = inputs.map((i) => `'${i.name}'`).join(', ');
  // A weight an old exporter also lists among the graph inputs (keep_initializers_as_inputs) is not one to give or explain.
  const noInput = (flag: string, name: string, names: string) => fail(`${label}: --${flag} ${name}: ${(view.graph.initializer ?? []).some((t) => t.name === name) ? `'${name}' is a weight (an initializer the model also lists as a graph input), not an input` : `the model has no input named '${name}'`} (inputs: ${names})`);
  const stranger = fed.find((name) => !inputs.some((i) => i.name === name));
  if (stranger !== undefined) noInput('feed', stranger, shortList(inputs.map((i) => i.name)));
  const named = (name: string) => {
    const input = inputs.find((i) => i.name === name) ?? noInput('wrt', name, list);
    if (input.rankUnknown) fail(noShape(input, label));
    if (isBatchless(input, inputs)) fail(`${label}: --wrt ${name}: input '${name}' [${input.dims.map((d) => (d < 0 ? '?' : d))}] has no batch axis: it is fed as it is for every row (--feed ${name}=FILE), not explained`);
    return input;
  };
  // Each input's largest embedding lookup, searched for once.
  const found = new Map<string, Embedding | undefined>();
  const embeddingOf = (i: ModelInput) => {
    if (!found.has(i.name)) found.set(i.name, embeddingsOf(view, i.name)[0]);
    return found.get(i.name);
  };
  const lookupOf = (i: ModelInput) => embeddingOf(i) ?? fail(`${label}: input '${i.name}' is an integer input that indexes no embedding table (a Gather from a float initializer); attributions need a float input or token ids (inputs: ${list})`);
  const floats = explainableFloats(inputs);
  if (Array.isArray(wrt) || (wrt === ALL_INPUTS && !inputs.some((i) => i.name === ALL_INPUTS))) {
    const chosen = wrt === ALL_INPUTS ? floats.filter((i) => computesWith(view, i.name)) : (wrt as string[]).map(named);
    const ids = inputs.filter((i) => isIdsInput(i) && embeddingOf(i));
    const joinIds = ids.length > 1 ? `; to join token ids, name them: --wrt ${ids.map((i) => i.name).join(',')}` : '';
    if (!chosen.length) fail(`${label}: --wrt ${wrt}: the model has no float input (inputs: ${list})${joinIds}`);
    const twice = chosen.find((i, k) => chosen.indexOf(i) !== k);
    if (twice) fail(`${label}: --wrt ${(wrt as string[]).join(',')}: '${twice.name}' is named twice`);
    return { inputs: chosen, joint: true, embeddings: new Map(chosen.filter(isIdsInput).map((i) => [i.name, lookupOf(i)])) };
  }
  const tokenInput = (i: ModelInput) => ({ inputs: [i], joint: false, embeddings: new Map([[i.name, lookupOf(i)]]) });
  if (wrt !== undefined) {
    const input = named(wrt);
    return isIdsInput(input) ? tokenInput(input) : { inputs: [input], joint: false, embeddings: new Map<string, Embedding>() };
  }
  // torch.onnx.export(..., export_params=False): the parameters are inputs and no initializer holds them.
  const allFloats = inputs.filter((i) => isFloatType(i.elemType) && !isCacheInput(i));
  const weightless = !view.initializers.size && allFloats.length > 1 && allFloats.some((i) => /weight|bias/i.test(i.name));
  if (weightless) fail(`${label}: the model holds no weights: its parameters are inputs (${allFloats.length} float inputs: '${allFloats[0].name}', '${allFloats[1].name}', …), as torch.onnx.export writes with export_params=False; export it with its parameters`);
  if (floats.length === 1) return { inputs: floats, joint: false, embeddings: new Map<string, Embedding>() };
  const unfed = floats.filter((i) => !fed.includes(i.name));
  if (floats.length > 1 && unfed.length === 1) return { inputs: unfed, joint: false, embeddings: new Map<string, Embedding>() };
  // TF1's label placeholder beside the images (y_ → ArgMax → Equal → accuracy) is fed, not explained.
  const computing = floats.filter((i) => computesWith(view, i.name));
  if (floats.length > 1 && computing.length === 1) return { inputs: computing, joint: false, embeddings: new Map<string, Embedding>() };
  if (floats.length > 1) fail(`${label}: the model has several float inputs (${shortList(floats.map((i) => `'${i.name}'`))}); choose the one to explain with --wrt NAME (or all of them jointly with --wrt all) and feed the others with --feed NAME=FILE.npy`);
  const tokens = inputs.filter(embeddingOf);
  // Float inputs that all lack a batch axis: a model of one sample (tf2onnx's scalar input []).
  const shapeless = allFloats.find((i) => i.rankUnknown);
  if (!tokens.length && shapeless) fail(noShape(shapeless, label));
  if (!tokens.length && allFloats.length) fail(`${label}: the model's float inputs (${allFloats.map((i) => `'${i.name}' [${i.dims.map((d) => (d < 0 ? '?' : d))}]`).join(', ')}) have no batch axis: a model that takes one sample is explained with --unbatched (API: unbatched: true), rows given with a leading axis`);
  if (!tokens.length) fail(`${label}: the model has no float input and no integer input that indexes an embedding table (inputs: ${list})`);
  // Position ids (an input named like them, which an unfed input gets as 0…L−1) index a table of
  // positions, not the tokens: a small vocabulary's table (characters, nucleotides) may be smaller.
  const words = tokens.filter((i) => defaultKind(i) !== 'positions');
  return tokenInput((words.length ? words : tokens).sort((a, b) => lookupOf(b).rows - lookupOf(a).rows)[0]);
}

/** The model input's tensor from API data: float32 for float inputs, the input's integer type for token ids. */
export function inputTensor(input: ModelInput, data: DenseInput, label: string): OrtTensor {
  const dims = checkedDims(input.name, data, label);
  const integers = data.data instanceof BigInt64Array || data.data instanceof BigUint64Array || data.data instanceof Int32Array;
  if (isFloatType(input.elemType)) {
    // An integer input read only through Casts to float takes its own integers too, as float32 values.
    const fileType = input.fileType ?? input.elemType;
    if (integers && isFloatType(fileType)) throw new ExplainError(`${label}: input '${input.name}' is ${typeName(fileType)}, got an ${data.data instanceof Int32Array ? 'int32' : data.data instanceof BigUint64Array ? 'uint64' : 'int64'} array`);
    if (input.elemType !== DataType.FLOAT) throw new ExplainError(`${label}: input '${input.name}' has ONNX type ${input.elemType}; only float32 float inputs are supported`);
    return makeOrtTensor(DataType.FLOAT, integers ? Array.from(data.data as ArrayLike<number | bigint>, Number) : data.data as ArrayLike<number>, dims);
  }
  if (input.categories) return makeOrtTensor(DataType.INT64, categoryCodes(input, { ...data, dims }, label), dims);
  const values = Array.from(data.data as ArrayLike<number | bigint>, Number);
  if (!integers && values.some((v) => !Number.isInteger(v))) throw new ExplainError(`${label}: input '${input.name}' takes integers (ONNX type ${ortType(input.elemType)}), got fractional values`);
  return makeOrtTensor(input.elemType, values, dims);
}

/** A baseline as a tensor of numbers, or why it is not one (`orNumber`: where a number is taken too). */
export function checkFloatBaseline(what: string, baseline: DenseInput, orNumber: boolean): void {
  if (typeof baseline === 'object' && baseline !== null && Array.isArray(baseline.dims) && baseline.data && !(baseline.data instanceof BigInt64Array)) return;
  const got = typeof baseline === 'string' ? JSON.stringify(baseline) : baseline === null ? 'null' : (baseline as DenseInput).data instanceof BigInt64Array ? 'an int64 array' : Array.isArray(baseline) ? 'an array' : typeof baseline;
  throw new ExplainError(`${what} must be a float tensor ({ data, dims }, an onnxruntime Tensor or an ndarray)${orNumber ? ' or a number' : ''}, got ${got}`);
}

/** The dims of an input's tensor, after checking it is one: data (a typed array or a list) and integer dims ≥ 0 that hold them. */
export function checkedDims(name: string, data: DenseInput, label: string): number[] {
  if (!data || typeof data !== 'object' || !data.dims || !data.data) throw new ExplainError(`${label}: input '${name}' must be a tensor with data and dims (or an ndarray), got ${data === null ? 'null' : Array.isArray(data) ? 'an array' : ArrayBuffer.isView(data) ? `a ${data.constructor.name} without dims` : typeof data}`);
  if (typeof data.data.length !== 'number' || data.data instanceof DataView) throw new ExplainError(`${label}: input '${name}': data must be a typed array or a list of numbers`);
  if (typeof data.dims !== 'object' || typeof (data.dims as unknown[]).length !== 'number') throw new ExplainError(`${label}: input '${name}': dims must be a list of integers`);
  const dims = Array.from(data.dims);
  if (!dims.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new ExplainError(`${label}: input '${name}' has dims [${dims}]; they must be integers ≥ 0`);
  const count = dims.reduce((a, b) => a * b, 1);
  if (data.data.length !== count) throw new ExplainError(`${label}: input '${name}' has ${data.data.length} values but shape [${dims}] needs ${count}`);
  return dims;
}

/** The API's feeds as tensors (an ndarray converted), each checked as a tensor before its shape is read. */
export function denseFeeds(feeds: Record<string, TensorInput> = {}, label: string): Record<string, DenseInput> {
  const out: Record<string, DenseInput> = lookupTable({});
  for (const [name, t] of Object.entries(feeds)) {
    out[name] = fromNdarray(t);
    checkedDims(name, out[name], label);
  }
  return out;
}

/**
 * A string column's values as the codes of its vocabulary (one past the last for a string not in
 * it); numbers are taken as codes already (graphs saved by rewrite take them).
 */
export function categoryCodes(input: ModelInput, data: DenseInput, label: string): number[] {
  const vocabulary = input.categories!;
  return Array.from(data.data as ArrayLike<unknown>, (v) => {
    if (typeof v === 'string') {
      const k = vocabulary.indexOf(v);
      return k < 0 ? vocabulary.length : k;
    }
    const code = Number(v);
    if (!Number.isInteger(code) || code < 0 || code > vocabulary.length) throw new ExplainError(`${label}: input '${input.name}' is a string column: give its values as strings (a JSON list), or as codes 0…${vocabulary.length} of its categories (${vocabulary.length}: in none); got ${code}`);
    return code;
  });
}

/**
 * Feeds for the inputs other than the explained one, for n rows: given ones (one row is repeated
 * for every row), else defaults — ones for an integer input named like a mask, 0…L−1 along the
 * last axis for one named like position ids (what transformers does when they are not given),
 * zeros otherwise — with a note. Dynamic sizes of a default follow the explained input's dims of
 * the same name.
 */
export function sideFeeds(inputs: ModelInput[], explained: ModelInput, x: OrtTensor, feeds: Record<string, TensorInput>, label: string, note: (m: string) => void): Record<string, OrtTensor> {
  const n = x.dims[0];
  // Input names are the model's: `constructor` or `__proto__` are names like any other.
  const given = denseFeeds(feeds, label);
  const out: Record<string, OrtTensor> = lookupTable({});
  const notes: { name: string; what: string; shown: number[]; file: string }[] = [];
  for (const [name, rowDims] of Object.entries(sideRowDims(inputs, explained, x.dims.slice(1), given, label))) {
    const input = inputs.find((i) => i.name === name)!;
    const data = given[name];
    if (data) {
      const t = inputTensor(input, withRows(input, data), label);
      if (t.dims[0] !== n && t.dims[0] !== 1) fail(`${label}: --feed ${name} has ${t.dims[0]} rows; give one row or one per input row (${n})`);
      out[name] = t.dims[0] === n ? t : repeatRows(t, n);
      continue;
    }
    const kind = defaultKind(input, rowDims);
    const [mask, positions] = [kind === 'ones', kind === 'positions'];
    const lengths = kind === 'lengths' && x.dims.length > 2 ? x.dims[1] : undefined;
    const dims = [n, ...rowDims];
    const last = dims[dims.length - 1];
    const unknown = input.categories?.length;
    const values = Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, k) => (unknown ?? lengths ?? (mask ? 1 : positions ? k % last : 0)));
    out[name] = makeOrtTensor(input.elemType, values, dims);
    const shown = input.unbatched ? rowDims : dims;
    if (input.copiedOnly || input.unread) continue;
    const what = unknown !== undefined ? 'empty strings (in no category)' : isCacheInput(input) ? (isStateInput(input) ? 'zeros, a fixed-size cache before the first token,' : 'an empty generation cache') : input.handedBack ? 'zeros, the state before the first call,' : mask ? 'ones' : positions ? `positions 0…${last - 1}` : lengths !== undefined ? `whole sequences, length ${lengths},` : 'zeros';
    notes.push({ name, what, shown, file: unknown !== undefined ? '.json, a list of strings' : '.npy' });
  }
  // Many unfed inputs of one default (a skl2onnx pipeline's one-column inputs, a decoder's caches) share a line.
  for (const what of new Set(notes.map((m) => m.what))) {
    const alike = notes.filter((m) => m.what === what);
    if (alike.length <= 3) {
      for (const { name, shown, file } of alike) note(`${label}: input '${name}' not given: using ${what} [${shown}] (give it with --feed ${name}=FILE${file})`);
    } else {
      const names = shortList(alike.map((m) => `'${m.name}' [${m.shown}]`));
      note(`${label}: ${alike.length} inputs ${names} not given: using ${what} (give them with --feed NAME=FILE${alike[0].file})`);
    }
  }
  return out;
}

/**
 * What an unfed input holds: a mask ones (float too: Unity ML-Agents' `action_masks` allow an
 * action with 1, and an additive mask of ones shifts every score alike), integer position ids
 * 0…L−1 per row, per-row sequence lengths (a packed LSTM's `lengths` [N]) the explained input's
 * length on axis 1 (every row whole); anything else zeros.
 */
export function defaultKind(input: ModelInput, rowDims = input.dims.slice(1)): 'ones' | 'positions' | 'lengths' | 'zeros' {
  if (/mask/i.test(input.name)) return 'ones';
  if (isFloatType(input.elemType)) return 'zeros';
  if (/position/i.test(input.name) && rowDims.length > 0) return 'positions';
  return /len/i.test(input.name) && rowDims.length === 0 && !input.unbatched ? 'lengths' : 'zeros';
}

/** Row dims (without the batch) of the inputs other than the explained one, for its row dims `rowDims`. */
export function sideRowDims(inputs: ModelInput[], explained: ModelInput, rowDims: number[], feeds: Record<string, TensorInput>, label: string): Record<string, number[]> {
  const given = denseFeeds(feeds, label);
  for (const name of Object.keys(given)) {
    if (name === explained.name) fail(`${label}: --feed ${name}: '${name}' is the explained input (give it with --input)`);
    if (!inputs.some((i) => i.name === name)) fail(`${label}: --feed ${name}: the model has no input named '${name}' (inputs: ${shortList(inputs.map((i) => i.name))})`);
  }
  // Caches left empty: a mask's length past the explained input's is that of the new tokens alone.
  const caches = inputs.filter(isCacheInput);
  const noPast = caches.length > 0 && caches.every((c) => !given[c.name]);
  const out: Record<string, number[]> = lookupTable({});
  for (const input of inputs) {
    if (input === explained) continue;
    const data = given[input.name];
    const rows = data && withRows(input, data);
    // An input whose batch sits on another axis (an LSTM's h0 [layers, batch, H]) is fed once for every row: one there.
    const batchAt = input.unbatched && rows ? input.params.findIndex((p, k) => k > 0 && p !== undefined && p === explained.params[0] && rows.dims[k] > 1) : -1;
    if (batchAt > 0) {
      const shown = input.unbatched!.map((d, k) => (k === batchAt - 1 ? 1 : d < 0 ? '?' : d));
      fail(`${label}: --feed ${input.name}: '${input.name}' holds the batch on axis ${batchAt - 1} (${rows!.dims[batchAt]} rows there); it is fed once for every row: give one row there, shape [${shown}], or export it with the batch first`);
    }
    // onnxruntime would refuse it naming the probe's one row: say it of the feed as given.
    if (rows && !input.rankUnknown && (rows.dims.length !== input.dims.length || input.dims.some((d, k) => k > 0 && d > 0 && rows.dims[k] !== d))) {
      // As the model declares it: an input without a batch axis is viewed with one (its params' first).
      const declared = input.unbatched ? input.unbatched.map((d, k) => (d > 0 ? d : input.params[k + 1] ?? '?')) : input.dims.map((d, k) => (d > 0 ? d : input.params[k] ?? (k === 0 ? 'N' : '?')));
      fail(`${label}: --feed ${input.name} has shape [${data.dims}]; input '${input.name}' takes [${declared}]`);
    }
    out[input.name] = rows ? rows.dims.slice(1) : input.dims.slice(1).map((d, k) => {
      if (d > 0) return d;
      const j = explained.params.findIndex((p) => p !== undefined && p === input.params[k + 1]);
      if (j > 0) return rowDims[j - 1];
      // The batch inside an input fed once for every row (M-RoPE's position ids [3, batch, L]): one, which the model broadcasts.
      if (j === 0 && input.unbatched) return 1;
      if (k === 0 && input.otherBatch) return 1;
      if (isCacheInput(input)) return 0;
      // A recurrent state's unnamed batch (Silero VAD's [2, ?, 128]): one row, fed once for every row.
      if (input.handedBack && input.unbatched) return 1;
      if (noPast && /mask/i.test(input.name)) return rowDims[0];
      return fail(`${label}: input '${input.name}' has a dynamic size '${input.params[k + 1] ?? '?'}' on axis ${input.unbatched ? k : k + 1}; give it with --feed ${input.name}=FILE.npy`);
    });
  }
  return out;
}

/**
 * A feed with its rows: one without a batch axis, given in the model's own shape, gets its leading
 * row; so does one given without the leading axis of one an input declares ([1, …], as --unbatched
 * views every input).
 */
function withRows(input: ModelInput, data: DenseInput): DenseInput {
  const short = input.unbatched ? data.dims.length === input.unbatched.length : input.dims[0] === 1 && data.dims.length === input.dims.length - 1;
  return short ? ({ data: data.data, dims: [1, ...data.dims] } as DenseInput) : data;
}

function repeatRows(t: OrtTensor, n: number): OrtTensor {
  const row = Array.from(t.data as ArrayLike<number | bigint>, Number);
  return makeOrtTensor(onnxType(t.type), Array.from({ length: n }, () => row).flat(), [n, ...t.dims.slice(1)]);
}

function fail(message: string): never {
  throw new ExplainError(message);
}
