import { test } from 'uvu';
import { float } from '../../rewriter/emitter';
import { gradcheck } from '../support/gradcheck';

// Kept away from the kink at 0.
const data = Array.from({ length: 24 }, (_, i) => (i % 2 ? 1 : -1) * (0.1 + (i % 7) * 0.3));

test('Selu defaults, opset 8', () => gradcheck({ op: 'Selu', opset: 8, inputs: [{ shape: [2, 3, 4], data }] }));
test('Selu custom alpha and gamma, opset 13', () =>
  gradcheck({ op: 'Selu', opset: 13, inputs: [{ shape: [2, 3, 4], data }], attrs: { alpha: float(1.3), gamma: float(0.8) } }));

test.run();
