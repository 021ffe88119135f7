import { Embedding, indexOf, IndexStep, vectorDims } from '../rewriter/embedding';
import { ExplainError } from '../rewriter/errors';
import { GraphView } from '../rewriter/graph-view';
import { tensorArray, tensorDims } from '../rewriter/proto';
import { categoryCodes, ModelInput } from './inputs';
import { TensorData, DenseInput } from './tensors';

/** A text model's token input and the embedding table its ids index. */
export interface Tokens {
  ids: ModelInput;
  embedding: Embedding;
  /**
   * The embedding's parts (itself, where no parts are joined), side by side in an id's vector: each
   * lookup's table, its rows `width` values long, read at the rows `index` gives for an id; a part's
   * tables summed, or side by side.
   */
  parts: { summed: boolean; tables: { name: string; values: Float32Array; rows: number; width: number; index: IndexStep[] }[] }[];
  /** Length of one embedding vector (the product of `rowDims`). */
  width: number;
  rowDims: number[];
}

export function tokenTable(view: GraphView, ids: ModelInput, embedding: Embedding): Tokens {
  // A table several lookups read (a tied one) is read once.
  const values = new Map<string, Float32Array>();
  const read = (table: string) => values.get(table) ?? values.set(table, Float32Array.from(tensorArray(view.initializers.get(table)!))).get(table)!;
  const parts = (embedding.parts ?? [embedding]).map((part) => ({
    summed: !!part.summed,
    tables: part.lookups.map(({ table, rows, index }) => ({ name: table, values: read(table), rows, width: tensorDims(view.initializers.get(table)!).slice(1).reduce((a, b) => a * b, 1), index })),
  }));
  const rowDims = vectorDims(view, embedding);
  return { ids, embedding, parts, width: rowDims.reduce((a, b) => a * b, 1), rowDims };
}

/**
 * Whether `input` gives token ids rather than their embeddings: integer data, or whole numbers of
 * the ids' rank (the embeddings have the table's row axes besides) — a float input that holds ids,
 * or ids read from a narrow-typed file (a uint8 .npy reads as float32).
 */
export function isTokenIds(tokens: Tokens, input: DenseInput): boolean {
  if (input.data instanceof BigInt64Array || input.data instanceof Int32Array) return true;
  const whole = () => Array.from(input.data as ArrayLike<number>).every(Number.isInteger);
  if (Array.isArray(input.data)) return whole();
  return (!!tokens.ids.floatIds || tokens.rowDims.length > 0) && input.dims?.length === tokens.ids.dims.length && whole();
}

/**
 * Token ids [N, L] → their embeddings [N, L, ...] (the explained input), the ids fed as they are
 * alongside `feeds`, and the baseline: a token's embedding at every position, or the embeddings of
 * baseline ids [K, L] (one row, one per row, or deeplift-shap's and gradient-shap's distribution).
 */
export function lookUp(tokens: Tokens, given: DenseInput, feeds: Record<string, DenseInput> = {}, label = '', baselineTokens?: number | DenseInput): { x: TensorData; feeds: Record<string, DenseInput>; baseline?: TensorData } {
  const { ids, parts, width, rowDims } = tokens;
  if (!given?.data || !given.dims) throw new ExplainError(`${label}: input '${ids.name}' must be token ids with data and dims`);
  // A string column explained at its one-hot rows: its strings as their codes.
  const strings = ids.categories && Array.isArray(given.data) && typeof given.data[0] === 'string';
  const input: DenseInput = strings ? { data: BigInt64Array.from(categoryCodes(ids, given, label), BigInt), dims: [...given.dims] } : given;
  if (!isTokenIds(tokens, input)) throw new ExplainError(`${label}: input '${ids.name}' takes token ids (integers); got fractional values`);
  if (feeds[ids.name]) throw new ExplainError(`${label}: --feed ${ids.name}: '${ids.name}' is the explained input (give it with --input)`);
  const values = Array.from(input.data as ArrayLike<number | bigint>, Number);
  const count = input.dims.reduce((a, b) => a * b, 1);
  if (values.length !== count) throw new ExplainError(`${label}: input '${ids.name}' has ${values.length} values but shape [${input.dims}] needs ${count}`);
  // An id's vector: its rows of the tables, side by side (a hashed id's, CANINE's; unjoined lookups') or summed;
  // its column on the ids' last axis picks a per-field offset.
  const columns = input.dims[input.dims.length - 1];
  const embed = (list: number[], what: string) => {
    const data = new Float32Array(list.length * width);
    list.forEach((id, k) => {
      let at = k * width;
      for (const { summed, tables } of parts) {
        for (const t of tables) {
          const row = Number.isInteger(id) ? indexOf(t.index, id, k % columns) : -1;
          const hashed = t.index.length ? ` (row ${row})` : '';
          if (!Number.isInteger(row) || row < 0 || row >= t.rows) throw new ExplainError(`${label}: ${what} ${id} is outside the embedding table '${t.name}'${hashed} (${t.rows} rows)`);
          const vector = t.values.subarray(row * t.width, (row + 1) * t.width);
          if (summed) vector.forEach((v, e) => { data[at + e] += v; });
          else {
            data.set(vector, at);
            at += t.width;
          }
        }
        if (summed) at += tables[0].width;
      }
    });
    return data;
  };
  const x = { data: embed(values, 'token id'), dims: [...input.dims, ...rowDims] };
  let baseline: TensorData | undefined;
  if (typeof baselineTokens === 'number') {
    const length = input.dims.slice(1).reduce((a, b) => a * b, 1);
    baseline = { data: embed(Array(length).fill(baselineTokens), 'baseline token'), dims: [1, ...input.dims.slice(1), ...rowDims] };
  } else if (baselineTokens) {
    const { dims } = baselineTokens;
    if (dims.slice(1).join() !== input.dims.slice(1).join()) {
      throw new ExplainError(`${label}: baseline token ids have shape [${dims}]; the ids have [${input.dims}]: give rows of ${input.dims.slice(1).join('×')} ids`);
    }
    baseline = { data: embed(Array.from(baselineTokens.data as ArrayLike<number | bigint>, Number), 'baseline token id'), dims: [...dims, ...rowDims] };
  }
  return { x, feeds: { ...feeds, [ids.name]: input }, baseline };
}

/** Per token: the attributions summed over the embedding's axes. */
export function tokenScores(a: TensorData, width = a.dims[a.dims.length - 1]): TensorData {
  const scores = new Float32Array(a.data.length / width);
  scores.forEach((_, k) => { scores[k] = a.data.subarray(k * width, (k + 1) * width).reduce((s, v) => s + v, 0); });
  return { data: scores, dims: a.dims.slice(0, a.dims.length - 1) };
}
