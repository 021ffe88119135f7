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

function rangeOf(ctx: RuleContext, quantized: string): [number, number] {
  if (attrInt(ctx.node, 'block_size', 0) > 0) ctx.fail('blocked quantization of activations is not supported');
  return RANGES[ctx.dtype(quantized) ?? -1] ?? ctx.fail(`quantized type ${ctx.dtype(quantized)} is not an integer type (float8 is not supported)`);
}

/**
 * Scale and zero point of a QuantizeLinear / DequantizeLinear node (inputs 1 and 2, constants),
 * per tensor or per channel along `axis`; `quantized` is the node's integer tensor.
 */
export function quantization(ctx: RuleContext, quantized: string): Quantization {
  const { node } = ctx;
  const range = rangeOf(ctx, quantized);
  const scale = ctx.requireConstant(node.input![1], 'the scale');
  const zeroPoint = node.input![2] ? ctx.requireConstant(node.input![2], 'the zero point').values : scale.values.map(() => 0);
  if (scale.values.length === 1) return { scale: scale.values, zeroPoint, dims: [], range };
  const rank = ctx.shape(node.input![0]).length;
  const axis = normAxis(ctx, attrInt(node, 'axis', 1), rank);
  return { scale: scale.values, zeroPoint, dims: Array.from({ length: rank }, (_, k) => (k === axis ? scale.values.length : 1)), range };
}

/** Whether the node's scale is computed in the graph (dynamic quantization) rather than constant. */
export const dynamicScale = (ctx: RuleContext): boolean => !ctx.isConstant(ctx.node.input![1]);

/**
 * Scale and zero point of a QuantizeLinear / DequantizeLinear node whose scale the graph computes
 * (rewriter/dynamic-quantization.ts: one per row along `axis`), as float tensors that broadcast
 * against the input; `pass` maps a forward tensor to the pass it is read on.
 */
export function dynamicQuantization(ctx: RuleContext, quantized: string, pass: (t: string) => string = (t) => t): { scale: string; zeroPoint: string; range: [number, number] } {
  const { em, node } = ctx;
  const [x, s, z] = node.input!;
  const range = rangeOf(ctx, quantized);
  const rank = ctx.shape(x).length;
  const perAxis = ctx.shape(s).length === 1 && rank > 0;
  const axis = perAxis ? normAxis(ctx, attrInt(node, 'axis', 1), rank) : -1;
  const broadcast = (t: string) => (perAxis ? em.reshape(t, Array.from({ length: rank }, (_, k) => (k === axis ? -1 : 1))) : t);
  const zeroPoint = z ? broadcast(em.cast(pass(z), em.floatType)) : em.scalar(0);
  return { scale: broadcast(pass(s)), zeroPoint, range };
}
