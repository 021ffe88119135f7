import { test } from 'uvu';
import { gradcheck } from '../support/gradcheck';

test('Cast float to float, opset 8', () => gradcheck({ op: 'Cast', opset: 8, inputs: [{ shape: [2, 3, 4] }], attrs: { to: 1 } }));
test('Cast float to float, opset 13', () => gradcheck({ op: 'Cast', opset: 13, inputs: [{ shape: [3, 5] }], attrs: { to: 1 } }));

test.run();
