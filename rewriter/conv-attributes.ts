import { attrInts } from './attributes';
import { allNodes, GraphView, mapSubgraphs } from './graph-view';
import { withAttrs } from './opset-lift';
import { GraphProto, isDefault, ModelProto, NodeProto } from './proto';
import { jsepImplicit } from './webgpu-ops';

/**
 * Conv and ConvTranspose nodes with their default strides, dilations, group and (without auto_pad
 * or output_shape) pads written out: the default onnxruntime-web bundle's JSEP kernels reject such
 * a node that leaves them to their defaults ("strides should be 2D"), and the backward passes copy
 * these nodes (LRP's z-rules). A node whose spatial rank is not known (no kernel_shape, computed
 * weights of undeclared rank) is left as it is.
 */
export function explicitConvAttributes(model: ModelProto, label: string): ModelProto {
  const missing = (n: NodeProto) => (isDefault(n.domain) ? jsepImplicit(n) : []);
  if (!allNodes(model.graph!).some((n) => missing(n).length)) return model;
  const view = new GraphView(model, label);
  const spatialRank = (n: NodeProto): number | undefined => {
    const kernel = attrInts(n, 'kernel_shape');
    if (kernel) return kernel.length;
    const rank = view.rank(n.input?.[1] ?? '') ?? view.rank(n.input?.[0] ?? '');
    return rank !== undefined && rank > 2 ? rank - 2 : undefined;
  };
  const read = (graph: GraphProto): GraphProto => ({
    ...graph,
    node: (graph.node ?? []).map((n) => {
      const absent = missing(n);
      const r = absent.length ? spatialRank(n) : undefined;
      const defaults: Record<string, number | number[]> = r ? { strides: Array(r).fill(1), dilations: Array(r).fill(1), group: 1, pads: Array(2 * r).fill(0) } : {};
      return mapSubgraphs(r ? withAttrs(n, [], Object.fromEntries(absent.map((a) => [a, defaults[a]]))) : n, read);
    }),
  });
  return { ...model, graph: read(model.graph!) };
}
