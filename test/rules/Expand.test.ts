import { test } from 'uvu';
import { gradcheck } from '../support/gradcheck';

test('Expand to more axes, opset 8', () =>
  gradcheck({ op: 'Expand', opset: 8, inputs: [{ shape: [3, 1] }, { shape: [3], value: [2, 3, 4], int64: true }] }));
test('Expand broadcasting both ways, opset 13', () =>
  gradcheck({ op: 'Expand', opset: 13, inputs: [{ shape: [1, 4] }, { shape: [2], value: [3, 1], int64: true }] }));

test.run();
