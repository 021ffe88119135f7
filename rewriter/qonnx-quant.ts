import { attrInt, attrString } from './attributes';
import { QDQ_AXIS_OPSET, upgradeOpset } from './opset-upgrade';
import { DataType, makeTensor, ModelProto, NodeProto } from './proto';
import { readInStandardOps } from './standard-form';

/** Domains QONNX's quantizer is written in (Brevitas' export_qonnx, FINN, hls4ml). */
const QONNX_DOMAINS = new Set(['qonnx.custom_op.general', 'onnx.brevitas', 'finn.custom_op.general']);

const isQuant = (n: NodeProto) => QONNX_DOMAINS.has(n.domain ?? '') && (n.op_type === 'Quant' || n.op_type === 'IntQuant');

/**
 * QONNX's integer quantizer (IntQuant, formerly Quant), which onnxruntime cannot run, in Brevitas'
 * own standard form QuantizeLinear → Clip → DequantizeLinear: y = (clamp(round(x/s + z), lo, hi)
 * − z)·s, [lo, hi] the bit width's range (signed, narrow). QuantizeLinear rounds half to even as
 * rounding_mode ROUND does, and for whole bounds and zero points clamping before or after rounding
 * gives the same integers. The scale, zero point and bit width must be constants: 2 to 8 bits, a
 * whole zero point, the scale one value or one per index of one axis. A model of an earlier
 * default-domain opset (Brevitas and FINN's older exports) is read at QDQ_AXIS_OPSET (QuantizeLinear's
 * axis; Clip of int8 came in 12).
 */
export function qonnxQuantToQcdq(model: ModelProto, label: string): ModelProto {
  if (!(model.graph?.node ?? []).some(isQuant)) return model;
  const read = upgradeOpset(model, QDQ_AXIS_OPSET, label);
  return readInStandardOps(read, label, 'qonnx', isQuant, (em, view, n, fail) => {
    const [x, s, z, b] = n.input ?? [];
    const constant = (t: string | undefined, what: string) => (t && view.constant(t)) || fail(`its ${what} must be a constant`);
    const scale = constant(s, 'scale');
    const zero = constant(z, 'zero point');
    const bits = constant(b, 'bit width').values[0];
    const mode = attrString(n, 'rounding_mode', 'ROUND').toUpperCase();
    if (mode !== 'ROUND' && mode !== 'HALF_EVEN') fail(`rounding_mode ${mode} is not supported (ROUND: QuantizeLinear rounds half to even)`);
    if (!Number.isInteger(bits) || bits < 2 || bits > 8) fail(`a bit width of ${bits} is not supported (2 to 8)`);
    const signed = attrInt(n, 'signed', 1) !== 0;
    const narrow = attrInt(n, 'narrow', 0) !== 0;
    const [lo, hi] = signed ? [-(2 ** (bits - 1)) + (narrow ? 1 : 0), 2 ** (bits - 1) - 1] : [0, 2 ** bits - 1 - (narrow ? 1 : 0)];
    // One scale, or one per index of the one axis where the scale's shape is not 1.
    const axes = scale.dims.map((d, k) => (d > 1 ? k : -1)).filter((k) => k >= 0);
    if (axes.length > 1) fail(`a scale of shape [${scale.dims}] is not supported (one value, or one per index of one axis)`);
    const count = scale.values.length;
    const zeros = zero.values.length === 1 ? Array(count).fill(zero.values[0]) : zero.values;
    if (zeros.length !== count || zeros.some((v) => !Number.isInteger(v))) fail(`its zero point [${zero.values.slice(0, 4)}] must be whole and one value or one per scale`);
    const type = signed ? DataType.INT8 : DataType.UINT8;
    const typed = (hint: string, values: number[], dims: number[]) => {
      const name = em.fresh(hint);
      em.initializers.push(makeTensor(name, dims, values, type));
      return name;
    };
    const perAxis = axes.length === 1;
    const dims = perAxis ? [count] : [];
    const quantization = [em.constFloat(scale.values, dims), typed('zero_point', zeros, dims)];
    const attrs = perAxis ? { axis: axes[0] + (view.rank(x) ?? scale.dims.length) - scale.dims.length } : {};
    const q = em.op('QuantizeLinear', [x, ...quantization], attrs);
    const clipped = em.op('Clip', [q, typed('low', [lo], []), typed('high', [hi], [])]);
    em.rename(em.op('DequantizeLinear', [clipped, ...quantization], attrs), n.output![0]);
  });
}
