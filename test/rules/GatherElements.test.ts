import { test } from 'uvu';
import { gradcheck } from '../support/gradcheck';

test('GatherElements along axis 1 with repeated and negative indices, opset 13', () =>
  gradcheck({ op: 'GatherElements', opset: 13, inputs: [{ shape: [1, 4, 3] }, { shape: [1, 2, 3], value: [0, 3, -1, 2, 2, 0], int64: true }], attrs: { axis: 1 } }));
test('GatherElements along the last axis, opset 11', () =>
  gradcheck({ op: 'GatherElements', opset: 11, inputs: [{ shape: [2, 3] }, { shape: [2, 2], value: [2, 0, 1, 1], int64: true }], attrs: { axis: -1 } }));

test.run();
