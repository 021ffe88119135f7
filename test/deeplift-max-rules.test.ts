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

test.run();
