import { test } from 'uvu';
import { gradcheck } from '../support/gradcheck';

test('Erf, opset 9', () => gradcheck({ op: 'Erf', opset: 9, inputs: [{ shape: [2, 3, 4] }] }));
test('Erf, opset 13', () => gradcheck({ op: 'Erf', opset: 13, inputs: [{ shape: [3, 5] }] }));

test.run();
