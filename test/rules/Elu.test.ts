import { test } from 'uvu';
import { float } from '../../rewriter/emitter';
import { gradcheck } from '../support/gradcheck';

// Kept away from 0, where the derivative jumps for alpha ≠ 1.
const data = Array.from({ length: 24 }, (_, i) => (i % 2 ? 1 : -1) * (0.1 + (i % 7) * 0.3));

test('Elu default alpha, opset 8', () => gradcheck({ op: 'Elu', opset: 8, inputs: [{ shape: [2, 3, 4], data }] }));
test('Elu alpha 0.7, opset 13', () => gradcheck({ op: 'Elu', opset: 13, inputs: [{ shape: [2, 3, 4], data }], attrs: { alpha: float(0.7) } }));

test.run();
