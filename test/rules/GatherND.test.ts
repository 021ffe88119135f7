import { test } from 'uvu';
import { gradcheck } from '../support/gradcheck';

test('GatherND of slices, opset 11', () =>
  gradcheck({ op: 'GatherND', opset: 11, inputs: [{ shape: [1, 4, 3] }, { shape: [3, 2], value: [0, 1, 0, 3, 0, 1], int64: true }] }));
test('GatherND of elements with batch_dims 1 (last valid token), opset 12', () =>
  gradcheck({ op: 'GatherND', opset: 12, inputs: [{ shape: [2, 5, 3] }, { shape: [2, 1], value: [4, -2], int64: true }], attrs: { batch_dims: 1 } }));

test.run();
