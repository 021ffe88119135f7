import { test } from 'uvu';
import { gradcheck } from '../support/gradcheck';

test('Unsqueeze axes attribute, opset 11', () => gradcheck({ op: 'Unsqueeze', opset: 11, inputs: [{ shape: [2, 3] }], attrs: { axes: [0, -1] } }));
test('Unsqueeze axes input, opset 13', () =>
  gradcheck({ op: 'Unsqueeze', opset: 13, inputs: [{ shape: [2, 3] }, { shape: [2], value: [1, 3], int64: true }] }));

test.run();
