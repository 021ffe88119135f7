import { attrInts, attrString, hasAttr } from './attributes';
import { allNodes, GraphView, mapSubgraphs } from './graph-view';
import { withAttrs } from './opset-lift';
import { GraphProto, isDefault, ModelProto, NodeProto } from './proto';
import { splitPadding } from '../rules/op-forms';

/**
 * A ConvTranspose with auto_pad SAME_UPPER/SAME_LOWER and an output_padding, with its pads written
 * out. onnxruntime's kernel pads t = max(0, e + output_padding − stride) per axis (e the dilated
 * kernel's extent; its output is min(full, x·stride)), split with the odd one at the end for
 * SAME_UPPER and at the start for SAME_LOWER; onnx's shape inference leaves output_padding out of t,
 * so every graph built on the node meets an output up to output_padding positions longer than the
 * kernel writes (checked on onnxruntime 1.30). Explicit pads are read alike by both. t does not
 * depend on the input's size, so inputs of any size keep their outputs. A node whose kernel size
 * is not known (no kernel_shape, weights computed) is left as it is and refused by validation.
 */
export function convTransposeSameAsPads(model: ModelProto, label: string): ModelProto {
  // Most models hold none: they are left without building a view.
  if (!allNodes(model.graph!).some(padsSameWithOutputPadding)) return model;
  const view = new GraphView(model, label);
  let changed = false;
  const read = (graph: GraphProto): GraphProto => ({
    ...graph,
    node: (graph.node ?? []).map((n) => {
      const explicit = explicitPads(n, view);
      if (explicit) changed = true;
      return mapSubgraphs(explicit ?? n, read);
    }),
  });
  const graph = read(model.graph!);
  return changed ? { ...model, graph } : model;
}

function padsSameWithOutputPadding(node: NodeProto): boolean {
  const autoPad = attrString(node, 'auto_pad', 'NOTSET');
  return node.op_type === 'ConvTranspose' && isDefault(node.domain) && (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') && !hasAttr(node, 'output_shape') && (attrInts(node, 'output_padding') ?? []).some((p) => p !== 0);
}

function explicitPads(node: NodeProto, view: GraphView): NodeProto | undefined {
  if (!padsSameWithOutputPadding(node)) return undefined;
  const autoPad = attrString(node, 'auto_pad', 'NOTSET');
  const outputPadding = attrInts(node, 'output_padding')!;
  const kernel = attrInts(node, 'kernel_shape') ?? view.constantDims(node.input?.[1] ?? '')?.slice(2);
  if (!kernel || kernel.length !== outputPadding.length) return undefined;
  const n = kernel.length;
  const strides = attrInts(node, 'strides') ?? Array(n).fill(1);
  const dilations = attrInts(node, 'dilations') ?? Array(n).fill(1);
  const pads = Array(2 * n).fill(0);
  kernel.forEach((k, i) => {
    [pads[i], pads[i + n]] = splitPadding(Math.max(0, (k - 1) * dilations[i] + 1 + outputPadding[i] - strides[i]), autoPad);
  });
  return withAttrs(node, ['auto_pad'], { pads });
}
