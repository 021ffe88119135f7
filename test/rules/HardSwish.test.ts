import { test } from 'uvu';
import { gradcheck } from '../support/gradcheck';

// ±0.25..±4.75 in steps of 0.75: every region, away from the kinks at ±3.
const data = Array.from({ length: 24 }, (_, i) => (i % 2 ? 1 : -1) * (0.25 + (i % 7) * 0.75));

test('HardSwish, opset 14', () => gradcheck({ op: 'HardSwish', opset: 14, inputs: [{ shape: [2, 3, 4], data }] }));

test.run();
