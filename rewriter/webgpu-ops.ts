import { attrString, hasAttr } from './attributes';
import { NodeProto } from './proto';
import { lookupTable } from './lookup-table';

/**
 * Ops both onnxruntime-web WebGPU backends run natively (measured; see the README). Not Identity:
 * the default bundle's JSEP backend has no kernel for it at any opset (the emitter folds renames).
 */
export const WEBGPU_NATIVE = new Set([
  'Conv', 'ConvTranspose', 'MaxPool', 'AveragePool', 'GlobalAveragePool', 'GlobalMaxPool', 'Gemm', 'MatMul',
  'Add', 'Sub', 'Mul', 'Div', 'Pow', 'Sqrt', 'Exp', 'Log', 'Neg', 'Reciprocal', 'Abs', 'Relu', 'LeakyRelu',
  'Sigmoid', 'Tanh', 'HardSigmoid', 'HardSwish', 'Erf', 'Clip', 'Softmax', 'BatchNormalization',
  'LayerNormalization', 'InstanceNormalization', 'Where', 'Equal', 'Greater', 'Less', 'GreaterOrEqual',
  'LessOrEqual', 'ReduceSum', 'ReduceMean', 'Expand', 'Tile', 'Pad', 'Slice', 'Resize', 'Einsum', 'Transpose',
  'Reshape', 'Flatten', 'Concat', 'Split', 'Squeeze', 'Unsqueeze', 'GatherElements', 'ScatterND', 'CumSum',
  'ArgMax', 'Cast', 'If',
  // On float data with int64 indices (DeepLIFT's picks copy a model's Gather): both backends, measured 2026-12-05.
  'Gather',
]);

/** Native only from an opset on: onnxruntime's WebGPU EP places Clip with attribute bounds (before opset 11) on the CPU. */
const NATIVE_SINCE: Record<string, number> = lookupTable({ Clip: 11 });

/**
 * Native only up to an opset: onnxruntime-web 1.30 registers these kernels for the versions up to
 * 21 (or 22) only, on the native EP, on JSEP or on both (measured, README), and places a node of a
 * newer version on the CPU. `lowerNewOpset` reads such models at 21 where nothing newer is used.
 */
const NATIVE_UNTIL: Record<string, number> = lookupTable({
  Conv: 21, ConvTranspose: 21, AveragePool: 21, MaxPool: 21, GlobalAveragePool: 21, GlobalMaxPool: 21, HardSigmoid: 21, HardSwish: 21, InstanceNormalization: 21,
  Flatten: 22, If: 22, Reshape: 22, Transpose: 22, Squeeze: 22, Unsqueeze: 22, Cast: 22, Pad: 22, BatchNormalization: 22,
});

/** Whether an op of the default domain runs natively on WebGPU at the model's opset. */
export function webgpuNative(opType: string, opset: number): boolean {
  return WEBGPU_NATIVE.has(opType) && opset >= (NATIVE_SINCE[opType] ?? 1) && opset <= (NATIVE_UNTIL[opType] ?? Infinity);
}

/**
 * The attributes of a Conv or ConvTranspose that the default bundle's JSEP kernels need written out
 * ("strides should be 2D" where a default applies): pads too unless auto_pad or output_shape sets them.
 */
export function jsepExplicit(node: NodeProto): string[] {
  if (node.op_type !== 'Conv' && node.op_type !== 'ConvTranspose') return [];
  const padsSet = attrString(node, 'auto_pad', 'NOTSET') !== 'NOTSET' || hasAttr(node, 'output_shape');
  return ['strides', 'dilations', 'group', ...(padsSet ? [] : ['pads'])];
}

/** The attributes JSEP needs that `node` leaves to their defaults. */
export function jsepImplicit(node: NodeProto): string[] {
  return jsepExplicit(node).filter((a) => !hasAttr(node, a));
}

/**
 * Op types a rewrite added (nodes after the original graph's) that are not WebGPU-native at `opset`,
 * and native ones that leave an attribute JSEP needs to its default ("Conv without strides").
 */
export function nonNativeOps(augmentedNodes: NodeProto[], originalCount: number, opset: number): string[] {
  return [...new Set(augmentedNodes.slice(originalCount).flatMap((n) => {
    const op = n.op_type ?? '';
    if (!webgpuNative(op, opset)) return [op];
    const implicit = jsepImplicit(n);
    return implicit.length ? [`${op} without ${implicit.join(', ')}`] : [];
  }))];
}
