import { test } from 'uvu';
import { gradcheck } from '../support/gradcheck';

test('Neg, opset 8', () => gradcheck({ op: 'Neg', opset: 8, inputs: [{ shape: [2, 3, 4] }] }));
test('Neg, opset 13', () => gradcheck({ op: 'Neg', opset: 13, inputs: [{ shape: [3, 5] }] }));

test.run();
