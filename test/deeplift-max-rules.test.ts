import * as fs from 'fs';
import * as path from 'path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Explainer } from '../runtime';
import { readNpy } from '../runtime/node/npy-file';
import { relL2 } from './support/fixtures';
import { rng } from './support/gradcheck';
import { tinyModel } from './support/tiny-model';

const DIR = path.resolve(__dirname, '../../models/max-rules');
const meta = JSON.parse(fs.readFileSync(path.join(DIR, 'meta.json'), 'utf8'));
const tensor = (name: string) => { const a = readNpy(path.join(DIR, `${name}.npy`)); return { data: Float32Array.from(a.data as Float32Array), dims: a.dims }; };

for (const rule of ['deeplift', 'shapley'] as const) {
  test(`DeepLIFT max rule '${rule}' on overlapping, padded and ReLU-adjacent max pools matches the window-by-window float64 reference`, async () => {
    const ex = await Explainer.load(path.join(DIR, 'model.onnx'));
    const r = await ex.attribute(tensor('input'), { method: 'deeplift', target: meta.target, baseline: tensor('baseline'), maxpoolRule: rule });
    const err = relL2(r.attributions.data, tensor(rule).data);
    assert.ok(err < 1e-5, `rel L2 ${err}`);
    r.delta!.forEach((d, row) => assert.ok(Math.abs(d) < 1e-6, `row ${row}: delta ${d}`));
  });
}

test('the two max rules differ on this model (the reference winner takes δy in some windows)', () => {
  assert.ok(meta.windows_to_reference_winner > 0);
  assert.ok(relL2(tensor('deeplift').data, tensor('shapley').data) > 0.01);
});

// Selections whose winners on x or x⁰ need not have moved: TopK's later ranks (the reference's 2nd winner is x's
// unmoved 1st), a minimum under the shapley rule (x's winner unmoved). Contributions must still sum to f(x) − f(x⁰).
const topK = (largest: number) => tinyModel([3], 13, (em, x) => em.reduceSum(em.opN('TopK', [x, em.constInt([2])], 2, { axis: -1, largest })[0], [1]));
const reduceMin = tinyModel([4], 13, (em, x) => em.reduce('ReduceMin', x, [1]));
const cases: [string, Uint8Array, number[], number[]][] = [
  ['TopK k = 2', topK(1), [3, 1, 0.5], [3, 0, 5]],
  ['TopK k = 2, largest = 0', topK(0), [-3, -1, -0.5], [-3, 0, -5]],
  ['ReduceMin', reduceMin, [1, 2, 3, 4], [1, 0, 5, 5]],
];
for (const [name, model, x, x0] of cases) {
  test(`DeepLIFT through ${name} sums to f(x) − f(x⁰) under both max rules where a winner did not move, and on random rows with ties`, async () => {
    const ex = await Explainer.load(model);
    const r = rng(7);
    const tied = (n: number) => Array.from({ length: n }, () => Math.max(0, Math.round(r() * 6 - 2) / 2));
    const rows = [x, x0, ...Array.from({ length: 40 }, () => tied(x.length))];
    const f = (v: number[]) => {
      const sorted = [...v].sort((a, b) => (name === 'TopK k = 2' ? b - a : a - b));
      return name === 'ReduceMin' ? sorted[0] : sorted[0] + sorted[1];
    };
    for (const maxpoolRule of ['deeplift', 'shapley'] as const) {
      for (let i = 0; i < rows.length; i += 2) {
        const [a, b] = [rows[i], rows[i + 1]];
        const d = await ex.attribute({ data: Float32Array.from(a), dims: [1, a.length] }, { method: 'deeplift', baseline: { data: Float32Array.from(b), dims: [1, b.length] }, maxpoolRule, target: 0 });
        const sum = Array.from(d.attributions.data).reduce((s, v) => s + v, 0);
        assert.ok(Math.abs(sum - (f(a) - f(b))) < 1e-5, `${maxpoolRule}: x ${a}, x⁰ ${b}: Σ ${Array.from(d.attributions.data)} = ${sum} against ${f(a) - f(b)}`);
      }
    }
  });
}

// The shapley rule's shares, as its documentation gives them: x's winner gets max(y, y⁰) − y⁰ and x⁰'s winner
// y − max(y, y⁰); min in place of max for a minimum (TopK with largest = 0). Here y = 3 at position 1 and
// y⁰ = 5 at position 0 (negated for largest = 0): x's winner gets 0, x⁰'s −2 (+2 for the minimum).
for (const [largest, x, x0, expected] of [
  [1, [1, 3, 2], [5, 0, 0], [-2, 0, 0]],
  [0, [-1, -3, -2], [-5, 0, 0], [2, 0, 0]],
] as const) {
  test(`DeepLIFT max rule 'shapley' through TopK k = 1, largest = ${largest}: the winners' shares in closed form`, async () => {
    const ex = await Explainer.load(tinyModel([3], 13, (em, v) => em.opN('TopK', [v, em.constInt([1])], 2, { axis: -1, largest })[0]));
    const d = await ex.attribute({ data: Float32Array.from(x), dims: [1, 3] }, { method: 'deeplift', baseline: { data: Float32Array.from(x0), dims: [1, 3] }, maxpoolRule: 'shapley', target: 0 });
    assert.ok(Array.from(d.attributions.data).every((v, k) => Math.abs(v - expected[k]) < 1e-6), `attributions ${Array.from(d.attributions.data)}, expected ${expected}`);
  });
}

// Where the winner's δx is 0 the multiplier is the gradient on x's pass (DeepLIFT's limit; Captum's maxpool rule
// takes grad_input where |δx| < eps): h = (x₁ + x₂, x₃) keeps h₁ = 1.75 on both passes while x₁ and x₂ move by ∓1,
// so they get −1 and +1 (their shares of δh₁ = 0). With x⁰₃ = −1 h₁ wins on both passes (x₃ gets 0); with
// x⁰₃ = 2 the reference's winner is h₂ (x₃ gets δy = −0.25) and h₁ still wins on x. Captum 0.8's DeepLift in
// float64 on Linear + MaxPool1d gives both rows (captum_maxpool_limit.py in the mutation notes).
for (const maxpoolRule of ['deeplift', 'shapley'] as const) {
  test(`DeepLIFT max rule '${maxpoolRule}': an unmoved winner passes the gradient on x's pass to inputs that moved in opposite directions`, async () => {
    const ex = await Explainer.load(tinyModel([3], 13, (em, v) => em.reduce('ReduceMax', em.matmul(v, em.constFloat([1, 0, 1, 0, 0, 1], [3, 2])), [1])));
    for (const [x0, expected] of [[[1.5, 0.25, -1], [-1, 1, 0]], [[1.5, 0.25, 2], [-1, 1, -0.25]]]) {
      const d = await ex.attribute({ data: Float32Array.from([0.5, 1.25, 0]), dims: [1, 3] }, { method: 'deeplift', baseline: { data: Float32Array.from(x0), dims: [1, 3] }, maxpoolRule, target: 0 });
      assert.ok(Array.from(d.attributions.data).every((v, k) => Math.abs(v - expected[k]) < 1e-6), `x⁰ ${x0}: attributions ${Array.from(d.attributions.data)}, expected (Captum) ${expected}`);
    }
  });
}

// TopK's axis attribute left out (−1, ONNX's default): the reference's 2nd winner (position 0, unmoved) passes
// its share along that axis, to position 2 (δx = −4.5); f(x) − f(x⁰) = 4 − 8.
test('DeepLIFT through TopK k = 2 with its axis attribute left out sums to f(x) − f(x⁰) where a winner did not move', async () => {
  const ex = await Explainer.load(tinyModel([3], 13, (em, v) => em.reduceSum(em.opN('TopK', [v, em.constInt([2])], 2)[0], [1])));
  for (const maxpoolRule of ['deeplift', 'shapley'] as const) {
    const d = await ex.attribute({ data: Float32Array.from([3, 1, 0.5]), dims: [1, 3] }, { method: 'deeplift', baseline: { data: Float32Array.from([3, 0, 5]), dims: [1, 3] }, maxpoolRule, target: 0 });
    const sum = Array.from(d.attributions.data).reduce((a, v) => a + v, 0);
    assert.ok(Math.abs(sum - (4 - 8)) < 1e-5, `${maxpoolRule}: Σ ${Array.from(d.attributions.data)} = ${sum}, f(x) − f(x⁰) = −4`);
  }
});

test.run();
