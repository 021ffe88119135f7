import { test } from 'uvu';
import { gradcheck } from '../support/gradcheck';

test('Tanh, opset 7', () => gradcheck({ op: 'Tanh', opset: 7, inputs: [{ shape: [2, 3, 4] }] }));
test('Tanh, opset 13', () => gradcheck({ op: 'Tanh', opset: 13, inputs: [{ shape: [3, 5] }] }));

test.run();
