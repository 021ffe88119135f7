import { attrInt } from './attributes';
import { trainingMode } from '../rules/ops/BatchNormalization';
import { differentiable } from './backward';
import { GraphView, TensorFacts } from './graph-view';
import { isFloatType, NodeProto } from './proto';

/**
 * The first node whose float values mix the rows of the batch on their way to a model output,
 * which the probe's shapes alone do not show: a normalisation over the batch axis (Softmax, LayerNormalization, LpNormalization,
 * CumSum, BatchNormalization in training mode), or a float output that no longer holds the batch
 * while a float input did (a reduction over the rows, a row picked out). The model's rows are then
 * run one by one, each explained as the model computes it alone.
 */
export function rowMixingNode(view: GraphView, facts: TensorFacts, inputs: string[]): NodeProto | undefined {
  const axisOf = (name: string) => facts.batchAxis.get(name) ?? -1;
  const float = (name: string) => isFloatType(facts.dtypes.get(name));
  const feeding = feedsOutputs(view, facts, inputs);
  return view.nodes.find((n) => {
    if (!(n.output ?? []).some((o) => feeding.has(o))) return false;
    const x = n.input?.[0] ?? '';
    const b = axisOf(x);
    if (b < 0 || !float(x)) return false;
    const rank = facts.shapes.get(x)?.length ?? 0;
    const norm = (axis: number) => (axis < 0 ? axis + rank : axis);
    switch (n.op_type) {
      case 'Softmax': case 'LogSoftmax': case 'Hardmax': {
        // Before opset 13 the input is read as 2-D [d0·…·d(axis−1), rest]: the rest holds the batch axis when axis ≤ b.
        const axis = norm(attrInt(n, 'axis', view.opset >= 13 ? -1 : 1));
        return view.opset >= 13 ? axis === b : axis <= b;
      }
      case 'LayerNormalization': return norm(attrInt(n, 'axis', -1)) <= b;
      case 'LpNormalization': return norm(attrInt(n, 'axis', -1)) === b;
      case 'CumSum': return view.constant(n.input![1])?.values.some((a) => norm(a) === b) ?? true;
      case 'BatchNormalization': return trainingMode(n, view.opset);
      default:
        return (n.output ?? []).some((o) => o && float(o) && facts.shapes.has(o) && axisOf(o) < 0);
    }
  });
}

/** Facts as the probe gives them for a model whose rows run one by one: no tensor holds a batch axis. */
export function rowByRow(facts: TensorFacts): TensorFacts {
  return { ...facts, batchAxis: new Map([...facts.batchAxis.keys()].map((k) => [k, -1])) };
}

/**
 * Tensors computed from the inputs through float values that reach a graph output through float
 * values: a reduction over the rows that only decides an If or a threshold (a step) is not one.
 */
function feedsOutputs(view: GraphView, facts: TensorFacts, inputs: string[]): Set<string> {
  const diff = differentiable(view, facts, inputs);
  const reach = new Set((view.graph.output ?? []).map((o) => o.name ?? '').filter((o) => diff.has(o)));
  for (const n of [...view.nodes].reverse()) {
    if ((n.output ?? []).some((o) => reach.has(o))) for (const i of n.input ?? []) if (diff.has(i)) reach.add(i);
  }
  return reach;
}
