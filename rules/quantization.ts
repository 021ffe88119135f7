import { attrInt } from '../rewriter/attributes';
import { normAxis } from './op-forms';
import { RuleContext } from './types';

/** Saturation range of each integer type a QuantizeLinear may produce (TensorProto data types). */
const RANGES: Record<number, [number, number]> = {
  2: [0, 255], 3: [-128, 127], 4: [0, 65535], 5: [-32768, 32767], 6: [-(2 ** 31), 2 ** 31 - 1], 21: [0, 15], 22: [-8, 7],
};

/** Largest finite value of each float8 type (E4M3FN, E4M3FNUZ, E5M2, E5M2FNUZ). */
const FLOAT8_MAX: Record<number, number> = { 17: 448, 18: 240, 19: 57344, 20: 57344 };

export interface Quantization {
  /** Scale and zero point per element of a tensor of `dims` that broadcasts against the input. */
  scale: number[];
  zeroPoint: number[];
  dims: number[];
  /** Saturation range of the quantized type. */
  range: [number, number];
  /**
   * How far past the range values still round into it: ½ for integers; 0 for float8, which
   * NVIDIA ModelOpt's fake quantizer clamps before the cast (and without saturation, no bound).
   */
  margin: number;
}

function rangeOf(ctx: RuleContext, quantized: string): Pick<Quantization, 'range' | 'margin'> {
  if (attrInt(ctx.node, 'block_size', 0) > 0) ctx.fail('blocked quantization of activations is not supported');
  const type = ctx.dtype(quantized) ?? -1;
  const max = FLOAT8_MAX[type];
  if (max) return { range: attrInt(ctx.node, 'saturate', 1) ? [-max, max] : [-Infinity, Infinity], margin: 0 };
  return { range: RANGES[type] ?? ctx.fail(`quantized type ${type} is not an integer or float8 type`), margin: 0.5 };
}

/**
 * Scale and zero point of a QuantizeLinear / DequantizeLinear node (inputs 1 and 2, constants),
 * per tensor or per channel along `axis`; `quantized` is the node's integer tensor.
 */
export function quantization(ctx: RuleContext, quantized: string): Quantization {
  const { node } = ctx;
  const bounds = rangeOf(ctx, quantized);
  const scale = ctx.requireConstant(node.input![1], 'the scale');
  const zeroPoint = node.input![2] ? ctx.requireConstant(node.input![2], 'the zero point').values : scale.values.map(() => 0);
  if (scale.values.length === 1) return { scale: scale.values, zeroPoint, dims: [], ...bounds };
  const rank = ctx.shape(node.input![0]).length;
  const axis = normAxis(ctx, attrInt(node, 'axis', 1), rank);
  return { scale: scale.values, zeroPoint, dims: Array.from({ length: rank }, (_, k) => (k === axis ? scale.values.length : 1)), ...bounds };
}

/** Whether the node's scale is computed in the graph (dynamic quantization) rather than constant. */
export const dynamicScale = (ctx: RuleContext): boolean => !ctx.isConstant(ctx.node.input![1]);

/**
 * Scale and zero point of a QuantizeLinear / DequantizeLinear node whose scale the graph computes
 * (rewriter/dynamic-quantization.ts: one per row along `axis`), as float tensors that broadcast
 * against the input; `pass` maps a forward tensor to the pass it is read on.
 */
export function dynamicQuantization(ctx: RuleContext, quantized: string, pass: (t: string) => string = (t) => t): { scale: string; zeroPoint: string } & Pick<Quantization, 'range' | 'margin'> {
  const { em, node } = ctx;
  const [x, s, z] = node.input!;
  const bounds = rangeOf(ctx, quantized);
  const rank = ctx.shape(x).length;
  const perAxis = ctx.shape(s).length === 1 && rank > 0;
  const axis = perAxis ? normAxis(ctx, attrInt(node, 'axis', 1), rank) : -1;
  const broadcast = (t: string) => (perAxis ? em.reshape(t, Array.from({ length: rank }, (_, k) => (k === axis ? -1 : 1))) : t);
  const zeroPoint = z ? broadcast(em.cast(pass(z), em.floatType)) : em.scalar(0);
  return { scale: broadcast(pass(s)), zeroPoint, ...bounds };
}
