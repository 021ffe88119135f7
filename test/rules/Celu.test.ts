import { test } from 'uvu';
import { float } from '../../rewriter/emitter';
import { elementwise, gradcheck } from '../support/gradcheck';

// Kept away from 0, where the second derivative jumps.
const data = Array.from({ length: 24 }, (_, i) => (i % 2 ? 1 : -1) * (0.1 + (i % 7) * 0.3));

test('Celu default alpha, opset 12', () => gradcheck({ op: 'Celu', opset: 12, inputs: [{ shape: [2, 3, 4], data }] }));
test('Celu alpha 0.6, opset 13', () => gradcheck({ op: 'Celu', opset: 13, inputs: [{ shape: [2, 3, 4], data }], attrs: { alpha: float(0.6) } }));

const tail = [-30, -17, -12, -8, -1, 0.5, 3];
test('Celu far left: e^{x/α} to float precision', () => gradcheck({
  op: 'Celu', opset: 13, inputs: [{ shape: [1, tail.length], data: tail }], attrs: { alpha: float(1.5) }, tol: 1e-5,
  exact: elementwise((x) => (x > 0 ? 1 : Math.exp(x / 1.5))),
}));

test.run();
