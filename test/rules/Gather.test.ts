import { test } from 'uvu';
import { gradcheck } from '../support/gradcheck';

const ints = (dims: number[], v: number[]) => ({ shape: dims, value: v, int64: true });
const x = { shape: [2, 5, 3] };

test('Gather scalar index, opset 11', () => gradcheck({ op: 'Gather', opset: 11, inputs: [x, ints([], [-2])], attrs: { axis: 1 } }));
test('Gather 1-D indices with repeats on axis 0, opset 7', () => gradcheck({ op: 'Gather', opset: 7, inputs: [x, ints([3], [1, 0, 1])] }));
test('Gather 2-D indices on the last axis, opset 13', () =>
  gradcheck({ op: 'Gather', opset: 13, inputs: [x, ints([2, 2], [2, 0, -1, 2])], attrs: { axis: -1 } }));
test('Gather 2-D indices on a middle axis, opset 13', () =>
  gradcheck({ op: 'Gather', opset: 13, inputs: [x, ints([3, 2], [4, 0, 1, 1, 3, 2])], attrs: { axis: 1 } }));

test.run();
