import { attrInt } from '../rewriter/attributes';
import { ExplainError } from '../rewriter/errors';
import { lookupTable } from '../rewriter/lookup-table';
import { Constant, GraphView, mapSubgraphs, shapeConstant, subgraphsOf, TensorFacts, valueDependent, valueDescendants } from '../rewriter/graph-view';
import { AttrType, bytesPerValue, DataType, GraphProto, isFloatType, isTensorValue, makeTensor, ModelProto, NodeProto, shapeless, TensorProto, toNumber, valueInfo, ValueInfoProto } from '../rewriter/proto';
import { backend, OrtResults, OrtSession, OrtTensor } from './backend';
import { makeOrtTensor, onnxType, tensorNumbers } from './ort-types';
import { firstLine } from './run-errors';
import { externalData } from './session';
import { sessionModel } from './session-model';
import { splitFeeds } from './tensors';
import { exposedTensor, floatCopies, unreturnableTensors } from './unreturnable';

export interface InputSpec {
  name: string;
  elemType: number;
  dims: number[];
  /** An input without a batch axis in the model, viewed with one of rows whose first the graph reads (rewriter/batchless-inputs.ts): its dims as declared. */
  unbatched?: number[];
}

/** What probing found: every tensor's shape, type and batch axis, observed values, and whether the graph takes any batch. */
export interface ProbeResult { facts: TensorFacts; batchDynamic: boolean }

/** Ops whose outputs are sequences, maps or optionals, which onnxruntime-node cannot return. */
const NON_TENSOR_OPS = new Set(['ZipMap', 'SequenceConstruct', 'SequenceEmpty', 'SequenceInsert', 'SequenceErase', 'SplitToSequence', 'Optional']);

/**
 * A copy of the model (sharing weights) with every tensor a node computes exposed as a graph
 * output; one of a type a run cannot return, as its float copy (exposedTensor names the tensor).
 */
export function exposeAll(model: ModelProto): ModelProto {
  const graph = model.graph!;
  const outputs = (graph.output ?? []).filter(isTensorValue);
  const have = new Set(outputs.map((o) => o.name));
  const nonTensor = nonTensorValues(graph);
  const added: string[] = [];
  for (const n of graph.node ?? []) {
    for (const o of n.output ?? []) if (o && !have.has(o) && !nonTensor.has(o)) { have.add(o); added.push(o); }
  }
  const copies = floatCopies(graph, added);
  return { ...model, graph: { ...graph, node: [...(graph.node ?? []), ...copies.nodes], output: [...outputs, ...copies.outputs.map((name) => ({ name }))] } };
}

/** The node outputs that are not tensors: of NON_TENSOR_OPS, control-flow outputs their subgraph declares so (a Loop carrying a sequence), Identities of them. */
function nonTensorValues(graph: GraphProto): Set<string> {
  const found = new Set<string>();
  for (const n of graph.node ?? []) {
    const body = subgraphsOf(n)[0];
    // A Loop body's outputs start with its condition.
    const offset = n.op_type === 'Loop' ? 1 : 0;
    (n.output ?? []).forEach((o, k) => {
      const declared = body?.output?.[k + offset];
      if (NON_TENSOR_OPS.has(n.op_type ?? '') || (n.op_type === 'Identity' && found.has(n.input![0])) || (declared && !isTensorValue(declared))) found.add(o);
    });
  }
  return found;
}

/** A session on the platform's always-available provider (probing needs no accelerator). */
export function cpuSession(model: ModelProto): Promise<OrtSession> {
  const { ort, fallback } = backend();
  const serialized = sessionModel(model);
  // Graph optimisations cost more than the one or two runs a probe makes (they are also mostly
  // blocked when every intermediate is an output).
  return ort.InferenceSession.create(serialized.bytes, { logSeverityLevel: 4, executionProviders: [fallback], graphOptimizationLevel: 'disabled', ...externalData(serialized) });
}

/** Inputs of the given dims, with dim 0 multiplied by `scale`: zeros (or random floats), or the `given` row repeated. */
function feeds(inputs: InputSpec[], scale: number, random: boolean, fed: Record<string, OrtTensor> = {}): Record<string, OrtTensor> {
  const given = lookupTable(fed);
  const out: Record<string, OrtTensor> = lookupTable({});
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) - 0.5;
  for (const i of inputs) {
    const dims = i.dims.map((d, k) => (k === 0 ? d * scale : d));
    const n = dims.reduce((a, b) => a * b, 1);
    const floaty = i.elemType === DataType.FLOAT || i.elemType === DataType.DOUBLE;
    const row = given[i.name] && Array.from(given[i.name].data as ArrayLike<number | bigint>, Number);
    const values = Array.from({ length: n }, (_, k) => (row ? row[k % row.length] : random && floaty ? rand() : 0));
    // The graph reads the first row of an input without a batch axis: every row holds the same values, as when each row runs alone.
    const width = i.unbatched && dims.length ? n / dims[0] : n;
    out[i.name] = makeOrtTensor(i.elemType, values.map((v, k) => values[k % width]), dims);
  }
  return out;
}


/** The symbolic batch given to the inputs for shape inference. */
const BATCH = 'onnx_explain_batch';

/**
 * The probe graph for shape inference: every node output exposed with no declared type, the
 * inputs at their row shapes with a symbolic batch, and the large initializers turned into typed
 * graph inputs, so that onnxruntime loads no weights (small ones, the shape constants, stay).
 */
function inferenceGraph(model: ModelProto, inputs: InputSpec[]): ModelProto {
  const graph = exposeAll(model).graph!;
  const rows = new Map(inputs.map((i) => [i.name, i.dims.slice(1)]));
  const declared = new Set((graph.input ?? []).map((vi) => vi.name));
  const weights = (graph.initializer ?? []).filter((t) => t.raw_data instanceof Uint8Array && t.raw_data.byteLength >= 1024);
  const weightInput = (t: TensorProto) => valueInfo(t.name!, t.data_type!, (t.dims ?? []).map(toNumber));
  // A weight the model also declares as an input (torch.onnx's keep_initializers_as_inputs) keeps
  // its shape without its data: the declaration may give none.
  const moved = new Map(weights.map((t) => [t.name, t]));
  const input = (graph.input ?? []).map((vi) => {
    const row = rows.get(vi.name ?? '');
    const weight = moved.get(vi.name);
    return row ? valueInfo(vi.name!, vi.type!.tensor_type!.elem_type!, [BATCH, ...row]) : weight ? weightInput(weight) : vi;
  });
  for (const t of weights) if (!declared.has(t.name)) input.push(weightInput(t));
  return {
    ...model,
    graph: {
      ...graph, input, value_info: [],
      output: (graph.output ?? []).map((o) => ({ name: o.name })),
      initializer: (graph.initializer ?? []).filter((t) => !weights.includes(t)),
    },
  };
}

/**
 * The input's declared shape leaves its batch free and fixes no other dim to anything but `dims`
 * (else a run says what onnxruntime makes of it). A dim fixes its size when dim_value is present.
 */
function declaredAllows(vi: ValueInfoProto | undefined, dims: number[]): boolean {
  const declared = vi?.type?.tensor_type?.shape?.dim;
  if (!declared) return !!vi;
  const fixed = (k: number) => Object.prototype.hasOwnProperty.call(declared[k], 'dim_value');
  return declared.length === dims.length && !fixed(0) && declared.every((d, k) => k === 0 || !fixed(k) || toNumber(d.dim_value) === dims[k]);
}

/**
 * Shapes, dtypes and batch axes from onnxruntime's shape inference alone: a session is created on
 * a weightless copy (inferenceGraph) and never run. Undefined where a run is needed: a dim left
 * unknown or not the batch alone, a fixed input batch, a node that computes integers or booleans
 * (shape arithmetic, whose values a run observes), subgraphs. Throws where that run would hold
 * more than the memory budget by the shapes inferred so far (tooLarge).
 */
async function inferredFacts(model: ModelProto, inputs: InputSpec[], label: string): Promise<ProbeResult | undefined> {
  const graph = model.graph!;
  if (!inputs.every((i) => declaredAllows(graph.input?.find((vi) => vi.name === i.name), i.dims))) return undefined;
  if ((graph.node ?? []).some((n) => (n.attribute ?? []).some((a) => a.g || a.graphs?.length))) return undefined;
  // Float8 and 4-bit tensors are measured (their type is the model's, not their float copy's).
  if (unreturnableTensors(graph).size) return undefined;
  let session: OrtSession | undefined;
  let heavy: ExplainError | undefined;
  try {
    session = await cpuSession(inferenceGraph(model, inputs));
    const producers = new Map((graph.node ?? []).flatMap((n) => (n.output ?? []).map((o) => [o, n.op_type] as const)));
    let fromInputs: Set<string> | undefined;
    const facts: TensorFacts = { shapes: new Map(), dtypes: new Map(), batchAxis: new Map(), values: new Map(), batchBroadcasts: true };
    // Every tensor counts towards the memory check, its unknown dims as 1 (a bound from below).
    const sized: SizedTensor[] = [];
    let complete = true;
    for (const meta of session.outputMetadata) {
      if (!meta.isTensor) { complete = false; continue; }
      const dtype = onnxType(meta.type);
      const dims = meta.shape;
      // An unknown dim reads -1 in Node and 2³²−1 in the browser (unsigned in 32-bit WASM).
      const known = (d: number | string) => d === BATCH || (typeof d === 'number' && d >= 0 && d < 2 ** 31);
      const atOne = dims.every(known) ? dims.map((d) => (d === BATCH ? 1 : (d as number))) : undefined;
      const shown = dims.map((d) => (d === BATCH ? 1 : known(d) ? d : '?'));
      sized.push({ name: meta.name, dims: shown, bytes: shown.reduce((a: number, d) => a * (typeof d === 'number' ? d : 1), 1) * bytesPerValue(dtype), lowerBound: !atOne });
      if (!isFloatType(dtype) && producers.get(meta.name) !== 'Constant') complete = false;
      if (!atOne || dims.filter((d) => d === BATCH).length > 1) complete = false;
      // A tensor of unknown rank reads [] as a scalar does: one computed from the inputs is measured.
      if (complete && !dims.length && (fromInputs ??= valueDependent(new GraphView(model))).has(meta.name)) complete = false;
      if (!complete) continue;
      facts.shapes.set(meta.name, atOne!);
      facts.dtypes.set(meta.name, dtype);
      facts.batchAxis.set(meta.name, dims.indexOf(BATCH));
    }
    if (!complete) {
      // The shapes are then measured by a run, which would hold them all: refused before it (a
      // mutated Pad of 8.5 million rows took minutes to fail). Known shapes alone run nothing.
      heavy = tooLarge(sized, inputs, label);
      if (heavy) throw heavy;
      return undefined;
    }
    for (const i of inputs) {
      facts.shapes.set(i.name, [...i.dims]);
      facts.dtypes.set(i.name, i.elemType);
      facts.batchAxis.set(i.name, 0);
    }
    return { facts, batchDynamic: true };
  } catch (e) {
    if (e === heavy) throw e;
    return undefined;
  } finally {
    await session?.release();
  }
}

/**
 * Shapes, dtypes and batch axes of every tensor for the given input shapes (batch 1 as a rule):
 * from shape inference where it determines them all (inferredFacts), else measured by running the
 * model at that batch and twice it with all intermediate outputs exposed. Inputs in `given` (one
 * row; inputs whose values set shapes) run with their values, the others with zeros.
 */
export async function probeFacts(model: ModelProto, inputs: InputSpec[], label: string, given: Record<string, OrtTensor> = {}): Promise<ProbeResult> {
  if (Object.keys(given).length) return measuredFacts(model, inputs, label, given);
  return (await inferredFacts(model, inputs, label)) ?? measuredFacts(model, inputs, label);
}

/**
 * Types whose values the probe keeps where they follow only from shapes and constants: integers
 * (shapes, indices) and floats (Upsample/Resize scales that torch.onnx computes from sizes before
 * opset 11, windows built in the graph).
 */
const OBSERVED_TYPES = new Set(['int64', 'int32', 'bool', 'float32', 'float64']);

/** A probe's findings as text for a graph cache (non-finite observed values kept as strings). */
export function encodeProbe({ facts, batchDynamic }: ProbeResult): string {
  const finite = (v: number[]) => v.map((e) => (Number.isFinite(e) ? e : String(e)));
  return JSON.stringify({
    batchDynamic, batchBroadcasts: facts.batchBroadcasts, exactInputs: facts.exactInputs,
    tensors: [...facts.shapes].map(([name, dims]) => [name, dims, facts.dtypes.get(name), facts.batchAxis.get(name), facts.values.has(name) ? finite(facts.values.get(name)!) : null]),
  });
}

export function decodeProbe(text: string): ProbeResult {
  const { batchDynamic, batchBroadcasts, exactInputs, tensors } = JSON.parse(text) as { batchDynamic: boolean; batchBroadcasts: boolean; exactInputs?: string[]; tensors: [string, number[], number | undefined, number | undefined, (number | string)[] | null][] };
  const facts: TensorFacts = { shapes: new Map(), dtypes: new Map(), batchAxis: new Map(), values: new Map(), batchBroadcasts, ...(exactInputs ? { exactInputs } : {}) };
  for (const [name, dims, dtype, axis, values] of tensors) {
    facts.shapes.set(name, dims);
    if (dtype !== undefined && dtype !== null) facts.dtypes.set(name, dtype);
    if (axis !== undefined && axis !== null) facts.batchAxis.set(name, axis);
    if (values) facts.values.set(name, values.map(Number));
  }
  return { facts, batchDynamic };
}

async function measuredFacts(model: ModelProto, inputs: InputSpec[], label: string, given: Record<string, OrtTensor> = {}): Promise<ProbeResult> {
  let session: OrtSession | undefined;
  let one: OrtResults;
  try {
    session = await cpuSession(exposeAll(model));
    one = await session.run(feeds(inputs, 1, false, given));
  } catch (e) {
    await session?.release();
    throw cannotRun(label, inputs.map((i) => i.dims), e);
  }
  const facts: TensorFacts = { shapes: new Map(), dtypes: new Map(), batchAxis: new Map(), values: new Map(), batchBroadcasts: true, ...(Object.keys(given).length ? { exactInputs: Object.keys(given) } : {}) };
  // Values computed from the inputs' values (token ids, masks) are the probe's, not the user's —
  // but for inputs given without a batch axis, whose one value every row shares.
  const shared = new Set(inputs.filter((i) => i.unbatched && Object.hasOwn(given, i.name)).map((i) => i.name));
  const view = new GraphView(model, label);
  const fromValues = valueDescendants(view, view.inputs.map((i) => i.name ?? '').filter((name) => !shared.has(name)));
  const narrow = unreturnableTensors(model.graph!);
  for (const [key, t] of Object.entries(one)) {
    const v = t as OrtTensor;
    const name = exposedTensor(key);
    facts.shapes.set(name, [...v.dims]);
    facts.dtypes.set(name, narrow.get(name) ?? onnxType(v.type));
    facts.batchAxis.set(name, -1);
    if (OBSERVED_TYPES.has(v.type) && v.size <= 4096 && !fromValues.has(name) && !narrow.has(name)) facts.values.set(name, tensorNumbers(v));
  }
  for (const i of inputs) {
    facts.shapes.set(i.name, [...i.dims]);
    facts.dtypes.set(i.name, i.elemType);
    facts.batchAxis.set(i.name, -1);
  }
  const heavy = tooLarge(Object.entries(one).map(([name, t]) => sizeOf(name, t as OrtTensor)), inputs, label);
  if (heavy) {
    await session.release();
    throw heavy;
  }
  let two: OrtResults | undefined;
  try {
    two = await session.run(feeds(inputs, 2, false, given));
  } catch {
    two = undefined;
  } finally {
    await session.release();
  }
  // A tensor that grows on two axes with the batch (an outer product over the rows) mixes rows:
  // they then run one by one, as in a model that fixes batch 1.
  const batchDynamic = !!two && Object.entries(two).every(([k, t]) => facts.shapes.has(exposedTensor(k)) && grownAxes(facts.shapes.get(exposedTensor(k))!, [...(t as OrtTensor).dims]) <= 1);
  if (batchDynamic && two) {
    for (const [key, t] of Object.entries(two)) {
      const name = exposedTensor(key);
      const v = t as OrtTensor;
      const axis = batchAxisOf(facts.shapes.get(name)!, [...v.dims]);
      facts.batchAxis.set(name, axis);
      if (axis >= 0 && (facts.shapes.get(name)![axis] !== 1 || v.dims[axis] !== 2)) facts.batchBroadcasts = false;
      const at1 = facts.values.get(name);
      if (at1 && tensorNumbers(v).some((x, k) => x !== at1[k])) facts.values.delete(name);
    }
    for (const i of inputs) facts.batchAxis.set(i.name, 0);
  }
  return { facts, batchDynamic };
}

/** How many axes differ between a tensor's shapes of the same rank at batch 1 and 2 (a rank change, a Squeeze of the batch at 1, counts none). */
function grownAxes(at1: number[], at2: number[]): number {
  return at1.length !== at2.length ? 0 : at1.filter((d, k) => d !== at2[k]).length;
}

function batchAxisOf(at1: number[], at2: number[]): number {
  if (at1.length !== at2.length) return -1;
  return at1.findIndex((d, k) => d !== at2[k]);
}

/** The batch the explained inputs' declared shapes fix (dim_value of dim 0; 1 stands for none fixed). */
export function fixedBatch(graph: GraphView['graph'], inputs: InputSpec[]): number {
  const names = new Set(inputs.map((i) => i.name));
  const fixed = (graph.input ?? []).filter((vi) => names.has(vi.name ?? '')).map((vi) => toNumber(vi.type?.tensor_type?.shape?.dim?.[0]?.dim_value));
  return Math.max(1, ...fixed.filter((b) => b > 0));
}

/**
 * For exports that fix the batch (to 1 or to the dummy input's batch B, in the input's shape or in
 * Reshape and Expand shape constants): a copy whose input batch is dynamic, whose Reshape constants
 * copy the batch (0) instead of fixing it to B and whose Expands take the input's batch. Returned
 * only when the copy gives the original's outputs for B rows (2 rows of batch-1 runs where B is 1),
 * and row by row at batch 1.
 */
export async function freeHardCodedBatch(view: GraphView, inputs: InputSpec[], given: Record<string, OrtTensor> = {}): Promise<ModelProto | undefined> {
  const { model, graph } = view;
  const batch = fixedBatch(graph, inputs);
  const extra: TensorProto[] = [];
  const inputBatch = batchOf(inputs[0].name, 'batch_free/expand');
  // `n` reading its shape (Expand's or Reshape's) as [N·k, …rest], N the input's batch.
  const batchLed = (n: NodeProto, shape: number[], k: number): NodeProto[] => {
    const name = `${n.input![1]}/batch_free`;
    extra.push(makeTensor(`${name}/rest`, [shape.length - 1], shape.slice(1), DataType.INT64));
    if (k !== 1) extra.push(makeTensor(`${name}/k`, [1], [k], DataType.INT64));
    const lead = k === 1 ? inputBatch.rows : `${name}/lead`;
    const merge: NodeProto[] = k === 1 ? [] : [{ op_type: 'Mul', input: [inputBatch.rows, `${name}/k`], output: [lead] }];
    return [...merge, { op_type: 'Concat', input: [lead, `${name}/rest`], output: [name], attribute: [{ name: 'axis', type: AttrType.INT, i: 0 }] }, { ...n, input: [n.input![0], name] }];
  };
  const rewritten = (graph.node ?? []).flatMap<NodeProto>((n): NodeProto | NodeProto[] => {
    if (n.op_type === 'Expand') {
      // torch's expand(B, …) at a static batch B (a relative-position bias to the batch): to the input's batch.
      const to = batch > 1 ? shapeConstant(view, n.input![1]) : undefined;
      return to?.values[0] === batch ? batchLed(n, to.values, 1) : n;
    }
    const shape = n.op_type === 'Reshape' ? shapeConstant(view, n.input?.[1] ?? '') : undefined;
    const first = shape?.values[0] ?? 0;
    // A first dim of B, or (B > 1) of B·k: the batch merged with the heads, as torch's dynamo
    // exporter writes attention at a static batch ([B·heads, L, d] and back to [B, heads, L, d]).
    const merged = batch > 1 && first > batch && first % batch === 0;
    if (!shape || (first !== batch && !merged)) return n;
    // 0 copies the input's dim unless allowzero (torch.onnx's dynamo exporter sets it), which the
    // copy drops where no other dim is 0. For B > 1 where no other dim is −1, −1 lets the batch
    // through whatever the input's first dim holds (B·heads into B, heads).
    const literalZeros = attrInt(n, 'allowzero', 0) === 1;
    if (literalZeros && shape.values.includes(0)) return n;
    const inferred = batch > 1 && !shape.values.includes(-1);
    // Another dim is −1 (PatchTST's channel-independent [B·C, n, P] → [B, C, −1]): the first dim
    // from the input's batch (times k where the batch is merged), as the Expands above.
    if (batch > 1 && !inferred) return batchLed(n, shape.values, first / batch);
    const name = `${n.input![1]}/batch_free`;
    extra.push(makeTensor(name, [shape.values.length], [inferred ? -1 : 0, ...shape.values.slice(1)], DataType.INT64));
    return { ...n, input: [n.input![0], name], ...(literalZeros ? { attribute: n.attribute!.filter((a) => a.name !== 'allowzero') } : {}) };
  });
  // The shapes led by the input's batch read it: computed once, first (it reads a graph input).
  const expanding = rewritten.some((n) => n.input?.includes(inputBatch.rows));
  if (expanding) extra.push(...inputBatch.initializers);
  const nodes = expanding ? [...inputBatch.nodes, ...rewritten] : rewritten;
  const staticBatch = (graph.input ?? []).some((vi) => inputs.some((i) => i.name === vi.name) && toNumber(vi.type?.tensor_type?.shape?.dim?.[0]?.dim_value) === batch);
  const equalRows = batch > 1 ? batchRowConstants(view, batch, inputs[0].name, false) : undefined;
  if (!extra.length && !staticBatch && !equalRows) return undefined;
  const inputNames = new Set(inputs.map((i) => i.name));
  const weights = new Set((graph.initializer ?? []).map((t) => t.name));
  const freeBatch = (vi: ValueInfoProto): ValueInfoProto => {
    const tt = vi.type?.tensor_type;
    if (!tt || weights.has(vi.name)) return vi;
    const dim = inputNames.has(vi.name ?? '') ? [{ dim_param: 'N' }, ...(tt.shape?.dim ?? []).slice(1)] : undefined;
    return { ...vi, type: { ...vi.type, tensor_type: { elem_type: tt.elem_type, shape: dim ? { dim } : undefined } } };
  };
  // If/Loop/Scan bodies declare their outputs at the fixed batch too: those shapes go (their types stay).
  const freeBody = (g: GraphProto): GraphProto => ({ ...g, node: (g.node ?? []).map((n) => mapSubgraphs(n, freeBody)), output: (g.output ?? []).map(shapeless), value_info: [] });
  let threw = false;
  const attempt = async (rows: BatchRows | undefined): Promise<ModelProto | undefined> => {
    const kept = rows ? nodes.filter((n) => !rows.replaced.has(n.output?.[0] ?? '')) : nodes;
    const candidate: ModelProto = {
      ...model,
      graph: {
        ...graph, node: [...(rows?.nodes ?? []), ...kept.map((n) => mapSubgraphs(n, freeBody))], value_info: [],
        initializer: [...(graph.initializer ?? []).filter((t) => !rows?.replaced.has(t.name ?? '')), ...extra, ...(rows?.initializers ?? [])],
        input: (graph.input ?? []).map(freeBatch), output: (graph.output ?? []).map(freeBatch),
      },
    };
    try {
      return (await sameRowByRow(model, candidate, inputs, batch, given, !!rows)) ? candidate : undefined;
    } catch {
      threw = true;
      return undefined;
    }
  };
  // Then integer constants whose rows step by a constant too (an arange over the batch).
  const steps = batch > 1 && view.opset >= 11 ? batchRowConstants(view, batch, inputs[0].name, true) : undefined;
  const freed = (await attempt(equalRows)) ?? (steps && steps.replaced.size > (equalRows?.replaced.size ?? 0) ? await attempt(steps) : undefined);
  if (!freed && threw) await runsAsGiven(model, inputs, batch, view.label, given);
  return freed;
}

/** Nodes giving the batch of `input` as [N], the tensor `rows`, and their index constants. */
function batchOf(input: string, prefix: string): { nodes: NodeProto[]; initializers: TensorProto[]; rows: string } {
  const rows = `${prefix}/rows`;
  return {
    rows,
    initializers: [makeTensor(`${prefix}/first`, [1], [0], DataType.INT64), makeTensor(`${prefix}/one`, [1], [1], DataType.INT64)],
    nodes: [
      { op_type: 'Shape', input: [input], output: [`${prefix}/shape`] },
      { op_type: 'Slice', input: [`${prefix}/shape`, `${prefix}/first`, `${prefix}/one`, `${prefix}/first`], output: [rows] },
    ],
  };
}

/** Constants that hold the fixed batch, rewritten to follow the input's batch (batchRowConstants). */
interface BatchRows { nodes: NodeProto[]; initializers: TensorProto[]; replaced: Set<string> }

/** Ops that read a stepped constant as data (its values, not a shape or an index list). */
const DATA_READERS = new Set(['Add', 'Sub', 'Mul', 'Div', 'Concat', 'Cast']);

/**
 * Constants that hold the fixed batch B as B equal rows, folded at export (a torch.zeros(N, …)
 * state, zeros_like of an activation, an index expanded to the batch): each becomes its first row
 * Expanded to the batch of `input`. Rank 2 and up (B equal values are a weight's as likely), and
 * not graph inputs (IR 3's initializers, which a caller may feed). `stepped`: also integer
 * constants whose rows step by a constant, read as data (an arange over the batch).
 */
function batchRowConstants(view: GraphView, batch: number, input: string, stepped: boolean): BatchRows | undefined {
  const nodes: NodeProto[] = [];
  const initializers: TensorProto[] = [];
  const replaced = new Set<string>();
  const { rows: rowsName, ...batchRows } = batchOf(input, 'batch_free');
  for (const { name, type, c } of batchConstants(view, batch)) {
    const per = c.values.length / batch;
    const step = c.values.slice(per, 2 * per).map((v, k) => v - c.values[k]);
    const equal = c.dims.length >= 2 && step.every((d) => d === 0);
    // k·step on row 0: an arange over the batch (DLRM's offsets, DGCNN's kNN index base), integers read as data only.
    const steps = stepped && !equal && !isFloatType(type) && c.values.every((v, k) => v === c.values[k % per] + Math.floor(k / per) * step[k % per])
      && (view.consumers.get(name) ?? []).every((n) => DATA_READERS.has(n.op_type ?? ''));
    if (!equal && !steps) continue;
    replaced.add(name);
    const rest = c.dims.slice(1);
    initializers.push(makeTensor(`${name}/row`, [1, ...rest], c.values.slice(0, per), type));
    if (equal) {
      initializers.push(makeTensor(`${name}/rest`, [rest.length], rest, DataType.INT64));
      nodes.push({ op_type: 'Concat', input: [rowsName, `${name}/rest`], output: [`${name}/dims`], attribute: [{ name: 'axis', type: AttrType.INT, i: 0 }] });
      nodes.push({ op_type: 'Expand', input: [`${name}/row`, `${name}/dims`], output: [name] });
      continue;
    }
    // row 0 + k·step for rows k = 0…N−1: Range(0, N) as [N, 1, …], cast to the constant's type.
    initializers.push(makeTensor(`${name}/step`, [1, ...rest], step, type), makeTensor(`${name}/scalar`, [0], [], DataType.INT64),
      makeTensor(`${name}/zero`, [], [0], DataType.INT64), makeTensor(`${name}/unit`, [], [1], DataType.INT64), makeTensor(`${name}/column`, [c.dims.length], [-1, ...rest.map(() => 1)], DataType.INT64));
    nodes.push({ op_type: 'Reshape', input: [rowsName, `${name}/scalar`], output: [`${name}/count`] });
    nodes.push({ op_type: 'Range', input: [`${name}/zero`, `${name}/count`, `${name}/unit`], output: [`${name}/k`] });
    nodes.push({ op_type: 'Reshape', input: [`${name}/k`, `${name}/column`], output: [`${name}/k_column`] });
    nodes.push({ op_type: 'Cast', input: [`${name}/k_column`], output: [`${name}/k_typed`], attribute: [{ name: 'to', type: AttrType.INT, i: type }] });
    nodes.push({ op_type: 'Mul', input: [`${name}/k_typed`, `${name}/step`], output: [`${name}/steps`] });
    nodes.push({ op_type: 'Add', input: [`${name}/row`, `${name}/steps`], output: [name] });
  }
  return replaced.size ? { nodes: [...batchRows.nodes, ...nodes], initializers: [...batchRows.initializers, ...initializers], replaced } : undefined;
}

/** Ops whose inputs after the first are weights (a Conv's kernel of B output channels is no batch). */
const WEIGHTED = new Set(['Conv', 'ConvTranspose', 'Gemm', 'MatMul', 'LSTM', 'GRU', 'RNN', 'BatchNormalization', 'InstanceNormalization', 'LayerNormalization', 'PRelu']);

/** The constants (initializers and Constant outputs, not graph inputs nor weights) whose first axis has the fixed batch's size. */
export function batchConstants(view: GraphView, batch: number): { name: string; type: number; c: Constant }[] {
  const graph = view.graph;
  const fed = new Set((graph.input ?? []).map((i) => i.name));
  const typed = [
    ...(graph.initializer ?? []).map((t) => [t.name ?? '', t.data_type ?? undefined] as const),
    ...(graph.node ?? []).filter((n) => n.op_type === 'Constant').map((n) => [n.output![0], n.attribute?.find((a) => a.name === 'value')?.t?.data_type ?? undefined] as const),
  ];
  return typed.flatMap(([name, type]) => {
    const weight = (view.consumers.get(name) ?? []).some((n) => WEIGHTED.has(n.op_type ?? '') && n.input!.indexOf(name) > 0);
    const c = type === undefined || fed.has(name) || weight ? undefined : view.constant(name);
    return c && type !== undefined && c.dims.length > 0 && c.dims[0] === batch ? [{ name, type, c }] : [];
  });
}

/** A tensor's shape and bytes at batch 1; `lowerBound`: some dims unknown ('?', counted as 1). */
interface SizedTensor { name: string; dims: (number | string)[]; bytes: number; lowerBound?: boolean }

const sizeOf = (name: string, t: OrtTensor): SizedTensor => ({ name, dims: [...t.dims], bytes: t.size * bytesPerValue(onnxType(t.type)) });

/**
 * The probe keeps every tensor of a run at batch 1, then at batch 2: where those at batch 1 alone
 * pass the platform's memory budget (a quarter of the machine's memory in Node), the error that
 * says so (a Pad of 65,536 rows on the batch axis ran the machine out of memory, silently).
 */
function tooLarge(tensors: SizedTensor[], inputs: InputSpec[], label: string): ExplainError | undefined {
  const total = tensors.reduce((a, t) => a + t.bytes, 0);
  const budget = backend().memoryBudget;
  if (total <= budget) return undefined;
  const largest = tensors.reduce((a, t) => (t.bytes > a.bytes ? t : a));
  const gb = (b: number) => `${(b / 2 ** 30).toFixed(1)} GiB`;
  const atLeast = tensors.some((t) => t.lowerBound && t.bytes > 0) ? 'at least ' : '';
  return new ExplainError(`${label}: the model's tensors at input shape ${shapesText(inputs.map((i) => i.dims))} hold ${atLeast}${gb(total)} (the largest, '${largest.name}' [${largest.dims}], ${gb(largest.bytes)}), more than the ${gb(budget)} onnx-explain may hold to read their shapes; explain it at a smaller input shape`);
}

/** Input shapes as the probe's errors give them: [1,3,8,8], [1,8]. */
const shapesText = (dims: number[][]) => dims.map((d) => `[${d}]`).join(', ');

function cannotRun(label: string, dims: number[][], e: unknown): ExplainError {
  const start = backend().startFailure?.(e);
  return new ExplainError(start ?? `${label}: onnxruntime cannot run the model for input shape ${shapesText(dims)}: ${firstLine(e)}`);
}

/** Fails saying why where the model does not run at its own fixed batch (an op onnxruntime has no kernel for). */
async function runsAsGiven(model: ModelProto, inputs: InputSpec[], batch: number, label: string, given: Record<string, OrtTensor>): Promise<void> {
  let session: OrtSession | undefined;
  try {
    session = await cpuSession(model);
    await session.run(feeds(inputs, batch, false, given));
  } catch (e) {
    throw cannotRun(label, inputs.map((i) => [batch, ...i.dims.slice(1)]), e);
  } finally {
    await session?.release();
  }
}

/** `anyBatch`: the candidate also runs at one row more than the model's batch, its first and last rows as alone (constants Expanded to the batch). */
async function sameRowByRow(original: ModelProto, candidate: ModelProto, inputs: InputSpec[], batch: number, given: Record<string, OrtTensor>, anyBatch: boolean): Promise<boolean> {
  const outName = original.graph!.output![0].name!;
  const sFree = await cpuSession(candidate);
  const sOrig = await cpuSession(original);
  const rows = Math.max(batch, 2);
  // A NaN (Sqrt of a negative synthetic value) or an infinity agrees with itself.
  const close = (got: number[], want: number[]) => got.length === want.length && got.every((v, k) => v === want[k] || (Number.isNaN(v) && Number.isNaN(want[k])) || Math.abs(v - want[k]) <= 1e-5 * (1 + Math.abs(v)));
  const output = async (s: OrtSession, f: Record<string, OrtTensor>) => tensorNumbers((await s.run(f))[outName] as OrtTensor);
  try {
    const all = feeds(inputs, rows, true, given);
    const split = splitFeeds(all, rows);
    const single = [split[0], split[rows - 1]];
    const want = batch === 1 ? (await Promise.all(single.map((f) => output(sOrig, f)))).flat() : await output(sOrig, all);
    const got = await output(sFree, all);
    const per = want.length / rows;
    const ends = [...want.slice(0, per), ...want.slice((rows - 1) * per)];
    if (!close(got, want) || !close((await Promise.all(single.map((f) => output(sFree, f)))).flat(), ends)) return false;
    if (!anyBatch) return true;
    const grown = feeds(inputs, rows + 1, true, given);
    const more = splitFeeds(grown, rows + 1);
    const alone = (await Promise.all([more[0], more[rows]].map((f) => output(sFree, f)))).flat();
    const together = await output(sFree, grown);
    return close([...together.slice(0, per), ...together.slice(rows * per)], alone);
  } finally {
    await sFree.release();
    await sOrig.release();
  }
}

