import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { deeplift } from '../../rules/methods/deeplift';
import { gradcheck } from '../support/gradcheck';
import { sumcheck } from '../support/sumcheck';

// Kept 0.2 away from every jump (integers, halves, 0), so central differences see flat steps.
const data = [-1.7, -1.25, -0.7, 0.3, 0.75, 1.3, 1.7, 2.25, -2.3, 0.25, 1.2, -0.3];

for (const [op, opset] of [['Sign', 9], ['Round', 11], ['Floor', 9], ['Ceil', 13]] as const) {
  test(`${op}, opset ${opset}: zero gradient (central differences); DeepLIFT's rescale rule sums to delta`, async () => {
    await gradcheck({ op, opset, inputs: [{ shape: [3, 4], data }] });
    const a = await sumcheck(deeplift, { op, opset, inputs: [{ shape: [3, 4] }] });
    assert.ok(a.some((v) => v !== 0), `${op}: DeepLIFT attributes the steps taken between x⁰ and x`);
  });
}

test.run();
