import { attrTensorValues } from './attributes';
import { GraphView } from './graph-view';
import { ModelProto } from './proto';

/** The initial-state inputs of the recurrent ops: initial_h (and LSTM's initial_c). */
const INITIAL_STATES: Record<string, number[]> = { RNN: [5], GRU: [5], LSTM: [5, 6] };

/** Whether a tensor is all zeros by construction: a zero constant, or ConstantOfShape with a zero (or default) value. */
export function isZeros(view: GraphView, name: string): boolean {
  const constant = view.constant(name);
  if (constant) return constant.values.every((v) => v === 0);
  const producer = view.producer.get(name);
  return producer?.op_type === 'ConstantOfShape' && (attrTensorValues(producer, 'value') ?? [0]).every((v) => v === 0);
}

/**
 * Recurrent cells whose initial state is all zeros by construction left without it, which the spec
 * defines as the same: tf2onnx writes Keras' zero state at a static batch as an initializer
 * [1, 8, H], which tied the model to batch 8; torch.onnx writes ConstantOfShape zeros. (Cells inside
 * If branches meet the same test when the unrolling inlines them, rewriter/recurrent/unroll.ts.)
 */
export function zeroInitialStatesDropped(model: ModelProto, label: string): ModelProto {
  if (!(model.graph?.node ?? []).some((n) => !n.domain && Object.hasOwn(INITIAL_STATES, n.op_type ?? ''))) return model;
  const view = new GraphView(model, label);
  const zeros = (t: string | undefined) => !!t && isZeros(view, t);
  let changed = false;
  const node = view.nodes.map((n) => {
    const states = (!n.domain && INITIAL_STATES[n.op_type ?? '']) || [];
    if (!states.some((k) => zeros(n.input?.[k]))) return n;
    changed = true;
    return { ...n, input: n.input!.map((t, k) => (states.includes(k) && zeros(t) ? '' : t)) };
  });
  return changed ? { ...model, graph: { ...model.graph!, node } } : model;
}
