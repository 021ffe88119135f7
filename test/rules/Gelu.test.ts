import { test } from 'uvu';
import { gradcheck } from '../support/gradcheck';

test('Gelu (erf), opset 20', () => gradcheck({ op: 'Gelu', opset: 20, inputs: [{ shape: [2, 3, 4], range: [-4, 4] }] }));
test('Gelu approximate tanh, opset 20', () => gradcheck({ op: 'Gelu', opset: 20, inputs: [{ shape: [2, 3, 4], range: [-4, 4] }], attrs: { approximate: 'tanh' } }));

test.run();
