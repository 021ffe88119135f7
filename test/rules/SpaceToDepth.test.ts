import { test } from 'uvu';
import { gradcheck } from '../support/gradcheck';

test('SpaceToDepth, opset 13', () => gradcheck({ op: 'SpaceToDepth', opset: 13, inputs: [{ shape: [2, 3, 4, 6] }], attrs: { blocksize: 2 } }));
test('SpaceToDepth, opset 7', () => gradcheck({ op: 'SpaceToDepth', opset: 7, inputs: [{ shape: [1, 2, 3, 6] }], attrs: { blocksize: 3 } }));

test.run();
