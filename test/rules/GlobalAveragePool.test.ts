import { test } from 'uvu';
import { gradcheck } from '../support/gradcheck';

test('GlobalAveragePool 2D, opset 7', () => gradcheck({ op: 'GlobalAveragePool', opset: 7, inputs: [{ shape: [1, 3, 4, 5] }] }));
test('GlobalAveragePool 1D and 3D, opset 13', async () => {
  await gradcheck({ op: 'GlobalAveragePool', opset: 13, inputs: [{ shape: [2, 3, 7] }] });
  await gradcheck({ op: 'GlobalAveragePool', opset: 13, inputs: [{ shape: [1, 2, 3, 4, 2] }] });
});

test.run();
