import { attrFloat, attrInt, attrTensorValues, hasAttr } from './attributes';
import { GraphView, throughCasts } from './graph-view';
import { Emitter } from './emitter';
import { isFloatType, ModelProto, NodeProto, tensorDims, TensorProto, toNumber, ValueInfoProto } from './proto';
import { lookupTable } from './lookup-table';

/** Ops that carry integer indices unchanged in value (type and shape moves only). */
const INDEX_MOVES = new Set(['Cast', 'Reshape', 'Unsqueeze', 'Squeeze', 'Flatten', 'Identity']);
/** Those that lay the indices out in another shape (the same values in the same order). */
const INDEX_RESHAPES = new Set(['Reshape', 'Unsqueeze', 'Squeeze', 'Flatten']);
/** Integer ops that map an index to another with a constant operand: hashing (CANINE's ((id + 1) · prime) mod buckets), offsets. */
const INDEX_ARITHMETIC = new Set(['Add', 'Sub', 'Mul', 'Div', 'Mod', 'Min', 'Max', 'Clip']);
const COMPARISONS = new Set(['Equal', 'Greater', 'Less', 'GreaterOrEqual', 'LessOrEqual']);
/** A comparison's negation (a Where that keeps the index where it fails); NotEqual is not an op, only a step. */
const NEGATED: Record<string, string> = lookupTable({ Less: 'GreaterOrEqual', GreaterOrEqual: 'Less', Greater: 'LessOrEqual', LessOrEqual: 'Greater', Equal: 'NotEqual' });

/**
 * One step from an id to the row it indexes: `op` of the index and a constant, the index first or
 * second; the constant is one value, or one per position along the ids' last axis (per-field
 * offsets into one shared table: torchfm's FeaturesEmbedding, rtdl's category offsets). With
 * `fill`, `op` is a comparison and the step keeps the index where it holds, else takes `fill`
 * (`Where(ids < V, ids, unk)`: out-of-vocabulary ids mapped to the unknown token); with `shift`,
 * the index moves by it where the comparison holds (`where(ids < 0, ids + V, ids)`).
 */
export interface IndexStep {
  op: string;
  operand: bigint[];
  indexFirst: boolean;
  fill?: bigint;
  shift?: bigint;
}

/** A float table [rows, ...] (an initializer) read at the row an id's `index` steps give (none: the id itself). */
export interface Lookup {
  table: string;
  rows: number;
  index: IndexStep[];
  /** The indices it reads where they are the ids in another shape (multiple choice's ids.view(-1, L), an unsqueeze). */
  laidOut?: string;
}

export interface Embedding {
  /**
   * One vector per id (the layer Captum's LayerIntegratedGradients uses): a Gather's output, or the
   * Concat of a hashed id's lookups on their last axis (CANINE), or their sum (hash embeddings).
   */
  output: string;
  lookups: Lookup[];
  summed?: boolean;
  /** How many ids it tells apart: its table's rows (all its tables' where hashed). */
  rows: number;
  /**
   * Lookups of the ids that no node of the model joins (DeepFM's and Wide & Deep's linear and
   * factor tables, two towers' tables), explained as one vector, their rows side by side:
   * `output` is then a name of ours, and each part's output is its slice of that vector — also for
   * one lookup whose indices are the ids in another shape, its slice laid out as they are.
   */
  parts?: Embedding[];
}

/**
 * The row `steps` give for `id` at `column` of the ids' last axis, in int64 as onnxruntime computes
 * it (Div truncates, Mod takes the divisor's sign, Fmod the dividend's).
 */
export function indexOf(steps: IndexStep[], id: number, column = 0): number {
  let v = BigInt(id);
  for (const { op, operand, indexFirst, fill, shift } of steps) {
    const c = operand[operand.length === 1 ? 0 : column];
    const [a, b] = indexFirst ? [v, c] : [c, v];
    if (fill !== undefined || shift !== undefined) {
      const holds = { Less: a < b, LessOrEqual: a <= b, Greater: a > b, GreaterOrEqual: a >= b, Equal: a === b, NotEqual: a !== b }[op];
      if (fill !== undefined && !holds) v = fill;
      if (shift !== undefined && holds) v += shift;
      continue;
    }
    if ((op === 'Div' || op === 'Mod' || op === 'Fmod') && b === 0n) return -1;
    switch (op) {
      case 'Add': v = a + b; break;
      case 'Sub': v = a - b; break;
      case 'Mul': v = a * b; break;
      case 'Div': v = a / b; break;
      case 'Min': v = a < b ? a : b; break;
      case 'Max': v = a > b ? a : b; break;
      case 'Fmod': v = a % b; break;
      default: v = ((a % b) + b) % b; // Mod: the divisor's sign
    }
  }
  return Number(v);
}

/**
 * `n` as a step of an index in `indices` with a constant of integers (Clip: a Max and a Min; Mod's
 * C-style fmod as 'Fmod'): a scalar, or, where the index is laid out as the ids (`columns` along
 * their last axis), a vector of that length.
 */
function indexStep(view: GraphView, n: NodeProto, indices: Map<string, IndexStep[]>, columns: number | undefined): IndexStep[] | undefined {
  if (n.domain || !(INDEX_ARITHMETIC.has(n.op_type ?? '') || n.op_type === 'Where')) return undefined;
  const integers = (name: string, perColumn: boolean) => {
    const c = view.constant(name);
    const shaped = c && (c.values.length === 1 || (perColumn && c.values.length === columns && c.dims.slice(0, -1).every((d) => d === 1)));
    return shaped && c.values.every(Number.isInteger) ? c.values.map(BigInt) : undefined;
  };
  const scalar = (name: string) => integers(name, false);
  const inputs = n.input ?? [];
  if (n.op_type === 'Where') return whereStep(view, n, indices, integers, columns !== undefined);
  if (n.op_type === 'Add') {
    const select = selectStep(view, n, indices, integers, columns !== undefined);
    if (select) return select;
  }
  if (n.op_type === 'Clip') {
    if (!indices.has(inputs[0])) return undefined;
    const steps = [...indices.get(inputs[0])!];
    // Bounds as inputs from opset 11, attributes before (on float ids).
    for (const [k, op, name] of [[1, 'Max', 'min'], [2, 'Min', 'max']] as const) {
      const attr = !inputs[k] && hasAttr(n, name) ? attrFloat(n, name, 0) : undefined;
      if (!inputs[k] && attr === undefined) continue;
      const bound = attr === undefined ? scalar(inputs[k]) : Number.isInteger(attr) ? [BigInt(attr)] : undefined;
      if (bound === undefined) return undefined;
      steps.push({ op, operand: bound, indexFirst: true });
    }
    return steps;
  }
  if (inputs.length !== 2) return undefined;
  const [a, b] = inputs;
  const indexFirst = indices.has(a);
  const c = integers(indexFirst ? b : a, columns !== undefined);
  if ((!indexFirst && !indices.has(b)) || c === undefined) return undefined;
  const op = n.op_type === 'Mod' && attrInt(n, 'fmod', 0) ? 'Fmod' : n.op_type!;
  return [...indices.get(indexFirst ? a : b)!, { op, operand: c, indexFirst }];
}

/**
 * A Where between an index and a constant id, on a comparison of that index with a constant (through
 * Casts and Nots): `torch.where(ids < V, ids, unk)`, `ids.masked_fill(ids >= V, unk)`, the constant
 * a scalar or `torch.full_like(ids, unk)`'s ConstantOfShape of the ids' Shape.
 */
function whereStep(view: GraphView, n: NodeProto, indices: Map<string, IndexStep[]>, integers: (name: string, perColumn: boolean) => bigint[] | undefined, perColumn: boolean): IndexStep[] | undefined {
  const [condition, whenTrue, whenFalse] = n.input ?? [];
  const kept = indices.has(whenTrue) ? whenTrue : whenFalse;
  const other = kept === whenTrue ? whenFalse : whenTrue;
  const filled = view.producer.get(other);
  const shapeOf = filled?.op_type === 'ConstantOfShape' ? view.producer.get(filled.input?.[0] ?? '') : undefined;
  const fill = shapeOf?.op_type === 'Shape' && indices.has(shapeOf.input?.[0] ?? '') ? (attrTensorValues(filled!, 'value') ?? [0]) : view.constant(other)?.values;
  if (!indices.has(kept) || fill?.length !== 1 || !Number.isInteger(fill[0])) return undefined;
  const test = comparisonOf(view, condition, kept === whenFalse, indices.get(kept)!, indices, integers, perColumn);
  return test && [...indices.get(kept)!, { ...test, fill: BigInt(fill[0]) }];
}

/**
 * The comparison `condition` makes of the index whose steps are `index` with a constant (through
 * Casts and Nots; `negated` when the step keeps the index where it fails).
 */
function comparisonOf(view: GraphView, condition: string, negated: boolean, index: IndexStep[], indices: Map<string, IndexStep[]>, integers: (name: string, perColumn: boolean) => bigint[] | undefined, perColumn: boolean): Omit<IndexStep, 'fill' | 'shift'> | undefined {
  let compared = view.producer.get(condition);
  while (compared && !compared.domain && (compared.op_type === 'Not' || compared.op_type === 'Cast')) {
    negated = negated !== (compared.op_type === 'Not');
    compared = view.producer.get(compared.input?.[0] ?? '');
  }
  if (!compared || compared.domain || !COMPARISONS.has(compared.op_type ?? '')) return undefined;
  const [a, b] = compared.input ?? [];
  const indexFirst = indices.get(a) === index;
  const c = integers(indexFirst ? b : a, perColumn);
  if (indices.get(indexFirst ? a : b) !== index || c === undefined) return undefined;
  return { op: negated ? NEGATED[compared.op_type!] : compared.op_type!, operand: c, indexFirst };
}

/**
 * tf2onnx's SelectV2 of integers written as arithmetic, Add(Mul(Cast(c), a), Mul(Cast(Not(c)), b)):
 * Keras 3's Embedding wraps negative ids as `where(ids < 0, ids + V, ids)`. Where `b` is an index
 * and `a` the same index plus a constant, a step that adds it where the comparison c holds.
 */
function selectStep(view: GraphView, n: NodeProto, indices: Map<string, IndexStep[]>, integers: (name: string, perColumn: boolean) => bigint[] | undefined, perColumn: boolean): IndexStep[] | undefined {
  const castOf = (t: string) => { const c = view.producer.get(t); return c?.op_type === 'Cast' && !c.domain ? c.input![0] : undefined; };
  const terms = (n.input ?? []).map((t) => {
    const m = view.producer.get(t);
    if (m?.op_type !== 'Mul' || m.domain || m.input?.length !== 2) return undefined;
    const [x, y] = m.input;
    return castOf(x) !== undefined && indices.has(y) ? { mask: castOf(x)!, value: y } : castOf(y) !== undefined && indices.has(x) ? { mask: castOf(y)!, value: x } : undefined;
  });
  if (terms.length !== 2 || !terms[0] || !terms[1]) return undefined;
  const negation = (t: string) => { const p = view.producer.get(t); return p?.op_type === 'Not' && !p.domain ? p.input![0] : undefined; };
  const holding = negation(terms[1].mask) === terms[0].mask ? terms[0] : negation(terms[0].mask) === terms[1].mask ? terms[1] : undefined;
  const failing = holding === terms[0] ? terms[1] : terms[0];
  if (!holding) return undefined;
  const base = indices.get(failing.value)!, moved = indices.get(holding.value)!;
  const shift = moved.at(-1);
  if (moved.length !== base.length + 1 || !base.every((s, k) => moved[k] === s) || shift?.op !== 'Add' || shift.operand.length !== 1) return undefined;
  const test = comparisonOf(view, holding.mask, false, base, indices, integers, perColumn);
  return test && [...base, { ...test, shift: shift.operand[0] }];
}

/**
 * The initializer a Gather reads as its table: its data, through Identity nodes (torch's export of
 * tied or copied weights) and a Cast to float (a float16 or bfloat16 table in a float model).
 */
function tableOf(view: GraphView, data: string): string | undefined {
  const read = throughCasts(data, (t) => {
    const p = view.producer.get(t);
    return p && !p.domain && (p.op_type !== 'Cast' || isFloatType(attrInt(p, 'to', 0))) ? p : undefined;
  });
  return view.initializers.has(read) ? read : undefined;
}

/**
 * The embedding lookups of an integer input: Gather nodes reading a float table initializer (or its
 * Cast to float) at indices that are the input's values (through casts and reshapes), constant
 * integer arithmetic of them or a constant id where a comparison of them fails (an unknown token's),
 * and Concats (on the last axis) or sums of several such lookups of rank-2 tables (hashed ids),
 * largest first.
 */
export function embeddingsOf(view: GraphView, input: string): Embedding[] {
  const indices = new Map<string, IndexStep[]>([[input, []]]);
  const lookups = new Map<string, Lookup>();
  const rowDims = (l: Lookup) => tensorDims(view.initializers.get(l.table)!).slice(1);
  const found: Embedding[] = [];
  // Indices laid out as the ids (through casts and steps, not reshapes) may take per-column constants.
  const dims = view.inputs.find((i) => i.name === input)?.type?.tensor_type?.shape?.dim ?? [];
  const columns = dims.length >= 2 ? toNumber(dims[dims.length - 1].dim_value) : 0;
  const aligned = new Set([input]);
  const reshaped = new Set<string>();
  for (const n of view.nodes) {
    const [data, idx] = n.input ?? [];
    const out = n.output![0];
    if (INDEX_MOVES.has(n.op_type ?? '') && indices.has(data)) indices.set(out, indices.get(data)!);
    if ((n.op_type === 'Cast' || n.op_type === 'Identity') && aligned.has(data)) aligned.add(out);
    const fromAligned = (n.input ?? []).some((i) => aligned.has(i));
    const steps = indexStep(view, n, indices, columns > 0 && fromAligned ? columns : undefined);
    if (steps) indices.set(out, steps);
    if (indices.has(out) && ((INDEX_RESHAPES.has(n.op_type ?? '') && indices.has(data)) || (n.input ?? []).some((i) => reshaped.has(i)))) reshaped.add(out);
    if (steps && fromAligned) aligned.add(out);
    const name = n.op_type === 'Gather' && indices.has(idx) && attrInt(n, 'axis', 0) === 0 ? tableOf(view, data) : undefined;
    const table = name && view.initializers.get(name);
    if (table && isFloatType(table.data_type)) {
      // A reshape that keeps the ids' rank keeps their layout (GPT-2's ids.view(−1, L) of [N, L]).
      const laidOut = reshaped.has(idx) && view.rank(idx) !== dims.length;
      const lookup: Lookup = { table: name!, rows: tensorDims(table)[0] ?? 0, index: indices.get(idx)!, ...(laidOut ? { laidOut: idx } : {}) };
      lookups.set(out, lookup);
      found.push({ output: out, lookups: [lookup], rows: lookup.rows });
    }
    // Lookups of the id joined: side by side on the last axis, or summed (rows of one width).
    const summed = n.op_type === 'Add' || n.op_type === 'Sum';
    const joined = !n.domain && (summed || (n.op_type === 'Concat' && attrInt(n, 'axis', 0) === -1)) && (n.input?.length ?? 0) > 1;
    const parts = joined ? (n.input ?? []).map((i) => lookups.get(i)) : [];
    if (parts.length && parts.every((l) => l && rowDims(l).length === 1 && (!summed || rowDims(l)[0] === rowDims(parts[0]!)[0]))) {
      found.push({ output: out, lookups: parts as Lookup[], rows: parts.reduce((s, l) => s + l!.rows, 0), ...(summed ? { summed } : {}) });
    }
  }
  // Every path of the ids goes through the explained vector: lookups that no join takes are put side by side.
  const joined = new Set(found.flatMap((e) => (e.lookups.length > 1 ? e.lookups : [])));
  const units = found.filter((e) => e.lookups.length > 1 || !joined.has(e.lookups[0]));
  found.sort((a, b) => b.rows - a.rows);
  if (units.length > 1 || units.some((e) => e.lookups[0].laidOut)) {
    const names = view.names();
    let output = `${input}/embeddings`;
    for (let k = 1; names.has(output); k++) output = `${input}/embeddings_${k}`;
    return [{ output, lookups: units.flatMap((e) => e.lookups), rows: units.reduce((s, e) => s + e.rows, 0), parts: units }, ...found];
  }
  return found;
}

/**
 * A float input that holds token ids: every node reading it is a Cast to an integer type, a
 * comparison (a padding mask) or index arithmetic whose readers are (a Clip of the ids before
 * their Cast), and the ids index an embedding table (tf2onnx's Keras Embedding, whose ids input is
 * float32; `mask_zero` compares them with 0).
 */
export function holdsTokenIds(view: GraphView, input: string): boolean {
  const readers = view.consumers.get(input) ?? [];
  const discrete = (n: NodeProto): boolean => !n.domain && ((n.op_type === 'Cast' && !isFloatType(attrInt(n, 'to', 0))) || COMPARISONS.has(n.op_type ?? '')
    || (INDEX_ARITHMETIC.has(n.op_type ?? '') && (view.consumers.get(n.output![0]) ?? []).every(discrete)));
  return readers.length > 0 && readers.every(discrete) && embeddingsOf(view, input).length > 0;
}

/** The dims of one id's vector: its table's row dims, a hashed id's tables' widths summed, or its parts' lengths summed. */
export function vectorDims(view: GraphView, embedding: Embedding): number[] {
  if (embedding.parts) return [embedding.parts.reduce((s, p) => s + vectorLength(view, p), 0)];
  const dims = embedding.lookups.map((l) => tensorDims(view.initializers.get(l.table)!).slice(1));
  return dims.length > 1 && !embedding.summed ? [dims.reduce((s, d) => s + d[0], 0)] : dims[0];
}

/** How many values one id's vector holds. */
export function vectorLength(view: GraphView, embedding: Embedding): number {
  return vectorDims(view, embedding).reduce((a, b) => a * b, 1);
}

/**
 * The model with the embedding lookup cut out: its output becomes a float graph input (dims: the
 * index input's dims, then the table's row dims), so attributions to the embedding are input
 * attributions of this model. The index input stays (position ids, masks, shapes may read it).
 */
export function cutAtEmbedding(view: GraphView, embedding: Embedding, indexInput: ValueInfoProto): ModelProto {
  const graph = view.graph;
  const ids = indexInput.type?.tensor_type?.shape?.dim ?? [];
  const dim = [...ids, ...vectorDims(view, embedding).map((d) => ({ dim_value: d }))];
  const elemType = view.initializers.get(embedding.lookups[0].table)!.data_type;
  const input: ValueInfoProto = { name: embedding.output, type: { tensor_type: { elem_type: elemType, shape: { dim } } } };
  const parts = embedding.parts ?? [embedding];
  const cut = new Set(parts.map((p) => p.output));
  const slices = embedding.parts ? partSlices(view, embedding, ids.length) : { nodes: [], initializers: [] };
  const node = [...slices.nodes, ...(graph.node ?? []).filter((n) => !cut.has(n.output?.[0] ?? ''))];
  return { ...view.model, graph: { ...graph, node, initializer: [...(graph.initializer ?? []), ...slices.initializers], input: [input, ...(graph.input ?? [])] } };
}

/** Each part of a joined embedding as its slice of the vector (a Gather of its columns), in its own row dims and its indices' layout. */
function partSlices(view: GraphView, embedding: Embedding, idsRank: number): { nodes: NodeProto[]; initializers: TensorProto[] } {
  const em = Emitter.joining(view);
  let at = 0;
  for (const part of embedding.parts!) {
    const length = vectorLength(view, part);
    const columns = em.op('Gather', [embedding.output, em.constInt(Array.from({ length }, (_, k) => at + k))], { axis: idsRank });
    const dims = vectorDims(view, part);
    const layout = part.lookups[0].laidOut;
    const shaped = layout ? em.op('Reshape', [columns, em.concat([em.op('Shape', [layout]), em.constInt(dims)], 0)])
      : dims.length === 1 ? columns : em.op('Reshape', [columns, em.constInt([...Array(idsRank).fill(0), ...dims])]);
    em.rename(shaped, part.output);
    at += length;
  }
  return { nodes: em.folded(), initializers: em.initializers };
}
