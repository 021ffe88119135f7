import { test } from 'uvu';
import { gradcheck } from '../support/gradcheck';

test('CenterCropPad cropping H (odd difference) and padding W (odd difference), opset 18', () =>
  gradcheck({ op: 'CenterCropPad', opset: 18, inputs: [{ shape: [1, 2, 6, 4] }, { shape: [2], value: [3, 7], int64: true }], attrs: { axes: [2, 3] } }));
test('CenterCropPad over every axis (the batch kept), negative axes, opset 18', () =>
  gradcheck({ op: 'CenterCropPad', opset: 18, inputs: [{ shape: [1, 5, 5] }, { shape: [2], value: [8, 2], int64: true }], attrs: { axes: [-2, -1] } }));
test('CenterCropPad without axes, opset 21', () =>
  gradcheck({ op: 'CenterCropPad', opset: 21, inputs: [{ shape: [1, 7, 3] }, { shape: [3], value: [1, 4, 6], int64: true }] }));

test.run();
