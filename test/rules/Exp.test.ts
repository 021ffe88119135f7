import { test } from 'uvu';
import { gradcheck } from '../support/gradcheck';

test('Exp, opset 8', () => gradcheck({ op: 'Exp', opset: 8, inputs: [{ shape: [2, 3, 4] }] }));
test('Exp, opset 13', () => gradcheck({ op: 'Exp', opset: 13, inputs: [{ shape: [3, 5] }] }));

test.run();
