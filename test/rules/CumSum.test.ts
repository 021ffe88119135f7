import { test } from 'uvu';
import { gradcheck } from '../support/gradcheck';

const axis = (a: number) => ({ shape: [], value: [a], int64: true });
const x = { shape: [2, 3, 4] };

test('CumSum, opset 11', () => gradcheck({ op: 'CumSum', opset: 11, inputs: [x, axis(2)] }));
test('CumSum exclusive, negative axis, opset 14', () => gradcheck({ op: 'CumSum', opset: 14, inputs: [x, axis(-2)], attrs: { exclusive: 1 } }));
test('CumSum reverse, opset 14', () => gradcheck({ op: 'CumSum', opset: 14, inputs: [x, axis(1)], attrs: { reverse: 1 } }));
test('CumSum reverse exclusive, opset 14', () => gradcheck({ op: 'CumSum', opset: 14, inputs: [x, axis(2)], attrs: { reverse: 1, exclusive: 1 } }));

test.run();
