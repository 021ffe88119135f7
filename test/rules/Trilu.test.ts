import { test } from 'uvu';
import { gradcheck } from '../support/gradcheck';

const x = { shape: [2, 3, 4] };
const k = (v: number) => ({ shape: [], value: [v], int64: true });

test('Trilu upper, opset 14', () => gradcheck({ op: 'Trilu', opset: 14, inputs: [x] }));
test('Trilu lower with k = 1, opset 14', () => gradcheck({ op: 'Trilu', opset: 14, inputs: [x, k(1)], attrs: { upper: 0 } }));
test('Trilu upper with k = −1, opset 14', () => gradcheck({ op: 'Trilu', opset: 14, inputs: [x, k(-1)] }));

test.run();
