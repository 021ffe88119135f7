import { test } from 'uvu';
import { float } from '../../rewriter/emitter';
import { elementwise, gradcheck } from '../support/gradcheck';

// Kept away from the kink at 0.
const data = Array.from({ length: 24 }, (_, i) => (i % 2 ? 1 : -1) * (0.1 + (i % 7) * 0.3));

test('Selu defaults, opset 8', () => gradcheck({ op: 'Selu', opset: 8, inputs: [{ shape: [2, 3, 4], data }] }));
test('Selu custom alpha and gamma, opset 13', () =>
  gradcheck({ op: 'Selu', opset: 13, inputs: [{ shape: [2, 3, 4], data }], attrs: { alpha: float(1.3), gamma: float(0.8) } }));

const tail = [-30, -17, -12, -8, -1, 0.5, 3];
test('Selu far left: γ·α·eˣ to float precision', () => gradcheck({
  op: 'Selu', opset: 13, inputs: [{ shape: [1, tail.length], data: tail }], tol: 1e-5,
  exact: elementwise((x) => 1.0507009873554805 * (x > 0 ? 1 : 1.6732632423543772 * Math.exp(x))),
}));

test.run();
