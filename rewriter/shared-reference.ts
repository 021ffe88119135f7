import { descendants, fedBatchInputs, GraphView, SHAPE_SETTING, TensorFacts } from './graph-view';

/** Ops that broadcast a one-row operand against the N rows of another. */
const BROADCASTING = new Set([
  'Add', 'Sub', 'Mul', 'Div', 'Pow', 'Mod', 'Where', 'Equal', 'Greater', 'Less', 'GreaterOrEqual', 'LessOrEqual',
  'And', 'Or', 'Xor', 'Max', 'Min', 'Sum', 'Mean', 'PRelu', 'MatMul', 'Expand',
]);

/**
 * Whether a reference pass on one shared row can run beside the N rows of the other batch inputs
 * (token ids, masks, a generation cache, a second input fed as it is): every node that reads a
 * tensor with one row on that pass (computed from the explained inputs, its rows not from another
 * batch input) and one with the N rows of another batch input broadcasts them. A Concat, a gather
 * or a Reshape to a fed input's shape does not, nor a Reshape of N rows to a shape read from one
 * row (or of one row to N rows' shape): the reference pass then needs N rows. Rows follow
 * batch axes: position embeddings computed from the ids' length have none, and do not count.
 */
export function sharedReferenceFits(view: GraphView, facts: TensorFacts, explained: string[]): boolean {
  const fed = fedBatchInputs(view, facts, explained);
  if (!fed.length) return true;
  const batched = (t: string) => (facts.batchAxis.get(t) ?? -1) >= 0;
  const fromExplained = descendants(view, explained);
  // N rows on that pass: the batch tensors it does not compute again (the fed inputs, tensors made
  // from them or from their shapes alone, as an empty cache sized by the ids) and what they reach.
  const many = new Set(fed);
  for (const n of view.nodes) {
    const carries = (n.input ?? []).some((i) => many.has(i));
    for (const o of n.output ?? []) if (o && batched(o) && (carries || !fromExplained.has(o))) many.add(o);
  }
  // Shape values read from a tensor of one row on that pass, or of N rows (HF T5's
  // `attn.view(batch_size, -1, inner)` with batch_size from the embeddings, on rows a mask made N).
  const shapeRows = new Map<string, 'one' | 'many'>();
  for (const n of view.nodes) {
    const [first] = n.input ?? [];
    const read = !n.domain && (n.op_type === 'Shape' || n.op_type === 'Size');
    const rows = read ? (many.has(first) ? 'many' : fromExplained.has(first) && batched(first) ? 'one' : undefined) : (n.input ?? []).map((i) => shapeRows.get(i)).find(Boolean);
    if (rows) for (const o of n.output ?? []) if (o && !batched(o)) shapeRows.set(o, rows);
  }
  return view.nodes.every((n) => {
    const inputs = n.input ?? [];
    const one = inputs.some((i) => fromExplained.has(i) && batched(i) && !many.has(i));
    const nRows = inputs.some((i) => many.has(i));
    const meet = one && nRows;
    const sized = n.domain ? [] : (SHAPE_SETTING[n.op_type ?? ''] ?? []).map((k) => shapeRows.get(inputs[k] ?? ''));
    const resized = (one && sized.includes('many')) || (nRows && sized.includes('one'));
    return (!meet || (!n.domain && BROADCASTING.has(n.op_type ?? ''))) && (!resized || n.op_type === 'Expand');
  });
}
