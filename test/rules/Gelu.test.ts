import { test } from 'uvu';
import { elementwise, gradcheck } from '../support/gradcheck';

test('Gelu (erf), opset 20', () => gradcheck({ op: 'Gelu', opset: 20, inputs: [{ shape: [2, 3, 4], range: [-4, 4] }] }));
test('Gelu approximate tanh, opset 20', () => gradcheck({ op: 'Gelu', opset: 20, inputs: [{ shape: [2, 3, 4], range: [-4, 4] }], attrs: { approximate: 'tanh' } }));
test('Gelu approximate tanh far left: ½(1 + tanh u) keeps its digits where tanh u rounds to −1', () => {
  const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
  const c = Math.sqrt(2 / Math.PI);
  return gradcheck({
    op: 'Gelu', opset: 20, attrs: { approximate: 'tanh' }, inputs: [{ shape: [1, 4], data: [-6, -5, -4, -3] }], tol: 1e-4,
    // y = x·σ(2u), u = c(x + 0.044715x³)
    exact: elementwise((x) => {
      const u2 = 2 * c * (x + 0.044715 * x ** 3);
      return sigmoid(u2) + x * sigmoid(u2) * sigmoid(-u2) * 2 * c * (1 + 3 * 0.044715 * x * x);
    }),
  });
});

test.run();
