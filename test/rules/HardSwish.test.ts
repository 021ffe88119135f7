import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { gradcheck, onesSeedGradient } from '../support/gradcheck';

// ±0.25..±4.75 in steps of 0.75: every region, away from the kinks at ±3.
const data = Array.from({ length: 24 }, (_, i) => (i % 2 ? 1 : -1) * (0.25 + (i % 7) * 0.75));

test('HardSwish, opset 14', () => gradcheck({ op: 'HardSwish', opset: 14, inputs: [{ shape: [2, 3, 4], data }] }));
// At the kinks the middle piece's slope x/3 + 1/2 (torch.nn.functional.hardswish's backward, float64: 1.5 at 3,
// −0.5 at −3; 5/6 at 1).
test('HardSwish at the kinks x = ±3: the middle piece\'s slope, opset 14', async () => {
  const got = await onesSeedGradient({ op: 'HardSwish', opset: 14, inputs: [{ shape: [1, 3] }] }, [3, -3, 1]);
  [1.5, -0.5, 5 / 6].forEach((v, i) => assert.ok(Math.abs(got[i] - v) < 1e-6, `x[${i}]: ${got[i]} against ${v}`));
});

test.run();
