import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { float } from '../../rewriter/emitter';
import { Explainer } from '../../runtime';
import { gradcheck } from '../support/gradcheck';
import { rejects } from '../support/rejects';
import { tinyModel } from '../support/tiny-model';

const c = (v: number[]) => ({ shape: [v.length], value: v });
const params = [c([0.5, -1.2, 2]), c([0.1, 0.2, -0.3]), c([0.3, -0.1, 0.2]), c([0.8, 1.5, 0.2])];

test('BatchNormalization 2D, opset 15', () =>
  gradcheck({ op: 'BatchNormalization', opset: 15, inputs: [{ shape: [2, 3, 4, 5] }, ...params], attrs: { epsilon: float(1e-3) } }));
test('BatchNormalization on [N, C], opset 9', () =>
  gradcheck({ op: 'BatchNormalization', opset: 9, inputs: [{ shape: [4, 3] }, ...params] }));
test('BatchNormalization with spatial, opset 7', () =>
  gradcheck({ op: 'BatchNormalization', opset: 7, inputs: [{ shape: [1, 3, 4] }, ...params], attrs: { spatial: 1 } }));
test('BatchNormalization with training_mode 0, opset 14', () =>
  gradcheck({ op: 'BatchNormalization', opset: 14, inputs: [{ shape: [1, 3, 2, 2, 2] }, ...params], attrs: { training_mode: 0 } }));

// Training mode (torch.onnx's BatchNorm with track_running_stats=False, also in eval mode): each row normalised by
// its own statistics over axes 0, 2, … (the rows run one by one), against a float64 reference; opset 9 asks for it by
// its running-statistics outputs. DeepLIFT's contributions sum to the change of the output.
for (const [opset, outputs, attrs] of [[15, 3, { training_mode: 1 }], [9, 5, {}]] as [number, number, Record<string, number>][]) {
  test(`BatchNormalization in training mode (batch statistics), opset ${opset}: gradient, DeepLIFT and occlusion per row`, async () => {
    const [gamma, beta] = [[0.5, -1.2, 2], [0.1, 0.2, -0.3]];
    const model = tinyModel([3, 4], opset, (em, x) => {
      const y = em.opN('BatchNormalization', [x, em.constFloat(gamma, [3]), em.constFloat(beta, [3]), em.constFloat([0, 0, 0], [3]), em.constFloat([1, 1, 1], [3])], outputs, { ...attrs, epsilon: float(1e-3) })[0];
      return em.reduceSum(em.mul(em.op('Tanh', [y]), em.constFloat(Array.from({ length: 12 }, (_, k) => Math.cos(k)), [1, 3, 4])), [2], false);
    });
    const row = (x: number[]) => {
      // float64 forward of one row [3, 4]: output channel 1
      const c = 1;
      const v = x.slice(c * 4, c * 4 + 4);
      const mu = v.reduce((a, b) => a + b) / 4;
      const sd = Math.sqrt(v.reduce((a, b) => a + (b - mu) ** 2, 0) / 4 + 1e-3);
      return v.reduce((a, b, k) => a + Math.tanh(gamma[c] * (b - mu) / sd + beta[c]) * Math.cos(c * 4 + k), 0);
    };
    const data = Array.from({ length: 24 }, (_, i) => Math.sin(1.3 * i) * 2);
    const ex = await Explainer.load(model);
    const g = await ex.attribute({ data: Float32Array.from(data), dims: [2, 3, 4] }, { target: 1 });
    const h = 1e-5;
    const numeric = data.map((_, i) => {
      const r = Math.floor(i / 12);
      const at = (d: number) => row(data.slice(r * 12, r * 12 + 12).map((v, k) => (k === i % 12 ? v + d : v)));
      return (at(h) - at(-h)) / (2 * h);
    });
    const err = Math.max(...numeric.map((v, i) => Math.abs(v - g.attributions.data[i]))) / Math.max(...numeric.map(Math.abs));
    assert.ok(err < 1e-5, `gradient: max error ${err}`);
    const d = await ex.attribute({ data: Float32Array.from(data), dims: [2, 3, 4] }, { method: 'deeplift', target: 1 });
    [0, 1].forEach((r) => {
      const sum = Array.from(d.attributions.data.slice(r * 12, r * 12 + 12)).reduce((a, b) => a + b, 0);
      const delta = row(data.slice(r * 12, r * 12 + 12)) - row(Array(12).fill(0));
      assert.ok(Math.abs(sum - delta) < 1e-5 * Math.max(1, Math.abs(delta)), `DeepLIFT row ${r}: Σ ${sum} against ${delta}`);
    });
    // Occlusion's perturbed copies run apart too (batched together, their statistics mixed: 9 % off at opset 9).
    const o = await ex.attribute({ data: Float32Array.from(data), dims: [2, 3, 4] }, { method: 'occlusion', window: [1, 1], target: 1 });
    data.forEach((_, i) => {
      const r = Math.floor(i / 12);
      const own = data.slice(r * 12, r * 12 + 12);
      const want = row(own) - row(own.map((v, k) => (k === i % 12 ? 0 : v)));
      assert.ok(Math.abs(o.attributions.data[i] - want) < 1e-5, `occlusion of feature ${i}: ${o.attributions.data[i]} against ${want}`);
    });
  });
}

test('BatchNormalization in inference mode with its mean computed from the input is refused in one line', async () => {
  const model = tinyModel([3, 4], 15, (em, x) => em.op('BatchNormalization', [x, ...[[0.5, -1.2, 2], [0.1, 0.2, -0.3]].map((v) => em.constFloat(v, [3])), em.reduceMean(x, [0, 2], false), em.constFloat([1, 1, 1], [3])]));
  const ex = await Explainer.load(model);
  await rejects(() => ex.attribute({ data: new Float32Array(24).map((_, i) => Math.sin(i)), dims: [2, 3, 4] }, { target: 0 }), /statistics or affine parameters computed from the input are not supported$/);
});

test.run();
