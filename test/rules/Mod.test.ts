import { test } from 'uvu';
import { deeplift } from '../../rules/methods/deeplift';
import { Explainer } from '../../runtime';
import { gradcheck } from '../support/gradcheck';
import { rejects } from '../support/rejects';
import { sumcheck } from '../support/sumcheck';
import { tinyModel } from '../support/tiny-model';

// a = b·q with the fractional part of q at least 0.2 from 0 and 1: no jump within the step.
const b = [0.7, -1.3, 2.1, 0.9, -0.6, 1.7];
const a = b.map((v, i) => v * [2.5, -1.4, 0.3, 3.6, -2.7, 1.2][i]);

test('Mod (fmod) of two inputs, opset 13: dA = dY, dB = −dY·trunc(a/b)', () =>
  gradcheck({ op: 'Mod', opset: 13, attrs: { fmod: 1 }, inputs: [{ shape: [2, 3], data: a }, { shape: [2, 3], data: b }] }));
test('Mod (fmod) by a broadcast constant, opset 10', () =>
  gradcheck({ op: 'Mod', opset: 10, attrs: { fmod: 1 }, inputs: [{ shape: [2, 3], data: a.map((v) => v / 3) }, { shape: [3], value: [0.45, -0.7, 1.1] }] }));
test('DeepLIFT through Mod by a constant sums to delta', () =>
  sumcheck(deeplift, { op: 'Mod', opset: 13, attrs: { fmod: 1 }, inputs: [{ shape: [2, 3] }, { shape: [3], value: [0.45, -0.7, 1.1] }] }).then(() => undefined));
test('Mod of floats without fmod is refused in one line', async () => {
  const ex = await Explainer.load(tinyModel([3], 13, (em, x) => em.op('Mod', [x, em.scalar(0.5)], { fmod: 0 })));
  await rejects(() => ex.attribute({ data: new Float32Array(3), dims: [1, 3] }, { target: 0 }), /Mod/);
});

test.run();
