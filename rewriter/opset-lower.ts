import { attrInt } from './attributes';
import { lookupTable } from './lookup-table';
import { allNodes } from './graph-view';
import { defaultOpset } from './opset-lift';
import { isDefault, ModelProto, NodeProto, toNumber } from './proto';

/** The newest default-domain opset at which both onnxruntime-web WebGPU backends have kernels for every op we emit. */
export const WEBGPU_OPSET = 21;

/** Default-domain ops that exist only after opset 21 (ONNX Changelog; the function ops among them are read as their bodies before this). */
const AFTER_21 = new Set(['Attention', 'RMSNormalization', 'RotaryEmbedding', 'Swish', 'TensorScatter', 'CumProd', 'BitCast', 'CausalConvWithState', 'LinearAttention', 'SwiGLU']);
/** Attributes added after opset 21 to ops that existed before. */
const ATTRIBUTES_AFTER_21: Record<string, string[]> = lookupTable({
  Cast: ['round_mode'], CastLike: ['round_mode'], DequantizeLinear: ['output_dtype'], QuantizeLinear: ['precision'], Range: ['stash_type'],
});
/** Element types added after opset 21: float4e2m1, float8e8m0, uint2, int2 (TensorProto.DataType 23–26). */
const FIRST_NEWER_TYPE = 23;

/**
 * A model at opset 22 or later read at opset 21 where that changes nothing. From 22 on the default
 * domain's ops that existed at 21 only gained element types (bfloat16 at 22, float4 at 23,
 * float8e8m0 at 24, 2-bit integers at 25) and the attributes in `ATTRIBUTES_AFTER_21` (ONNX
 * Changelog), except MaxPool-22 and AveragePool-22, whose ceil_mode output shape no longer counts a
 * last window that would start in the end padding (onnxruntime's kernels never ran it): a ceil_mode
 * pool keeps the opset, as does an op, attribute or element type from after 21. onnxruntime 1.30's
 * WebGPU backends register many kernels only up to 21 or 22 (measured, README: ConvTranspose,
 * MaxPool, GlobalAveragePool, GlobalMaxPool, HardSigmoid, HardSwish up to 21 on both, Conv,
 * AveragePool, InstanceNormalization up to 21 on JSEP; Flatten and If up to 22 on both, Reshape,
 * Transpose, Squeeze, Unsqueeze, Cast, Pad, BatchNormalization up to 22 on JSEP, Pad up to 23
 * natively), so at 22+ the model's ops and the emitted ones would run on the CPU.
 */
export function lowerNewOpset(model: ModelProto): ModelProto {
  if (defaultOpset(model) <= WEBGPU_OPSET) return model;
  const nodes = allNodes(model.graph!);
  if (nodes.some((n) => isDefault(n.domain) && usesNewerOp(n))) return model;
  if (newerTypeIn(model)) return model;
  return { ...model, opset_import: model.opset_import!.map((o) => (isDefault(o.domain) ? { ...o, version: WEBGPU_OPSET } : o)) };
}

function usesNewerOp(n: NodeProto): boolean {
  const op = n.op_type ?? '';
  // MaxPool-22 and AveragePool-22 drop a ceil_mode window that would start in the end padding from
  // the output shape, as onnxruntime's kernel does at every opset; before 22 shape inference counts it.
  const ceilPool = (op === 'MaxPool' || op === 'AveragePool') && attrInt(n, 'ceil_mode', 0) === 1;
  return AFTER_21.has(op) || ceilPool || (n.attribute ?? []).some((a) => ATTRIBUTES_AFTER_21[op]?.includes(a.name ?? ''));
}

/** Whether any element type, tensor type or type attribute (Cast's `to`, …) in the model is one added after opset 21. */
function newerTypeIn(value: unknown): boolean {
  if (!value || typeof value !== 'object' || ArrayBuffer.isView(value)) return false;
  if (Array.isArray(value)) return value.some(newerTypeIn);
  const o = value as Record<string, unknown>;
  if ([o.data_type, o.elem_type].some((t) => Number(t) >= FIRST_NEWER_TYPE)) return true;
  if ((o.name === 'to' || o.name === 'output_dtype' || o.name === 'dtype') && o.i != null && toNumber(o.i as number) >= FIRST_NEWER_TYPE) return true;
  return Object.values(o).some(newerTypeIn);
}
