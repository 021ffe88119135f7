import { test } from 'uvu';
import { elementwise, gradcheck } from '../support/gradcheck';

test('Tanh, opset 8', () => gradcheck({ op: 'Tanh', opset: 8, inputs: [{ shape: [2, 3, 4] }] }));
test('Tanh, opset 13', () => gradcheck({ op: 'Tanh', opset: 13, inputs: [{ shape: [3, 5] }] }));
test('Tanh saturated: 1 − Y² keeps its digits where |Y| rounds to 1', () => gradcheck({
  op: 'Tanh', opset: 13, inputs: [{ shape: [1, 8], data: [-40, -20, -12, -9, 9, 12, 20, 40] }], tol: 1e-5,
  exact: elementwise((x) => 1 / Math.cosh(x) ** 2),
}));

test.run();
