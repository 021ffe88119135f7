import { test } from 'uvu';
import { gradcheck } from '../support/gradcheck';

test('Transpose with perm, opset 13', () => gradcheck({ op: 'Transpose', opset: 13, inputs: [{ shape: [2, 3, 4, 5] }], attrs: { perm: [0, 2, 3, 1] } }));
test('Transpose default perm (reverse), opset 7', () => gradcheck({ op: 'Transpose', opset: 7, inputs: [{ shape: [2, 3, 4] }] }));

test.run();
