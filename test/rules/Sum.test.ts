import { test } from 'uvu';
import { gradcheck } from '../support/gradcheck';

test('Sum of two same-shaped inputs, opset 8', () => gradcheck({ op: 'Sum', opset: 8, inputs: [{ shape: [2, 3] }, { shape: [2, 3] }] }));
test('Sum of three broadcast inputs, opset 8', () =>
  gradcheck({ op: 'Sum', opset: 8, inputs: [{ shape: [2, 3, 4] }, { shape: [3, 1] }, { shape: [4] }] }));
test('Sum with a constant, opset 13', () =>
  gradcheck({ op: 'Sum', opset: 13, inputs: [{ shape: [2, 3] }, { shape: [3], value: [1, -2, 0.5] }] }));
test('Sum of one input, opset 13', () => gradcheck({ op: 'Sum', opset: 13, inputs: [{ shape: [2, 3] }] }));

test.run();
