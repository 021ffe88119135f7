import { test } from 'uvu';
import { gradcheck } from '../support/gradcheck';

test('Sigmoid, opset 8', () => gradcheck({ op: 'Sigmoid', opset: 8, inputs: [{ shape: [2, 3, 4] }] }));
test('Sigmoid, opset 13', () => gradcheck({ op: 'Sigmoid', opset: 13, inputs: [{ shape: [3, 5] }] }));

test.run();
