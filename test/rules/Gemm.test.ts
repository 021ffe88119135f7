import { test } from 'uvu';
import { float } from '../../rewriter/emitter';
import { gradcheck } from '../support/gradcheck';

const w = (n: number) => Array.from({ length: n }, (_, i) => Math.cos(i * 0.7));

for (const [transA, transB] of [[0, 0], [0, 1], [1, 0], [1, 1]]) {
  test(`Gemm transA=${transA} transB=${transB} with alpha, beta, broadcast C (both operands activations)`, () =>
    gradcheck({
      op: 'Gemm', opset: 13,
      inputs: [{ shape: transA ? [4, 3] : [3, 4] }, { shape: transB ? [5, 4] : [4, 5] }, { shape: [5] }],
      attrs: { transA, transB, alpha: float(0.7), beta: float(1.5) },
    }));
}

test('Gemm at opset 9 (C required) with constant weights', () =>
  gradcheck({ op: 'Gemm', opset: 9, inputs: [{ shape: [2, 4] }, { shape: [3, 4], value: w(12) }, { shape: [3], value: [1, 2, 3] }], attrs: { transB: 1 } }));

test.run();
