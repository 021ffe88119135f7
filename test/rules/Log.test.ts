import { test } from 'uvu';
import { gradcheck } from '../support/gradcheck';

test('Log, opset 8', () => gradcheck({ op: 'Log', opset: 8, inputs: [{ shape: [2, 3, 4], range: [0.5, 3] }] }));
test('Log, opset 13', () => gradcheck({ op: 'Log', opset: 13, inputs: [{ shape: [3, 5], range: [0.5, 3] }] }));

test.run();
