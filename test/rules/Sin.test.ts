import { test } from 'uvu';
import { gradcheck } from '../support/gradcheck';

// |x| up to 40: several periods, so the range reduction of the emitted cosine is exercised.
test('Sin, opset 7', () => gradcheck({ op: 'Sin', opset: 7, inputs: [{ shape: [2, 3, 4], range: [-40, 40] }] }));
test('Sin, opset 13', () => gradcheck({ op: 'Sin', opset: 13, inputs: [{ shape: [3, 5], range: [-4, 4] }] }));

test.run();
