import { test } from 'uvu';
import { gradcheck } from '../support/gradcheck';

// Both signs, away from the pole at 0.
const data = Array.from({ length: 24 }, (_, i) => (i % 2 ? 1 : -1) * (0.5 + (i % 7) * 0.3));

test('Reciprocal, opset 8', () => gradcheck({ op: 'Reciprocal', opset: 8, inputs: [{ shape: [2, 3, 4], data }] }));
test('Reciprocal, opset 13', () => gradcheck({ op: 'Reciprocal', opset: 13, inputs: [{ shape: [4, 6], data }] }));

test.run();
