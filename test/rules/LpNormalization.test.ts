import { test } from 'uvu';
import { gradcheck } from '../support/gradcheck';

test('LpNormalization p = 2, last axis, opset 13', () => gradcheck({ op: 'LpNormalization', opset: 13, inputs: [{ shape: [2, 3, 4] }] }));
test('LpNormalization p = 1, axis 1, opset 7', () => gradcheck({ op: 'LpNormalization', opset: 7, inputs: [{ shape: [2, 3, 4] }], attrs: { p: 1, axis: 1 } }));

test.run();
