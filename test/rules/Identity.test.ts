import { test } from 'uvu';
import { gradcheck } from '../support/gradcheck';

test('Identity, opset 8', () => gradcheck({ op: 'Identity', opset: 8, inputs: [{ shape: [2, 3, 4] }] }));
test('Identity, opset 13', () => gradcheck({ op: 'Identity', opset: 13, inputs: [{ shape: [3, 5] }] }));

test.run();
