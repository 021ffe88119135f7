import { attrInts, attrString } from './attributes';
import { GraphView, TensorFacts } from './graph-view';
import { NodeProto } from './proto';

/** The axes a ReduceMean averages (attribute, or input from opset 18: a constant or a probed value), non-negative and sorted. */
export function meanAxesOf(view: GraphView, facts: TensorFacts, node: NodeProto, rank: number): number[] {
  const input = node.input?.[1] ? view.constant(node.input[1])?.values ?? facts.values.get(node.input[1]) : undefined;
  return [...(attrInts(node, 'axes') ?? input ?? [])].map((a) => (a < 0 ? a + rank : a)).sort();
}

/**
 * The map [N, C, …] that `n` pools over every spatial axis, or undefined: GlobalAveragePool's input
 * (GlobalMaxPool's too with `max`), an AveragePool's (MaxPool's) whose kernel covers the map without
 * padding (Keras' AveragePooling2D((7, 7)) in old ResNet50s), a ReduceMean's over axes 2…, or the map a
 * Transpose moved channels last before a ReduceMean over its spatial axes (tf2onnx's GlobalAveragePooling2D).
 */
export function globalPoolMap(view: GraphView, facts: TensorFacts, n: NodeProto, max = false): string | undefined {
  const x = n.input?.[0];
  const shape = x ? facts.shapes.get(x) : undefined;
  if (n.domain || !x || !shape || shape.length < 3) return undefined;
  const spatial = Array.from({ length: shape.length - 2 }, (_, k) => k + 2);
  if (n.op_type === 'GlobalAveragePool' || (max && n.op_type === 'GlobalMaxPool')) return x;
  if (n.op_type === 'AveragePool' || (max && n.op_type === 'MaxPool')) {
    const unpadded = (attrInts(n, 'pads') ?? []).every((p) => p === 0) && ['NOTSET', 'VALID'].includes(attrString(n, 'auto_pad', 'NOTSET'));
    if (!unpadded || attrInts(n, 'kernel_shape')?.join() !== shape.slice(2).join()) return undefined;
    // torch's F.avg_pool2d(x, k) exports a zero Pad of no width before it: the map is the Pad's input.
    const pad = view.producer.get(x);
    const noPad = pad?.op_type === 'Pad' && !pad.domain && facts.shapes.get(pad.input![0])?.join() === shape.join();
    return noPad ? pad!.input![0] : x;
  }
  if (n.op_type !== 'ReduceMean') return undefined;
  const axes = meanAxesOf(view, facts, n, shape.length).join();
  if (axes === spatial.join()) return x;
  const moved = view.producer.get(x);
  const channelsLast = moved?.op_type === 'Transpose' && !moved.domain && attrInts(moved, 'perm')?.join() === [0, ...spatial, 1].join();
  return channelsLast && axes === spatial.map((a) => a - 1).join() ? moved!.input![0] : undefined;
}
