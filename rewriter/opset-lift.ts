import { attrFloat, attrFloats, attrInt } from './attributes';
import { ExplainError } from './errors';
import { GraphView, mapSubgraphs, subgraphsOf } from './graph-view';
import { DataType, GraphProto, makeTensor, ModelProto, NodeProto, TensorProto, toNumber } from './proto';

/** The first default-domain opset with Where, which every backward pass needs. */
export const LIFTED_OPSET = 9;

const isDefault = (domain?: string | null) => !domain || domain === 'ai.onnx';

/**
 * Opset 7 and 8 models (the ONNX Model Zoo's classic exports) bound to opset 9 with the same
 * outputs; older ones are refused (onnxruntime has no kernels for Add, Mul, Greater, … before 7,
 * and their legacy `broadcast`/`axis` forms and `consumed_inputs` are not read). From 7 to 9 the default domain changed these ops'
 * signatures only (ONNX Changelog): BatchNormalization lost `spatial` (1, its default, is opset 9's
 * behaviour; 0 becomes the per-activation Mul and Add it computes), Upsample's `scales` attribute
 * became an input, Scan's inputs changed (refused). Max, Min, Sum, Mean and MaxPool gained
 * broadcasting or an optional output, supersets of their old forms; other ops only gained types.
 * The experimental ImageScaler (gone after opset 9) becomes Mul and Add at any opset up to 9.
 * Other models are returned as they are.
 */
export function liftOldOpset(model: ModelProto, label: string): ModelProto {
  const entry = (model.opset_import ?? []).find((o) => isDefault(o.domain));
  const opset = entry ? toNumber(entry.version) : 1;
  if (entry && opset < 7) throw new ExplainError(`${label}: default-domain opset ${opset} is older than onnxruntime's kernels for the ops an explanation needs (opset 7); convert the model first, e.g. onnx.version_converter.convert_version(model, 13)`);
  if (opset < 7 || opset > LIFTED_OPSET || (opset === LIFTED_OPSET && !opTypes(model.graph!).includes('ImageScaler'))) return model;
  const view = new GraphView(model, label);
  const extra: TensorProto[] = [];
  const lift = (graph: GraphProto): GraphProto => ({
    ...graph,
    node: (graph.node ?? []).flatMap((n) => liftNode(n, view, opset, extra).map((m) => mapSubgraphs(m, lift))),
  });
  const graph = lift(model.graph!);
  return {
    ...model,
    ir_version: Math.max(toNumber(model.ir_version), 4),
    opset_import: (model.opset_import ?? []).map((o) => (isDefault(o.domain) ? { ...o, version: LIFTED_OPSET } : o)),
    graph: { ...graph, initializer: [...(graph.initializer ?? []), ...extra] },
  };
}

/** The op types of a graph's nodes, subgraphs included. */
function opTypes(graph: GraphProto): string[] {
  return (graph.node ?? []).flatMap((n) => [n.op_type ?? '', ...subgraphsOf(n).flatMap(opTypes)]);
}

function liftNode(node: NodeProto, view: GraphView, opset: number, extra: TensorProto[]): NodeProto[] {
  if (!isDefault(node.domain)) return [node];
  const fail = (what: string): never => { throw new ExplainError(`${view.label}: ${view.nodeLabel(node)}: ${what}`); };
  const constant = (name: string, dims: number[], values: ArrayLike<number>): string => {
    extra.push(makeTensor(name, dims, values, DataType.FLOAT));
    return name;
  };
  const out = node.output![0];
  const without = (name: string) => node.attribute?.filter((a) => a.name !== name);
  switch (node.op_type) {
    case 'ImageScaler': {
      // y = scale · x + bias[c]
      const bias = attrFloats(node, 'bias') ?? [];
      return [
        { op_type: 'Mul', input: [node.input![0], constant(`${out}/scale`, [], [attrFloat(node, 'scale', 1)])], output: [`${out}/scaled`], name: `${node.name || out}/scale` },
        { op_type: 'Add', input: [`${out}/scaled`, constant(`${out}/bias`, [1, bias.length, 1, 1], bias)], output: [out], name: node.name || out },
      ];
    }
    case 'BatchNormalization':
      if (opset >= 9) return [node];
      if (attrInt(node, 'spatial', 1) !== 0) return [{ ...node, attribute: without('spatial') }];
      return perActivation(node, view, constant, fail);
    case 'Upsample': {
      if (opset >= 9) return [node];
      const scales = attrFloats(node, 'scales') ?? fail('has no scales');
      return [{ ...node, input: [node.input![0], constant(`${out}/scales`, [scales.length], scales)], attribute: without('scales') }];
    }
    case 'Scan':
      return opset >= 9 ? [node] : fail(`Scan's inputs changed at opset ${LIFTED_OPSET}, the first opset with Where, which the augmented graph needs; export the model at opset ${LIFTED_OPSET} or later`);
    default:
      return [node];
  }
}

/** BatchNormalization with spatial = 0 (statistics per activation, shaped [C, D1, …]): y = x·k + (B − mean·k), k = scale/√(var + ε). */
function perActivation(node: NodeProto, view: GraphView, constant: (name: string, dims: number[], values: ArrayLike<number>) => string, fail: (what: string) => never): NodeProto[] {
  const [x, ...params] = node.input!;
  const [scale, bias, mean, variance] = params.map((p) => view.constant(p) ?? fail('spatial 0 needs constant scale, bias, mean and variance'));
  if (node.output!.slice(1).some(Boolean)) fail('training-mode batch normalization is not supported');
  const eps = attrFloat(node, 'epsilon', 1e-5);
  const k = scale.values.map((s, i) => s / Math.sqrt(variance.values[i] + eps));
  const shift = bias.values.map((b, i) => b - mean.values[i] * k[i]);
  const out = node.output![0];
  const dims = [1, ...scale.dims];
  return [
    { op_type: 'Mul', input: [x, constant(`${out}/factor`, dims, k)], output: [`${out}/scaled`], name: `${node.name || out}/factor` },
    { op_type: 'Add', input: [`${out}/scaled`, constant(`${out}/shift`, dims, shift)], output: [out], name: node.name || out },
  ];
}
