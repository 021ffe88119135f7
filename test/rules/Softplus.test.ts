import { test } from 'uvu';
import { elementwise, gradcheck } from '../support/gradcheck';

test('Softplus, opset 8', () => gradcheck({ op: 'Softplus', opset: 8, inputs: [{ shape: [2, 3, 4] }] }));
test('Softplus, opset 13', () => gradcheck({ op: 'Softplus', opset: 13, inputs: [{ shape: [3, 5] }] }));

// Far left Softplus′ = σ(x) is below what onnxruntime's Sigmoid gives (0 past −18).
test('Softplus far left and right: σ(x) to float precision', () => gradcheck({
  op: 'Softplus', opset: 13, inputs: [{ shape: [1, 6], data: [-40, -20, -12, -8, 8, 20] }], tol: 1e-5,
  exact: elementwise((x) => 1 / (1 + Math.exp(-x))),
}));

test.run();
