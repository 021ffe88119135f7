import { test } from 'uvu';
import { gradcheck } from '../support/gradcheck';

// Kept away from the kink at 0.
const data = Array.from({ length: 24 }, (_, i) => (i % 2 ? 1 : -1) * (0.1 + (i % 7) * 0.3));

test('PRelu with a constant per-channel slope, opset 9', () =>
  gradcheck({ op: 'PRelu', opset: 9, inputs: [{ shape: [2, 3, 2, 2], data }, { shape: [3, 1, 1], value: [0.1, 0.25, -0.5] }] }));
test('PRelu with a broadcast slope that needs its gradient, opset 16', () =>
  gradcheck({ op: 'PRelu', opset: 16, inputs: [{ shape: [2, 3, 4], data }, { shape: [4] }] }));

test.run();
