import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { deeplift } from '../../rules/methods/deeplift';
import { gradcheck } from '../support/gradcheck';
import { sumcheck } from '../support/sumcheck';

const cond = (shape: number[], value: number[]) => ({ shape, value, bool: true });

test('Where of two same-shaped inputs, opset 9', () =>
  gradcheck({ op: 'Where', opset: 9, inputs: [cond([2, 3], [1, 0, 0, 1, 1, 0]), { shape: [2, 3] }, { shape: [2, 3] }] }));
test('Where with a broadcast condition and broadcast inputs (gradients summed back), opset 16', () =>
  gradcheck({ op: 'Where', opset: 16, inputs: [cond([2, 1, 4], [1, 0, 1, 1, 0, 0, 1, 0]), { shape: [3, 1] }, { shape: [4] }] }));
test('Where with a constant second branch, opset 13', () =>
  gradcheck({ op: 'Where', opset: 13, inputs: [cond([3], [0, 1, 0]), { shape: [2, 3] }, { shape: [3], value: [0.5, -1, 2] }] }));

test('DeepLIFT through Where sums to delta and gives zero where the constant branch is selected', async () => {
  const mask = [1, 0, 1, 1, 0, 1];
  const a = await sumcheck(deeplift, { op: 'Where', opset: 13, inputs: [cond([2, 3], mask), { shape: [2, 3] }, { shape: [2, 3], value: [1, 2, 3, 4, 5, 6] }] });
  mask.forEach((m, i) => { if (!m) assert.is(a[i], 0, `element ${i} takes the constant branch`); });
});

test.run();
