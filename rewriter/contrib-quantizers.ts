import { elementTypes } from './element-types';
import { allNodes, mapSubgraphs } from './graph-view';
import { QDQ_AXIS_OPSET, upgradeOpset } from './opset-upgrade';
import { DataType, GraphProto, ModelProto, NodeProto, toNumber } from './proto';

/** The opset whose QuantizeLinear and DequantizeLinear take 16- and 4-bit types. */
export const WIDE_QDQ_OPSET = 21;
const WIDE = new Set<number>([DataType.INT16, DataType.UINT16, DataType.INT4, DataType.UINT4]);

const isContribQdq = (n: NodeProto) => n.domain === 'com.microsoft' && (n.op_type === 'QuantizeLinear' || n.op_type === 'DequantizeLinear');

/**
 * onnxruntime's com.microsoft QuantizeLinear and DequantizeLinear — its quantiser writes them for
 * 16-bit (QInt16/QUInt16 activations, as QNN models take them) and 4-bit types below opset 21, and
 * with use_qdq_contrib_ops — are the standard ops of the same inputs and axis: read as those, the
 * model rebound to opset 21 where a 16- or 4-bit zero point needs it, else to 13 (per-axis scales).
 */
export function contribQdqAsStandard(model: ModelProto, label: string): ModelProto {
  const graph = model.graph!;
  const contrib = allNodes(graph).filter(isContribQdq);
  if (!contrib.length) return model;
  const types = elementTypes(graph);
  const needed = contrib.some((n) => WIDE.has(types.get(n.input?.[2] ?? '') ?? 0)) ? WIDE_QDQ_OPSET : QDQ_AXIS_OPSET;
  const read = upgradeOpset(model, needed, label);
  const standard = (g: GraphProto): GraphProto => ({ ...g, node: (g.node ?? []).map((n) => mapSubgraphs(isContribQdq(n) ? { ...n, domain: '' } : n, standard)) });
  return { ...read, ir_version: Math.max(toNumber(read.ir_version), needed === WIDE_QDQ_OPSET ? 10 : 7), graph: standard(read.graph!) };
}
