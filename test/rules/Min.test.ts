import { test } from 'uvu';
import { gradcheck } from '../support/gradcheck';

// Random inputs: ties have probability 0, and differences below the step h are rare enough to not matter here.
test('Min of two same-shaped inputs, opset 8', () => gradcheck({ op: 'Min', opset: 8, inputs: [{ shape: [2, 3] }, { shape: [2, 3] }] }));
test('Min of three broadcast inputs, opset 8', () =>
  gradcheck({ op: 'Min', opset: 8, inputs: [{ shape: [2, 1, 4] }, { shape: [3, 1] }, { shape: [4] }] }));
test('Min with a constant, opset 13', () =>
  gradcheck({ op: 'Min', opset: 13, inputs: [{ shape: [2, 3] }, { shape: [3], value: [1, -0.3, 0.5] }] }));
test('Min of one input, opset 13', () => gradcheck({ op: 'Min', opset: 13, inputs: [{ shape: [2, 3] }] }));

test.run();
