import { test } from 'uvu';
import { gradcheck } from '../support/gradcheck';

test('Compress along axis 1 with a constant condition, opset 11', () =>
  gradcheck({ op: 'Compress', opset: 11, inputs: [{ shape: [1, 5, 2] }, { shape: [5], value: [1, 0, 1, 1, 0], bool: true }], attrs: { axis: 1 } }));
test('Compress along the last axis, condition shorter than the axis, opset 13', () =>
  gradcheck({ op: 'Compress', opset: 13, inputs: [{ shape: [2, 3, 4] }, { shape: [3], value: [0, 1, 1], bool: true }], attrs: { axis: -1 } }));
test('Compress without axis (the input flattened), opset 9', () =>
  gradcheck({ op: 'Compress', opset: 9, inputs: [{ shape: [1, 2, 3] }, { shape: [6], value: [1, 0, 0, 1, 1, 0], bool: true }] }));
// onnxruntime accepts a condition longer than the axis and ignores the entries past it.
test('Compress with a condition longer than the axis (the extra entries ignored), opset 13', () =>
  gradcheck({ op: 'Compress', opset: 13, inputs: [{ shape: [2, 3] }, { shape: [5], value: [1, 0, 1, 1, 1], bool: true }], attrs: { axis: 1 } }));

test.run();
