import { descendants, fedBatchInputs, GraphView, TensorFacts } from './graph-view';

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
 * or a Reshape to a fed input's shape does not: the reference pass then needs N rows. Rows follow
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
  return view.nodes.every((n) => {
    const inputs = n.input ?? [];
    const meet = inputs.some((i) => fromExplained.has(i) && batched(i) && !many.has(i)) && inputs.some((i) => many.has(i));
    return !meet || (!n.domain && BROADCASTING.has(n.op_type ?? ''));
  });
}
