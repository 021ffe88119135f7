import * as fs from 'fs';
import * as path from 'path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Explainer } from '../runtime';
import { readNpy } from '../runtime/node/npy-file';
import { relL2 } from './support/fixtures';

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

test.run();
