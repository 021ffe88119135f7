/** Ops both onnxruntime-web WebGPU backends run natively (measured; see the README). */
export const WEBGPU_NATIVE = new Set([
  'Conv', 'ConvTranspose', 'MaxPool', 'AveragePool', 'GlobalAveragePool', 'GlobalMaxPool', 'Gemm', 'MatMul',
  'Add', 'Sub', 'Mul', 'Div', 'Pow', 'Sqrt', 'Exp', 'Log', 'Neg', 'Reciprocal', 'Abs', 'Relu', 'LeakyRelu',
  'Sigmoid', 'Tanh', 'HardSigmoid', 'HardSwish', 'Erf', 'Clip', 'Softmax', 'BatchNormalization',
  'LayerNormalization', 'InstanceNormalization', 'Where', 'Equal', 'Greater', 'Less', 'GreaterOrEqual',
  'LessOrEqual', 'ReduceSum', 'ReduceMean', 'Expand', 'Tile', 'Pad', 'Slice', 'Resize', 'Einsum', 'Transpose',
  'Reshape', 'Flatten', 'Concat', 'Split', 'Squeeze', 'Unsqueeze', 'GatherElements', 'ScatterND', 'CumSum',
  'ArgMax', 'Cast', 'If', 'Identity',
]);

/** Op types a rewrite added (nodes after the original graph's) that are not WebGPU-native. */
export function nonNativeOps(augmentedNodes: { op_type?: string }[], originalCount: number): string[] {
  return [...new Set(augmentedNodes.slice(originalCount).map((n) => n.op_type ?? '').filter((op) => !WEBGPU_NATIVE.has(op)))];
}
