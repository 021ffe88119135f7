import { test } from 'uvu';
import { float } from '../../rewriter/emitter';
import { gradcheck } from '../support/gradcheck';

// ±0.2..±3.8: both flat regions and the slope, at least 0.05 from every kink below.
const data = Array.from({ length: 24 }, (_, i) => (i % 2 ? 1 : -1) * (0.2 + (i % 7) * 0.6));

// Defaults α = 0.2, β = 0.5: kinks at x = ±2.5.
test('HardSigmoid defaults, opset 8', () => gradcheck({ op: 'HardSigmoid', opset: 8, inputs: [{ shape: [2, 3, 4], data }] }));
// α = 0.4, β = 0.3: kinks at x = −0.75 and 1.75.
test('HardSigmoid alpha 0.4 beta 0.3, opset 13', () =>
  gradcheck({ op: 'HardSigmoid', opset: 13, inputs: [{ shape: [2, 3, 4], data }], attrs: { alpha: float(0.4), beta: float(0.3) } }));

test.run();
