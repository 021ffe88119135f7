import * as fs from 'fs';
import * as path from 'path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CONSTRAINED_IO } from '../rewriter/contrast-graphs';
import { buildMaximization, MAXIMIZE_IO } from '../rewriter/maximize-graph';
import { Explainer } from '../runtime';
import { ortApi } from '../runtime/backend';
import { prepareContrastGraphs } from './support/contrast-graphs';
import { hostData } from '../runtime/drivers/loop-session';
import { readNpy } from '../runtime/node/npy-file';
import { floatTensor } from '../runtime/tensors';
import { encodeModel } from '../rewriter/proto';
import { oneLine, runCli, snapshot, tempDir } from './support/cli-harness';
import { relL2 } from './support/fixtures';

const DIR = path.resolve(__dirname, '../../models/cdeepex');
const D = path.join(DIR, 'clean', 'classifier.onnx');
const G = path.join(DIR, 'clean', 'generator.onnx');
const meta = JSON.parse(fs.readFileSync(path.join(DIR, 'meta.json'), 'utf8'));
const ref = (name: string) => { const a = readNpy(path.join(DIR, 'reference', `${name}.npy`)); return { data: Float32Array.from(a.data as Float32Array), dims: a.dims }; };
const tmp = tempDir('rewrite-loops');

type Feeds = Record<string, { data: Float32Array; dims: number[] }>;

/** A saved graph run by plain onnxruntime (no onnx-explain code between the file and the session). */
async function plainSession(file: string) {
  const s = await ortApi().InferenceSession.create(fs.readFileSync(file));
  return {
    inputs: s.inputNames, outputs: s.outputNames,
    run: async (feeds: Feeds) => {
      const out = await s.run(Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, floatTensor(t.data, t.dims)])));
      return Object.fromEntries(Object.entries(out).map(([k, t]) => [k, t.data as Float32Array]));
    },
  };
}

/** Largest |central difference − gradient·v| / (1 + |gradient·v|) over a few directions v (float32 objective, rows of `batch`). */
async function centralDifferences(objective: (x: Float32Array) => Promise<Float32Array>, x: Float32Array, gradient: Float32Array, batch: number, h: number): Promise<number> {
  const per = x.length / batch;
  let worst = 0;
  for (let k = 0; k < 4; k++) {
    const v = Float32Array.from(x, (_, i) => Math.sin(7 * i + k));
    const [plus, minus] = [await objective(x.map((xi, i) => xi + h * v[i])), await objective(x.map((xi, i) => xi - h * v[i]))];
    for (let row = 0; row < batch; row++) {
      const fd = (plus[row] - minus[row]) / (2 * h);
      const analytic = gradient.slice(row * per, (row + 1) * per).reduce((a, gi, i) => a + gi * v[row * per + i], 0);
      worst = Math.max(worst, Math.abs(fd - analytic) / (1 + Math.abs(analytic)));
    }
  }
  return worst;
}

test('rewrite --method maximize saves input → objective, activation, gradient: equal to PyTorch autograd, the driver\'s graph and central differences', async () => {
  const out = path.join(tmp, 'max.onnx');
  const r = await runCli(['rewrite', D, '--method', 'maximize', '--layer', meta.maximize_layer, '--channel', String(meta.maximize_channel), '--lp-weight', '0.01', '--p', '6', '--tv-weight', '0.1', '--tv-beta', '2', '--out', out]);
  assert.is(r.code, 0, r.err.join('|'));
  assert.equal(r.err, []);
  const s = await plainSession(out);
  assert.equal(s.inputs, ['input']);
  assert.equal(s.outputs, [MAXIMIZE_IO.objective, MAXIMIZE_IO.activation, MAXIMIZE_IO.gradient]);
  const x = ref('max_input');
  const got = await s.run({ input: x });
  assert.ok(Math.abs(got[MAXIMIZE_IO.objective][0] - ref('max_objective').data[0]) < 1e-5, `objective ${got[MAXIMIZE_IO.objective][0]} vs autograd ${ref('max_objective').data[0]}`);
  assert.ok(relL2(got[MAXIMIZE_IO.gradient], ref('max_grad').data) < 1e-4, 'gradient vs autograd');
  // The driver's form of the graph: the seed (1/(H·W) on the channel) fed as an input.
  const ex = await Explainer.load(D);
  const prepared = await ex.prepare([1, 16, 16]);
  const shape = prepared.facts.shapes.get(meta.maximize_layer)!;
  const per = shape[2] * shape[3];
  const seed = new Float32Array(shape[1] * per).fill(1 / per, meta.maximize_channel * per, (meta.maximize_channel + 1) * per);
  const driver = await ortApi().InferenceSession.create(encodeModel(buildMaximization({ view: prepared.view, facts: prepared.facts, input: 'input', at: meta.maximize_layer, lp: { weight: 0.01, p: 6 }, tv: { weight: 0.1, beta: 2, axes: [2, 3] } })));
  const fromDriver = await driver.run({ input: floatTensor(x.data, x.dims), [MAXIMIZE_IO.seed]: floatTensor(seed, shape) });
  assert.ok(Math.abs((fromDriver[MAXIMIZE_IO.objective].data as Float32Array)[0] - got[MAXIMIZE_IO.objective][0]) < 1e-6, 'objective as the driver graph');
  assert.ok(relL2(fromDriver[MAXIMIZE_IO.gradient].data as Float32Array, got[MAXIMIZE_IO.gradient]) < 1e-6, 'gradient as the driver graph');
  const worst = await centralDifferences(async (at) => (await s.run({ input: { data: at, dims: x.dims } }))[MAXIMIZE_IO.objective], x.data, got[MAXIMIZE_IO.gradient], 1, 1e-3);
  assert.ok(worst < 2e-2, `central differences: ${worst}`);
  // Two rows at once through attention (GPT-2's batched MatMuls took the built-in one-row seed for a batch of one): each row as alone.
  const gpt2 = path.resolve(__dirname, '../../models/text/gpt2_op14');
  const saved = path.join(tmp, 'max-gpt2.onnx');
  assert.is((await runCli(['rewrite', path.join(gpt2, 'model.onnx'), '--method', 'maximize', '--target', '0', '--shape', '1,8,16', '--out', saved])).code, 0);
  const g = await ortApi().InferenceSession.create(fs.readFileSync(saved));
  const [emb, ids, mask] = ['embedding', 'input_ids', 'attention_mask'].map((f) => readNpy(path.join(gpt2, `${f}.npy`)));
  const rows = (t: typeof emb, r0: number, r1: number, type: 'float32' | 'int64') => {
    const per = t.data.length / t.dims[0];
    return new (ortApi().Tensor)(type, t.data.slice(r0 * per, r1 * per) as Float32Array, [r1 - r0, ...t.dims.slice(1)]);
  };
  const run = async (r0: number, r1: number) => g.run({ [g.inputNames[0]]: rows(emb, r0, r1, 'float32'), input_ids: rows(ids, r0, r1, 'int64'), attention_mask: rows(mask, r0, r1, 'int64') });
  const [one, two, both] = [await run(0, 1), await run(1, 2), await run(0, 2)];
  for (const name of [MAXIMIZE_IO.objective, MAXIMIZE_IO.gradient]) {
    const apart = [...(one[name].data as Float32Array), ...(two[name].data as Float32Array)];
    assert.ok(relL2(both[name].data as Float32Array, apart) < 1e-6, `GPT-2, two rows: ${name}`);
  }
});

test('rewrite --method maximize takes --wrt and --feed as maximize does: the saved graph of a two-input model gives autograd\'s gradient of the logit with respect to the input optimised', async () => {
  const dir = path.resolve(__dirname, '../../models/multi/two_inputs');
  const out = path.join(tmp, 'max-two.onnx');
  // --wrt and --feed were "not read", where the refusal without them asked for them.
  const r = await runCli(['rewrite', path.join(dir, 'model.onnx'), '--method', 'maximize', '--target', '1', '--wrt', 'signal', '--feed', `tabular=${path.join(dir, 'tabular.npy')}`, '--out', out]);
  assert.is(r.code, 0, r.err.join('\n'));
  const s = await plainSession(out);
  assert.equal(s.inputs, ['signal', 'tabular']);
  const [signal, tabular, grad, logits] = ['signal', 'tabular', 'grad_signal', 'logits'].map((f) => { const a = readNpy(path.join(dir, `${f}.npy`)); return { data: Float32Array.from(a.data as Float32Array), dims: a.dims }; });
  const got = await s.run({ signal, tabular });
  // Row 0's target in the fixture is class 1 (meta.json): its float64 gradient and logit.
  const per = grad.data.length / grad.dims[0];
  assert.ok(relL2(got[MAXIMIZE_IO.gradient].subarray(0, per), grad.data.subarray(0, per)) < 1e-5, 'gradient of row 0');
  assert.ok(Math.abs(got[MAXIMIZE_IO.activation][0] - logits.data[1]) < 1e-5, `activation ${got[MAXIMIZE_IO.activation][0]} vs logit ${logits.data[1]}`);
});

test('rewrite --method cdeepex saves the composed D(G(z) + r) with ∂/∂z of the augmented Lagrangian: equal to autograd, the driver\'s session and central differences', async () => {
  const out = path.join(tmp, 'al.onnx');
  const r = await runCli(['rewrite', '--classifier', D, '--generator', G, '--method', 'cdeepex', '--out', out]);
  assert.is(r.code, 0, r.err.join('|'));
  const io = CONSTRAINED_IO;
  const s = await plainSession(out);
  assert.equal(s.inputs, ['z', 'residual', io.z0, io.classA, io.classB, io.others, io.lambda, io.rho, io.muA, io.muB]);
  assert.equal(s.outputs.slice(0, 2), [io.objective, io.gradient]);
  const feeds = (z: Float32Array): Feeds => ({
    z: { data: z, dims: [3, 12] }, residual: ref('residual'), [io.z0]: ref('z0'), [io.classA]: ref('class_a'), [io.classB]: ref('class_b'), [io.others]: ref('others'),
    [io.lambda]: ref('lambda'), [io.rho]: ref('rho'), [io.muA]: ref('mu_a'), [io.muB]: ref('mu_b'),
  });
  const z = ref('z').data;
  const got = await s.run(feeds(z));
  assert.ok(relL2(got[io.objective], ref('al_objective').data) < 1e-5, 'objective vs autograd');
  assert.ok(relL2(got[io.gradient], ref('al_grad').data) < 1e-4, 'gradient vs autograd');
  const logits = s.outputs[2];
  assert.ok(relL2(got[logits], ref('al_logits').data) < 1e-5, 'logits vs autograd');
  const g = await prepareContrastGraphs(await Explainer.load(D), await Explainer.load(G));
  const driven = await g.constrained.run(Object.fromEntries(Object.entries(feeds(z)).map(([k, t]) => [k, floatTensor(t.data, t.dims)])), [io.objective, io.gradient]);
  assert.ok(relL2(await hostData(driven[io.objective]), got[io.objective]) < 1e-6, 'objective as the driver session');
  assert.ok(relL2(await hostData(driven[io.gradient]), got[io.gradient]) < 1e-6, 'gradient as the driver session');
  // λ = 1, small ρ, no inequality terms: an O(10) objective, float32 rounding far below the change over h (see cdeepex.test).
  const smooth = (at: Float32Array): Feeds => ({ ...feeds(at), [io.lambda]: { data: Float32Array.of(1, 1, 1), dims: [3, 1] }, [io.rho]: { data: Float32Array.of(1e-3, 1e-3, 1e-3), dims: [3, 1] }, [io.others]: { data: new Float32Array(30), dims: [3, 10] } });
  const gradient = (await s.run(smooth(z)))[io.gradient];
  const worst = await centralDifferences(async (at) => (await s.run(smooth(at)))[io.objective], z, gradient, 3, 3e-4);
  assert.ok(worst < 2e-2, `central differences: ${worst}`);
});

test('rewrite for the loop methods: user mistakes are one-line errors and nothing is written', async () => {
  const out = path.join(tmp, 'bad.onnx');
  const before = snapshot([D, G]);
  for (const [args, pattern] of [
    [[D, '--method', 'maximize', '--out', out], /give --target K or --layer NAME/],
    [[D, '--method', 'maximize', '--target', '12', '--out', out], /target 12 is out of range/],
    [['--method', 'cdeepex', '--classifier', D, '--out', out], /--method cdeepex needs --generator/],
    [[D, '--method', 'xgems', '--classifier', D, '--generator', G, '--out', out], /unexpected argument/],
    [['--method', 'cdeepex', '--classifier', D, '--generator', G], /--out OBJ\.onnx is required/],
    [['--method', 'cdeepex', '--classifier', D, '--generator', G, '--out', D], /overwrite|same file|input/i],
  ] as const) {
    const r = await runCli(['rewrite', ...args]);
    assert.is(r.code, 1, `${args.join(' ')}: ${r.err.join('|')}`);
    assert.is(r.err.length, 1, r.err.join('|'));
    oneLine(r.err[0], args.join(' '));
    assert.match(r.err[0], pattern);
  }
  assert.not.ok(fs.existsSync(out));
  assert.equal(snapshot([D, G]), before);
});

test.run();
