import { test } from 'uvu';
import { gradcheck } from '../support/gradcheck';

const x = { shape: [2, 3, 4] };

test('LogSoftmax default axis 1 over the flattened axes [1, 2], opset 11', () => gradcheck({ op: 'LogSoftmax', opset: 11, inputs: [x] }));
test('LogSoftmax axis 0 over all axes, opset 8', () => gradcheck({ op: 'LogSoftmax', opset: 8, inputs: [x], attrs: { axis: 0 } }));
test('LogSoftmax axis -1, opset 11', () => gradcheck({ op: 'LogSoftmax', opset: 11, inputs: [x], attrs: { axis: -1 } }));
test('LogSoftmax default axis -1, opset 13', () => gradcheck({ op: 'LogSoftmax', opset: 13, inputs: [x] }));
test('LogSoftmax axis 1 alone, opset 13', () => gradcheck({ op: 'LogSoftmax', opset: 13, inputs: [x], attrs: { axis: 1 } }));

test.run();
