import { test } from 'uvu';
import { gradcheck } from '../support/gradcheck';

const x = { shape: [2, 3, 4] };

test('ReduceMean axes attribute, keepdims 1, opset 13', () => gradcheck({ op: 'ReduceMean', opset: 13, inputs: [x], attrs: { axes: [1, 2] } }));
test('ReduceMean keepdims 0, opset 7', () => gradcheck({ op: 'ReduceMean', opset: 7, inputs: [x], attrs: { axes: [-1], keepdims: 0 } }));
test('ReduceMean all axes, keepdims 0, opset 11', () => gradcheck({ op: 'ReduceMean', opset: 11, inputs: [x], attrs: { keepdims: 0 } }));
test('ReduceMean axes input, opset 18', () =>
  gradcheck({ op: 'ReduceMean', opset: 18, inputs: [x, { shape: [1], value: [0], int64: true }], attrs: { keepdims: 0 } }));
test('ReduceMean empty axes with noop_with_empty_axes (the identity), opset 18', () =>
  gradcheck({ op: 'ReduceMean', opset: 18, inputs: [x, { shape: [0], value: [], int64: true }], attrs: { noop_with_empty_axes: 1 } }));

test.run();
