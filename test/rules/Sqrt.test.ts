import { test } from 'uvu';
import { gradcheck } from '../support/gradcheck';

test('Sqrt, opset 8', () => gradcheck({ op: 'Sqrt', opset: 8, inputs: [{ shape: [2, 3, 4], range: [0.5, 3] }] }));
test('Sqrt, opset 13', () => gradcheck({ op: 'Sqrt', opset: 13, inputs: [{ shape: [3, 5], range: [0.5, 3] }] }));

test.run();
