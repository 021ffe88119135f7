import { test } from 'uvu';
import { gradcheck } from '../support/gradcheck';

test('Mish, opset 18', () => gradcheck({ op: 'Mish', opset: 18, inputs: [{ shape: [2, 3, 4], range: [-5, 5] }] }));
test('Mish at large |x| (no overflow), opset 18', () => gradcheck({ op: 'Mish', opset: 18, inputs: [{ shape: [1, 4], data: [-60, -20, 20, 60] }] }));

test.run();
