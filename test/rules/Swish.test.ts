import { test } from 'uvu';
import { float } from '../../rewriter/emitter';
import { elementwise, gradcheck } from '../support/gradcheck';

test('Swish default alpha, opset 24', () => gradcheck({ op: 'Swish', opset: 24, inputs: [{ shape: [2, 3, 4], range: [-5, 5] }] }));
test('Swish alpha 1.702 (QuickGelu), opset 24', () => gradcheck({ op: 'Swish', opset: 24, inputs: [{ shape: [2, 3, 4], range: [-5, 5] }], attrs: { alpha: float(1.702) } }));
test('Swish far left: σ(x) + x·σ′(x) keeps its digits where onnxruntime\'s Sigmoid is 0', () => {
  const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
  return gradcheck({
    op: 'Swish', opset: 24, inputs: [{ shape: [1, 4], data: [-40, -25, -19, 30] }], tol: 1e-5,
    exact: elementwise((x) => sigmoid(x) + x * sigmoid(x) * sigmoid(-x)),
  });
});

test.run();
