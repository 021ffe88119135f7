import { test } from 'uvu';
import { gradcheck } from '../support/gradcheck';

test('Squeeze axes attribute, opset 11', () => gradcheck({ op: 'Squeeze', opset: 11, inputs: [{ shape: [2, 1, 3, 1] }], attrs: { axes: [1, -1] } }));
test('Squeeze without axes, opset 7', () => gradcheck({ op: 'Squeeze', opset: 7, inputs: [{ shape: [2, 1, 3, 1] }] }));
test('Squeeze axes input, opset 13', () =>
  gradcheck({ op: 'Squeeze', opset: 13, inputs: [{ shape: [2, 1, 3, 1] }, { shape: [1], value: [3], int64: true }] }));

test.run();
