import { test } from 'uvu';
import { gradcheck } from '../support/gradcheck';

// Kept away from the kink at 0.
const data = Array.from({ length: 24 }, (_, i) => (i % 2 ? 1 : -1) * (0.1 + (i % 7) * 0.3));

test('Abs, opset 8', () => gradcheck({ op: 'Abs', opset: 8, inputs: [{ shape: [2, 3, 4], data }] }));
test('Abs, opset 13', () => gradcheck({ op: 'Abs', opset: 13, inputs: [{ shape: [4, 6], data }] }));

test.run();
