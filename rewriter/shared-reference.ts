import { descendants, fedBatchInputs, GraphView, TensorFacts } from './graph-view';

/** Ops that broadcast a one-row operand against the N rows of another. */
const BROADCASTING = new Set([
  'Add', 'Sub', 'Mul', 'Div', 'Pow', 'Mod', 'Where', 'Equal', 'Greater', 'Less', 'GreaterOrEqual', 'LessOrEqual',
  'And', 'Or', 'Xor', 'Max', 'Min', 'Sum', 'Mean', 'PRelu', 'MatMul', 'Expand',
]);

/**
 * Whether a reference pass on one shared row can run beside the N rows of the other batch inputs
 * (token ids, masks, a second input fed as it is): every node that reads a tensor computed from
 * the explained inputs alone (one row on that pass) and one computed from another batch input (N
 * rows) broadcasts them. A Concat, a gather or a Reshape to a fed input's shape does not: the
 * reference pass then needs N rows.
 */
export function sharedReferenceFits(view: GraphView, facts: TensorFacts, explained: string[]): boolean {
  const fed = fedBatchInputs(view, facts, explained);
  if (!fed.length) return true;
  const fromExplained = descendants(view, explained);
  const fromFed = descendants(view, fed);
  return view.nodes.every((n) => {
    const inputs = n.input ?? [];
    const meet = inputs.some((i) => fromExplained.has(i) && !fromFed.has(i)) && inputs.some((i) => fromFed.has(i));
    return !meet || (!n.domain && BROADCASTING.has(n.op_type ?? ''));
  });
}
