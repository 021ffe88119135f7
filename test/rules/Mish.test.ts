import { test } from 'uvu';
import { elementwise, gradcheck } from '../support/gradcheck';

test('Mish, opset 18', () => gradcheck({ op: 'Mish', opset: 18, inputs: [{ shape: [2, 3, 4], range: [-5, 5] }] }));
test('Mish at large |x| (no overflow), opset 18', () => gradcheck({ op: 'Mish', opset: 18, inputs: [{ shape: [1, 4], data: [-60, -20, 20, 60] }] }));

test('Mish on both tails: tanh(softplus x) + x·sech²(softplus x)·σ(x) to float precision', () => gradcheck({
  op: 'Mish', opset: 18, inputs: [{ shape: [1, 8], data: [-60, -20, -12, -8, -1, 2, 20, 60] }], tol: 1e-5,
  exact: elementwise((x) => {
    const sp = x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
    return Math.tanh(sp) + (x / Math.cosh(sp) ** 2) / (1 + Math.exp(-x));
  }),
}));

test.run();
