import { test } from 'uvu';
import { float } from '../../rewriter/emitter';
import { gradcheck } from '../support/gradcheck';

const w = (n: number, k = 1) => Array.from({ length: n }, (_, i) => 0.5 + Math.sin(i * 1.7 + k) * 0.6);

test('LayerNormalization over the last axis, opset 17', () =>
  gradcheck({ op: 'LayerNormalization', opset: 17, inputs: [{ shape: [2, 3, 6] }, { shape: [6], value: w(6) }, { shape: [6], value: w(6, 2) }] }));
test('LayerNormalization over the last two axes without bias, opset 18', () =>
  gradcheck({ op: 'LayerNormalization', opset: 18, inputs: [{ shape: [2, 3, 4] }, { shape: [3, 4], value: w(12) }], attrs: { axis: 1, epsilon: float(1e-3) } }));
test('LayerNormalization with a negative axis, opset 17', () =>
  gradcheck({ op: 'LayerNormalization', opset: 17, inputs: [{ shape: [1, 2, 3, 4] }, { shape: [3, 4], value: w(12) }, { shape: [3, 4], value: w(12, 3) }], attrs: { axis: -2 } }));
test('LayerNormalization at opset 12 (onnxruntime\'s transformer optimiser writes it before opset 17)', () =>
  gradcheck({ op: 'LayerNormalization', opset: 12, inputs: [{ shape: [2, 3, 6] }, { shape: [6], value: w(6) }, { shape: [6], value: w(6, 2) }], attrs: { epsilon: float(1e-12) } }));
// No epsilon attribute: the spec's default 1e-5 (onnxruntime's kernel's), which matters where the variance is small.
test('LayerNormalization without an epsilon attribute (default 1e-5), inputs within ±0.1, opset 17', () =>
  gradcheck({ op: 'LayerNormalization', opset: 17, h: 1e-3, inputs: [{ shape: [2, 6], range: [-0.1, 0.1] }, { shape: [6], value: w(6) }, { shape: [6], value: w(6, 2) }] }));

test.run();
