import { test } from 'uvu';
import { gradcheck } from '../support/gradcheck';

test('Mean of two same-shaped inputs, opset 8', () => gradcheck({ op: 'Mean', opset: 8, inputs: [{ shape: [2, 3] }, { shape: [2, 3] }] }));
test('Mean of three broadcast inputs, opset 8', () =>
  gradcheck({ op: 'Mean', opset: 8, inputs: [{ shape: [2, 3, 4] }, { shape: [3, 1] }, { shape: [4] }] }));
test('Mean with a constant, opset 13', () =>
  gradcheck({ op: 'Mean', opset: 13, inputs: [{ shape: [2, 3] }, { shape: [3], value: [1, -2, 0.5] }] }));
test('Mean of one input, opset 13', () => gradcheck({ op: 'Mean', opset: 13, inputs: [{ shape: [2, 3] }] }));

test.run();
