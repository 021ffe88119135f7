import { test } from 'uvu';
import { gradcheck } from '../support/gradcheck';

const ints = (v: number[]) => ({ shape: [v.length], value: v, int64: true });

test('Reshape with 0 and -1, opset 13', () => gradcheck({ op: 'Reshape', opset: 13, inputs: [{ shape: [2, 3, 4] }, ints([0, -1, 2])] }));
test('Reshape to a flat vector, opset 7', () => gradcheck({ op: 'Reshape', opset: 7, inputs: [{ shape: [2, 3, 4] }, ints([24])] }));

test.run();
