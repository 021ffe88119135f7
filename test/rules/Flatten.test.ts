import { test } from 'uvu';
import { gradcheck } from '../support/gradcheck';

test('Flatten default axis, opset 9', () => gradcheck({ op: 'Flatten', opset: 9, inputs: [{ shape: [2, 3, 4] }] }));
test('Flatten axis 0 and negative axis, opset 13', async () => {
  await gradcheck({ op: 'Flatten', opset: 13, inputs: [{ shape: [2, 3, 4] }], attrs: { axis: 0 } });
  await gradcheck({ op: 'Flatten', opset: 13, inputs: [{ shape: [2, 3, 4] }], attrs: { axis: -1 } });
});

test.run();
