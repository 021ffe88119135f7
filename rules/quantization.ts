import { attrInt } from '../rewriter/attributes';
import { normAxis } from './op-forms';
import { RuleContext } from './types';

/** Saturation range of each integer type a QuantizeLinear may produce (TensorProto data types). */
const RANGES: Record<number, [number, number]> = {
  2: [0, 255], 3: [-128, 127], 4: [0, 65535], 5: [-32768, 32767], 6: [-(2 ** 31), 2 ** 31 - 1], 21: [0, 15], 22: [-8, 7],
};

export interface Quantization {
  /** Scale and zero point per element of a tensor of `dims` that broadcasts against the input. */
  scale: number[];
  zeroPoint: number[];
  dims: number[];
  /** Saturation range of the quantized type. */
  range: [number, number];
}

/**
 * Scale and zero point of a QuantizeLinear / DequantizeLinear node (inputs 1 and 2, constants),
 * per tensor or per channel along `axis`; `quantized` is the node's integer tensor.
 */
export function quantization(ctx: RuleContext, quantized: string): Quantization {
  const { node } = ctx;
  if (attrInt(node, 'block_size', 0) > 0) ctx.fail('blocked quantization of activations is not supported');
  const range = RANGES[ctx.dtype(quantized) ?? -1] ?? ctx.fail(`quantized type ${ctx.dtype(quantized)} is not an integer type (float8 is not supported)`);
  const scale = ctx.requireConstant(node.input![1], 'the scale');
  const zeroPoint = node.input![2] ? ctx.requireConstant(node.input![2], 'the zero point').values : scale.values.map(() => 0);
  if (scale.values.length === 1) return { scale: scale.values, zeroPoint, dims: [], range };
  const rank = ctx.shape(node.input![0]).length;
  const axis = normAxis(ctx, attrInt(node, 'axis', 1), rank);
  return { scale: scale.values, zeroPoint, dims: Array.from({ length: rank }, (_, k) => (k === axis ? scale.values.length : 1)), range };
}
