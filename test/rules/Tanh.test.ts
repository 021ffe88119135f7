import { test } from 'uvu';
import { gradcheck } from '../support/gradcheck';

test('Tanh, opset 8', () => gradcheck({ op: 'Tanh', opset: 8, inputs: [{ shape: [2, 3, 4] }] }));
test('Tanh, opset 13', () => gradcheck({ op: 'Tanh', opset: 13, inputs: [{ shape: [3, 5] }] }));

test.run();
