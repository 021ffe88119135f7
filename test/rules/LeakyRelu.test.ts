import { test } from 'uvu';
import { float } from '../../rewriter/emitter';
import { gradcheck } from '../support/gradcheck';

// Kept away from the kink at 0.
const data = Array.from({ length: 24 }, (_, i) => (i % 2 ? 1 : -1) * (0.1 + (i % 7) * 0.3));

test('LeakyRelu default alpha, opset 8', () => gradcheck({ op: 'LeakyRelu', opset: 8, inputs: [{ shape: [2, 3, 4], data }] }));
test('LeakyRelu alpha 0.2, opset 16', () =>
  gradcheck({ op: 'LeakyRelu', opset: 16, inputs: [{ shape: [2, 3, 4], data }], attrs: { alpha: float(0.2) } }));

test.run();
