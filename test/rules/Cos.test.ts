import { test } from 'uvu';
import { gradcheck } from '../support/gradcheck';

test('Cos, opset 7', () => gradcheck({ op: 'Cos', opset: 7, inputs: [{ shape: [2, 3, 4], range: [-40, 40] }] }));
test('Cos, opset 13', () => gradcheck({ op: 'Cos', opset: 13, inputs: [{ shape: [3, 5], range: [-4, 4] }] }));

test.run();
