import { test } from 'uvu';
import { deeplift } from '../../rules/methods/deeplift';
import { gradcheck } from '../support/gradcheck';
import { sumcheck } from '../support/sumcheck';

const x = { shape: [2, 3, 4, 5] };

test('GlobalLpPool p = 2, 3 and 1 (default 2), opset 9 and 13', async () => {
  await gradcheck({ op: 'GlobalLpPool', opset: 13, inputs: [x] });
  for (const p of [3, 1]) await gradcheck({ op: 'GlobalLpPool', opset: 9, inputs: [x], attrs: { p } });
});
test('GlobalLpPool of a 3-D input (one spatial axis)', () => gradcheck({ op: 'GlobalLpPool', opset: 13, inputs: [{ shape: [2, 3, 7] }], attrs: { p: 2 } }));
test('GlobalLpPool: DeepLIFT sums to delta (p = 2 and 3)', async () => {
  for (const p of [2, 3]) await sumcheck(deeplift, { op: 'GlobalLpPool', opset: 13, inputs: [x], attrs: { p } });
});

test.run();
