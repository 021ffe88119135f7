import { test } from 'uvu';
import { gradcheck } from '../support/gradcheck';

test('ReverseSequence batch-major, lengths 4 and 2 of 4 steps, opset 10', () =>
  gradcheck({ op: 'ReverseSequence', opset: 10, inputs: [{ shape: [2, 4, 3] }, { shape: [2], value: [4, 2], int64: true }], attrs: { batch_axis: 0, time_axis: 1 } }));
test('ReverseSequence time-major (the default axes), rank 4, opset 13', () =>
  gradcheck({ op: 'ReverseSequence', opset: 13, inputs: [{ shape: [5, 3, 2, 2] }, { shape: [3], value: [1, 5, 3], int64: true }] }));
test('ReverseSequence on [T, B] without feature axes, opset 17', () =>
  gradcheck({ op: 'ReverseSequence', opset: 17, inputs: [{ shape: [4, 2] }, { shape: [2], value: [3, 4], int64: true }] }));

test.run();
