import { Emitter } from '../../rewriter/emitter';
import { DataType, encodeModel, valueInfo } from '../../rewriter/proto';

/**
 * Conv(3→4, 3×3, pad 1) 'features' → Relu → GlobalAveragePool → Gemm(4→3) 'y' over [N, 3, H, W],
 * or its channels-last twin over [N, H, W, 3] (a Transpose first and the pooling of tf2onnx's Keras models).
 */
export function twinCnn(channelsLast: boolean): Uint8Array {
  const em = new Emitter(13, DataType.FLOAT, 'cnn');
  const x = channelsLast ? em.transpose('x', [0, 3, 1, 2]) : 'x';
  const conv = em.rename(em.op('Conv', [x, em.constFloat(Array.from({ length: 108 }, (_, i) => Math.sin(i * 0.37) * 0.5), [4, 3, 3, 3])], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [1, 1] }), 'features');
  const act = em.op('Relu', [conv]);
  // The twin pools as tf2onnx writes Keras' GlobalAveragePooling2D: channels moved last, then a mean over height and width.
  const pooled = channelsLast ? em.reduceMean(em.transpose(act, [0, 2, 3, 1]), [1, 2], false) : em.op('Flatten', [em.op('GlobalAveragePool', [act])]);
  em.rename(em.op('Gemm', [pooled, em.constFloat(Array.from({ length: 12 }, (_, i) => Math.cos(i * 0.9)), [4, 3])]), 'y');
  const input = valueInfo('x', DataType.FLOAT, channelsLast ? ['N', 'H', 'W', 3] : ['N', 3, 'H', 'W']);
  return encodeModel({ ir_version: 8, opset_import: [{ domain: '', version: 13 }], graph: { name: 'cnn', node: em.nodes, initializer: em.initializers, input: [input], output: [{ name: 'y' }] } });
}
