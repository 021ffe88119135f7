import { test } from 'uvu';
import { gradcheck } from '../support/gradcheck';

const repeats = (v: number[]) => ({ shape: [v.length], value: v, int64: true });

test('Tile, opset 13', () => gradcheck({ op: 'Tile', opset: 13, inputs: [{ shape: [1, 3, 2] }, repeats([1, 2, 3])] }));
test('Tile with unit repeats, opset 7', () => gradcheck({ op: 'Tile', opset: 7, inputs: [{ shape: [2, 3] }, repeats([1, 1])] }));
test('Tile of the leading axis, opset 13', () => gradcheck({ op: 'Tile', opset: 13, inputs: [{ shape: [2, 3] }, repeats([2, 1])] }));

test.run();
