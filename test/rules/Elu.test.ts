import { test } from 'uvu';
import { float } from '../../rewriter/emitter';
import { elementwise, gradcheck } from '../support/gradcheck';

// Kept away from 0, where the derivative jumps for alpha ≠ 1.
const data = Array.from({ length: 24 }, (_, i) => (i % 2 ? 1 : -1) * (0.1 + (i % 7) * 0.3));

test('Elu default alpha, opset 8', () => gradcheck({ op: 'Elu', opset: 8, inputs: [{ shape: [2, 3, 4], data }] }));
test('Elu alpha 0.7, opset 13', () => gradcheck({ op: 'Elu', opset: 13, inputs: [{ shape: [2, 3, 4], data }], attrs: { alpha: float(0.7) } }));

const tail = [-30, -17, -12, -8, -1, 0.5, 3];
// Y + α, the old eˣ, cancels on the left.
test('Elu far left: α·eˣ to float precision', () => gradcheck({
  op: 'Elu', opset: 13, inputs: [{ shape: [1, tail.length], data: tail }], attrs: { alpha: float(1.5) }, tol: 1e-5,
  exact: elementwise((x) => (x > 0 ? 1 : 1.5 * Math.exp(x))),
}));

test.run();
