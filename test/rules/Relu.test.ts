import { test } from 'uvu';
import { gradcheck } from '../support/gradcheck';

// Values keep a distance from the kink at 0 so central differences are exact there.
const data = Array.from({ length: 24 }, (_, i) => (i % 2 ? 1 : -1) * (0.1 + (i % 7) * 0.3));

test('Relu', () => gradcheck({ op: 'Relu', opset: 14, inputs: [{ shape: [2, 3, 4], data }] }));

test.run();
