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
 * padding (Keras' AveragePooling2D((7, 7)) in old ResNet50s), a ReduceMean's over axes 2… (of the map
 * itself, or of it flattened to [N, C, H·W]: torch's x.flatten(2).mean(2)), or the map a
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
  if (axes === spatial.join()) return unflattened(view, facts, x) ?? x;
  const moved = view.producer.get(x);
  const channelsLast = moved?.op_type === 'Transpose' && !moved.domain && attrInts(moved, 'perm')?.join() === [0, ...spatial, 1].join();
  return channelsLast && axes === spatial.map((a) => a - 1).join() ? moved!.input![0] : undefined;
}

/** The map [N, C, H, W, …] whose spatial axes a Reshape folded into one, [N, C, H·W] (torch's x.flatten(2)); undefined otherwise. */
function unflattened(view: GraphView, facts: TensorFacts, x: string): string | undefined {
  const f = view.producer.get(x);
  const [from, to] = [facts.shapes.get(f?.input?.[0] ?? ''), facts.shapes.get(x)];
  if (!f || f.domain || f.op_type !== 'Reshape' || !from || !to || from.length < 4 || to.length !== 3) return undefined;
  return from[0] === to[0] && from[1] === to[1] && from.slice(2).reduce((a, d) => a * d, 1) === to[2] ? f.input![0] : undefined;
}
