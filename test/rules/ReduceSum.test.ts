import { test } from 'uvu';
import { gradcheck } from '../support/gradcheck';

const x = { shape: [2, 3, 4] };
const axes = (v: number[]) => ({ shape: [v.length], value: v, int64: true });

test('ReduceSum axes attribute, keepdims 1, opset 11', () => gradcheck({ op: 'ReduceSum', opset: 11, inputs: [x], attrs: { axes: [1] } }));
test('ReduceSum negative axes attribute, keepdims 0, opset 7', () => gradcheck({ op: 'ReduceSum', opset: 7, inputs: [x], attrs: { axes: [-1, 1], keepdims: 0 } }));
test('ReduceSum all axes, opset 11', () => gradcheck({ op: 'ReduceSum', opset: 11, inputs: [x], attrs: { keepdims: 0 } }));
test('ReduceSum axes input, keepdims 0, opset 13', () => gradcheck({ op: 'ReduceSum', opset: 13, inputs: [x, axes([2, 1])], attrs: { keepdims: 0 } }));
test('ReduceSum without axes, opset 13', () => gradcheck({ op: 'ReduceSum', opset: 13, inputs: [x] }));
test('ReduceSum empty axes with noop_with_empty_axes, opset 13', () =>
  gradcheck({ op: 'ReduceSum', opset: 13, inputs: [x, axes([])], attrs: { noop_with_empty_axes: 1 } }));

test.run();
