import { test } from 'uvu';
import { gradcheck } from '../support/gradcheck';

test('Softplus, opset 8', () => gradcheck({ op: 'Softplus', opset: 8, inputs: [{ shape: [2, 3, 4] }] }));
test('Softplus, opset 13', () => gradcheck({ op: 'Softplus', opset: 13, inputs: [{ shape: [3, 5] }] }));

test.run();
