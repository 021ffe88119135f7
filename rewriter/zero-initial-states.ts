import { attrTensorValues } from './attributes';
import { ancestors, GraphView, withoutUnreadNodes } from './graph-view';
import { ModelProto } from './proto';
import { lookupTable } from './lookup-table';

/** The initial-state inputs of the recurrent ops: initial_h (and LSTM's initial_c). */
const INITIAL_STATES: Record<string, number[]> = lookupTable({ RNN: [5], GRU: [5], LSTM: [5, 6] });

/** Ops that move their first input's values (or all inputs', Concat) without changing them: zeros stay zeros. */
const VALUE_MOVES = new Set(['Identity', 'Cast', 'Reshape', 'Squeeze', 'Unsqueeze', 'Flatten', 'Transpose', 'Expand', 'Tile', 'Slice', 'Split', 'Gather', 'Concat']);

/**
 * Whether a tensor is all zeros by construction: a zero constant, ConstantOfShape with a zero (or
 * default) value, or a part or rearrangement of such (a stacked LSTM's per-layer Slice of torch's zero state).
 */
export function isZeros(view: GraphView, name: string): boolean {
  const constant = view.constant(name);
  if (constant) return constant.values.every((v) => v === 0);
  const producer = view.producer.get(name);
  if (!producer || producer.domain) return false;
  if (producer.op_type === 'ConstantOfShape') return (attrTensorValues(producer, 'value') ?? [0]).every((v) => v === 0);
  const moved = producer.op_type === 'Concat' ? producer.input ?? [] : [producer.input?.[0] ?? ''];
  return VALUE_MOVES.has(producer.op_type ?? '') && moved.length > 0 && moved.every((t) => !!t && isZeros(view, t));
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
  const dropped = new Set<string>();
  const node = view.nodes.map((n) => {
    const states = (!n.domain && INITIAL_STATES[n.op_type ?? '']) || [];
    if (!states.some((k) => zeros(n.input?.[k]))) return n;
    return { ...n, input: n.input!.map((t, k) => (states.includes(k) && zeros(t) ? (dropped.add(t), '') : t)) };
  });
  if (!dropped.size) return model;
  // What built the zero states and nothing else reads (torch's Shape, Gather, Concat, ConstantOfShape): left on the CPU by the WebGPU EP.
  const builders = new Set([...dropped].flatMap((t) => [...ancestors(view, t)]));
  return { ...model, graph: { ...model.graph!, node: withoutUnreadNodes(model.graph!, node, (n) => n.output!.some((o) => builders.has(o))) } };
}
