import * as fs from 'fs';
import * as path from 'path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Emitter } from '../rewriter/emitter';
import { buildMaximization, MAXIMIZE_IO } from '../rewriter/maximize-graph';
import { DataType, encodeModel, ModelProto, valueInfo } from '../rewriter/proto';
import { lpNorm, totalVariation } from '../rewriter/regularizers';
import { Explainer, ExplainError } from '../runtime';
import { ortApi } from '../runtime/backend';
import { maximize } from '../runtime/drivers/maximize';
import { uniform } from '../runtime/random';
import { readNpy } from '../runtime/node/npy-file';
import { floatTensor } from '../runtime/tensors';
import { FIXTURES, relL2 } from './support/fixtures';
import { emittedNonNative } from './support/webgpu-native';
import { tinyModel } from './support/tiny-model';
import { twinCnn } from './support/twin-cnn';
import { runCli, tempDir } from './support/cli-harness';

const DIR = path.resolve(__dirname, '../../models/cdeepex');
const CLASSIFIER = path.join(DIR, 'clean', 'classifier.onnx');
const ref = (name: string) => Float32Array.from(readNpy(path.join(DIR, 'reference', `${name}.npy`)).data as Float32Array);

async function runGraph(model: ModelProto, feeds: Record<string, { data: Float32Array; dims: number[] }>): Promise<Record<string, Float32Array>> {
  const s = await ortApi().InferenceSession.create(encodeModel(model));
  const out = await s.run(Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, floatTensor(t.data, t.dims)])));
  return Object.fromEntries(Object.entries(out).map(([k, t]) => [k, t.data as Float32Array]));
}

const SHAPE = [2, 2, 5, 6];
const at = (n: number, c: number, i: number, j: number) => ((n * SHAPE[1] + c) * SHAPE[2] + i) * SHAPE[3] + j;

/** Mahendran & Vedaldi eq. 3 as a mean over the positions with both forward differences, in float64. */
function tvValue(x: Float64Array, row: number, beta: number): number {
  let s = 0;
  const [, C, H, W] = SHAPE;
  for (let c = 0; c < C; c++) for (let i = 0; i < H - 1; i++) for (let j = 0; j < W - 1; j++) {
    const dh = x[at(row, c, i, j + 1)] - x[at(row, c, i, j)];
    const dv = x[at(row, c, i + 1, j)] - x[at(row, c, i, j)];
    s += (dh * dh + dv * dv + 1e-8) ** (beta / 2);
  }
  return s / (C * (H - 1) * (W - 1));
}

function lpValue(x: Float64Array, row: number, p: number): number {
  const per = x.length / SHAPE[0];
  let s = 0;
  for (let k = row * per; k < (row + 1) * per; k++) s += Math.abs(x[k]) ** p;
  return s / per;
}

for (const [kind, exponent] of [['tv', 2], ['tv', 1], ['lp', 6], ['lp', 2], ['lp', 1.5]] as const) {
  test(`${kind} regulariser (exponent ${exponent}): value as the formula, gradient as float64 central differences`, async () => {
    const em = new Emitter(13);
    const r = kind === 'tv' ? totalVariation(em, 'x', SHAPE, [2, 3], exponent) : lpNorm(em, 'x', SHAPE, exponent);
    em.rename(r.value, 'value');
    em.rename(r.gradient, 'gradient');
    const model: ModelProto = {
      ir_version: 8, opset_import: [{ domain: '', version: 13 }],
      graph: { name: 'reg', node: em.nodes, initializer: em.initializers, input: [valueInfo('x', DataType.FLOAT, SHAPE)], output: [{ name: 'value' }, { name: 'gradient' }] },
    };
    const rand = uniform(kind === 'tv' ? 1 : 2);
    const x32 = Float32Array.from({ length: SHAPE.reduce((a, b) => a * b, 1) }, () => 2 * rand() - 1);
    const x = Float64Array.from(x32);
    const out = await runGraph(model, { x: { data: x32, dims: SHAPE } });
    const f = (v: Float64Array, row: number) => (kind === 'tv' ? tvValue(v, row, exponent) : lpValue(v, row, exponent));
    for (let row = 0; row < 2; row++) assert.ok(Math.abs(out.value[row] - f(x, row)) <= 1e-5 * (1 + f(x, row)), `value row ${row}`);
    const fd = new Float64Array(x.length);
    const per = x.length / 2;
    for (let k = 0; k < x.length; k++) {
      const h = 1e-6;
      const plus = Float64Array.from(x), minus = Float64Array.from(x);
      plus[k] += h;
      minus[k] -= h;
      fd[k] = (f(plus, Math.floor(k / per)) - f(minus, Math.floor(k / per))) / (2 * h);
    }
    assert.ok(relL2(out.gradient, fd) < 1e-4, `rel L2 ${relL2(out.gradient, fd)}`);
  });
}

test('maximisation graph: channel-mean objective with TV and Lp terms and its gradient match PyTorch autograd', async () => {
  const meta = JSON.parse(fs.readFileSync(path.join(DIR, 'meta.json'), 'utf8'));
  const ex = await Explainer.load(CLASSIFIER);
  const prepared = await ex.prepare([1, 16, 16]);
  const layer = meta.maximize_layer as string;
  const shape = prepared.facts.shapes.get(layer)!;
  const per = shape[2] * shape[3];
  const seed = new Float32Array(shape[1] * per);
  seed.fill(1 / per, meta.maximize_channel * per, (meta.maximize_channel + 1) * per);
  const model = buildMaximization({ view: prepared.view, facts: prepared.facts, input: 'input', at: layer, lp: { weight: 0.01, p: 6 }, tv: { weight: 0.1, beta: 2, axes: [2, 3] } });
  const out = await runGraph(model, { input: { data: ref('max_input'), dims: [1, 1, 16, 16] }, [MAXIMIZE_IO.seed]: { data: seed, dims: shape } });
  assert.ok(Math.abs(out[MAXIMIZE_IO.objective][0] - ref('max_objective')[0]) < 1e-5, `objective ${out[MAXIMIZE_IO.objective][0]} vs ${ref('max_objective')[0]}`);
  assert.ok(relL2(out[MAXIMIZE_IO.gradient], ref('max_grad')) < 1e-4, `rel L2 ${relL2(out[MAXIMIZE_IO.gradient], ref('max_grad'))}`);
  const withAdam = buildMaximization({ view: prepared.view, facts: prepared.facts, input: 'input', at: layer, lp: { weight: 0.01, p: 1.5 }, tv: { weight: 0.1, beta: 1, axes: [2, 3] }, adam: { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, box: { lo: { values: [0], dims: [1] }, hi: { values: [1], dims: [1] } } } });
  assert.equal(emittedNonNative(prepared.view.nodes, withAdam), [], 'emitted ops are WebGPU-native');
});

test('maximisation from noise reaches far more than any of 500 random inputs of the same range', async () => {
  const ex = await Explainer.load(CLASSIFIER);
  const rand = uniform(7);
  const randoms = { data: Float32Array.from({ length: 500 * 256 }, rand), dims: [500, 1, 16, 16] };
  const logits = (await ex.forward(randoms)).logits.data;
  for (const target of [3, 8]) {
    const best = Math.max(...Array.from({ length: 500 }, (_, r) => logits[r * 10 + target]));
    const r = await maximize(ex, { target, stages: 4, steps: 25 });
    assert.ok(r.image.data.every((v) => v >= 0 && v <= 1), 'the image stays in the box [0, 1]');
    const check = (await ex.forward(r.image)).logits.data[target];
    assert.ok(Math.abs(check - r.final) < 1e-3 * (1 + Math.abs(check)), 'reported activation = a forward of the image');
    assert.ok(r.final > 2 * best && r.final > best + 10, `logit ${target}: maximised ${r.final}, best of 500 random ${best}`);
  }
});

test('models before opset 11 (an MLP at opset 9, a Conv1d at opset 10): the box clamp needs no Clip attributes', async () => {
  for (const [name, opset] of [['mlp', 9], ['conv1d_onehot', 10]] as const) {
    const ex = await Explainer.load(path.join(FIXTURES, name, 'model.onnx'));
    assert.is(ex.view.opset, opset);
    const r = await maximize(ex, { target: 1, stages: 2, steps: 20, seed: 3 });
    assert.ok(r.image.data.every((v) => v >= 0 && v <= 1), `${name}: the image stays in the box [0, 1]`);
    const check = (await ex.forward(r.image))[ex.outputNames[0]].data[1];
    assert.ok(Math.abs(check - r.final) < 1e-4 * (1 + Math.abs(check)), `${name}: reported activation = a forward of the image`);
    assert.ok(r.final > r.activation[0], `${name}: the logit grew (${r.activation[0]} → ${r.final})`);
  }
});

test('a channels-last image model [N, H, W, 3] is maximised as its channels-first twin: the same image, transposed (stages, blur, TV, per-channel box)', async () => {
  const options = { target: 1, stages: 3, steps: 10, startSize: 8, tvWeight: 0.05, low: [0, -1, 0], high: [1, 1, 2], seed: 5 };
  const first = await maximize(await Explainer.load(twinCnn(false)), options);
  const last = await maximize(await Explainer.load(twinCnn(true)), options);
  const [h, w] = first.sizes[first.sizes.length - 1];
  assert.equal(first.image.dims, [1, 3, h, w]);
  assert.equal(last.image.dims, [1, h, w, 3]);
  assert.equal(last.sizes, first.sizes);
  let worst = 0;
  for (let c = 0; c < 3; c++) for (let i = 0; i < h * w; i++) worst = Math.max(worst, Math.abs(last.image.data[i * 3 + c] - first.image.data[c * h * w + i]));
  assert.ok(worst < 1e-5, `max difference ${worst}`);
  assert.ok(Math.abs(last.final - first.final) < 1e-4 * (1 + Math.abs(first.final)));
});

// low [0] with high per channel built both bounds' broadcast shape from low's length (onnxruntime
// refused the graph: 3 values in a [1, 1, 1, 1] constant), and drew every channel's noise under high[0].
test('a bound given once and the other per channel: the same image as both per channel; one stage runs --steps steps (it ran ×growth)', async () => {
  const ex = await Explainer.load(twinCnn(false));
  const options = { target: 1, stages: 1, steps: 6, startSize: 8, seed: 3 };
  const once = await maximize(ex, { ...options, low: [0], high: [1, 2, 3] });
  const both = await maximize(ex, { ...options, low: [0, 0, 0], high: [1, 2, 3] });
  assert.equal(once.objective.length, 6, 'one stage: --steps Adam steps');
  assert.equal(Array.from(once.image.data), Array.from(both.image.data));
  const plane = 8 * 8;
  for (let c = 0; c < 3; c++) {
    const first = both.image.data.subarray(c * plane, (c + 1) * plane);
    assert.ok(Math.max(...first) > 0.3 * (c + 1) && Math.max(...first) <= c + 1, `channel ${c} within its own box [0, ${c + 1}]`);
  }
  const fails = async (o: Record<string, unknown>, cause: RegExp) => {
    const e = await maximize(ex, { ...options, ...o }).then(() => undefined, (err: Error) => err);
    assert.ok(e instanceof Error && cause.test(e.message), `${JSON.stringify(o)}: ${e?.message}`);
  };
  // |x|^(p−1) is infinite at a pixel clamped to 0 (NaN at step 4, blamed on the weights); a side of 1 left TV dividing by 0 positions.
  await fails({ lpWeight: 0.1, p: 0.5 }, /^maximize: p 0\.5 must be a finite number ≥ 1$/);
  await fails({ tvWeight: 0.1, tvBeta: -1 }, /^maximize: tv-beta -1 must be a finite number > 0$/);
  await fails({ tvWeight: 0.1, startSize: 1 }, /^maximize: a stage's image side would be 1 pixels \(at least 2 for total variation/);
  await fails({ startSize: 0 }, /^maximize: a stage's image side would be 0 pixels/);
  // Stages 3 and 4 of 1·0.3 and 1·0.09 steps ran none: they only resized and blurred.
  await fails({ stages: 4, steps: 1, growth: 0.3 }, /^maximize: a stage would run no Adam step \(1 steps × growth 0\.3 per later stage rounds to 0\): raise --steps or --growth$/);
  // Taken and ignored (the image bit for bit the one without them): exponents without their term, what acts between stages in one stage.
  await fails({ p: 2 }, /^maximize: p 2 is the exponent of the Lp term, which lp-weight \(--lp-weight W > 0\) turns on$/);
  await fails({ tvWeight: 0, tvBeta: 1 }, /^maximize: tv-beta 1 is the exponent of the total variation term, which tv-weight/);
  await fails({ stages: 1, growth: 2 }, /^maximize: growth \(--growth\) acts between stages, and stages 1 has one$/);
  await fails({ stages: 1, blur: 3 }, /^maximize: blur \(--blur\) acts between stages, and stages 1 has one$/);
});

test('a model with a second input (a fed mask, int64): maximised with that input held as fed; the reported activation is a forward with it; the CLI takes --feed', async () => {
  // y = (Tanh(x·W) ⊙ Cast(mask))·V [N, 2]: a mask of zeros at half the features changes the optimum.
  const em = new Emitter(13, DataType.FLOAT, 'masked');
  const h = em.mul(em.op('Tanh', [em.matmul('x', em.constFloat(Array.from({ length: 16 }, (_, k) => Math.sin(k + 1)), [4, 4]))]), em.cast('mask', DataType.FLOAT));
  em.rename(em.matmul(h, em.constFloat([1, -1, 0.5, 2, -0.5, 1, 2, -2], [4, 2])), 'y');
  const model: ModelProto = {
    ir_version: 8, opset_import: [{ domain: '', version: 13 }],
    graph: { name: 'masked', node: em.nodes, initializer: em.initializers, input: [valueInfo('x', DataType.FLOAT, ['N', 4]), valueInfo('mask', DataType.INT64, ['N', 4])], output: [valueInfo('y', DataType.FLOAT, ['N', 2])] },
  };
  const ex = await Explainer.load(encodeModel(model));
  const mask = { data: BigInt64Array.from([1n, 0n, 1n, 0n]), dims: [1, 4] };
  const r = await maximize(ex, { target: 1, stages: 2, steps: 30, seed: 4, feeds: { mask } });
  const check = (await ex.forward(r.image, { mask }))[ex.outputNames[0]].data[1];
  assert.ok(Math.abs(check - r.final) < 1e-5 * (1 + Math.abs(check)), `reported activation ${r.final} = a forward of the image with the mask ${check}`);
  const unmasked = (await ex.forward(r.image, { mask: { data: BigInt64Array.from([1n, 1n, 1n, 1n]), dims: [1, 4] } }))[ex.outputNames[0]].data[1];
  assert.not.ok(Math.abs(unmasked - check) < 1e-3, 'the mask matters');
  const dir = tempDir('maximize-feed');
  const [file, maskFile] = [path.join(dir, 'masked.onnx'), path.join(dir, 'mask.json')];
  fs.writeFileSync(file, encodeModel(model));
  fs.writeFileSync(maskFile, '[[1, 0, 1, 0]]');
  const cli = await runCli(['maximize', file, '--target', '1', '--feed', `mask=${maskFile}`, '--stages', '2', '--steps', '30', '--seed', '4', '--range', '0,1', '--out', path.join(dir, 'img.npy')]);
  assert.is(cli.code, 0, cli.err.join('|'));
  assert.equal(cli.err, []);
  assert.equal(Array.from(readNpy(path.join(dir, 'img.npy')).data as Float32Array), Array.from(r.image.data));
});

test('one Explainer maximised with a second input fed at two widths: each call builds its own step graph (the cached one was for the first width, and onnxruntime refused the seed)', async () => {
  // y = [Relu(x·W), z]: the explained tensor's width follows z's.
  const em = new Emitter(13, DataType.FLOAT, 'widths');
  em.rename(em.concat([em.op('Relu', [em.matmul('x', em.constFloat(Array.from({ length: 12 }, (_, k) => Math.cos(k)), [4, 3]))]), 'z'], 1), 'y');
  const model = encodeModel({
    ir_version: 8, opset_import: [{ domain: '', version: 13 }],
    graph: { name: 'widths', node: em.nodes, initializer: em.initializers, input: [valueInfo('x', DataType.FLOAT, ['N', 4]), valueInfo('z', DataType.FLOAT, ['N', 'K'])], output: [{ name: 'y' }] },
  });
  const ex = await Explainer.load(model, { wrt: 'x' });
  const alone = await Explainer.load(model, { wrt: 'x' });
  const z = (k: number) => ({ data: Float32Array.from({ length: k }, (_, i) => i), dims: [1, k] });
  const options = { target: 0, stages: 1, steps: 20, seed: 2 };
  await maximize(ex, { ...options, feeds: { z: z(2) } });
  const wide = await maximize(ex, { ...options, feeds: { z: z(5) } });
  const fresh = await maximize(alone, { ...options, feeds: { z: z(5) } });
  assert.equal(Array.from(wide.image.data), Array.from(fresh.image.data));
  assert.equal(wide.final, fresh.final);
});

// A low above its high returned a constant image; a bare number, Infinity or a string as a bound failed with "undefined range values" or a NaN objective.
test('maximize\'s box: low and high are lists of finite numbers with low below high in every channel', async () => {
  const ex = await Explainer.load(CLASSIFIER);
  const refused = async (box: object, cause: RegExp) => {
    const e = await maximize(ex, { target: 0, stages: 1, steps: 1, ...box }).then(() => undefined, (err: Error) => err);
    assert.ok(e?.name === 'ExplainError' && cause.test(e.message), `${JSON.stringify(box)}: ${e?.message}`);
  };
  await refused({ low: [2], high: [1] }, /channel 0's range \[2, 1\] holds no image: low must be below high/);
  await refused({ high: 1 }, /high must be a list of finite numbers .*got 1$/);
  await refused({ high: [Infinity] }, /high must be a list of finite numbers/);
  await refused({ low: ['0'] }, /low must be a list of finite numbers/);
  await refused({ progress: 1 }, /progress must be a function/);
});

// Explainer.release() freed the loop's session under the running loop ("Session already disposed").
test('Explainer.release() during maximize releases its loop session after the loop: the result equals a run alone, and the next run builds the session again', async () => {
  const options = { target: 1, stages: 2, steps: 15, seed: 3 };
  const alone = await maximize(await Explainer.load(twinCnn(false)), options);
  const ex = await Explainer.load(twinCnn(false));
  const running = maximize(ex, { ...options, progress: (done: number) => { if (done === 3) void ex.release(); } });
  const during = await running;
  assert.equal(during.objective, alone.objective);
  assert.equal(during.image.data, alone.image.data);
  const again = await maximize(ex, options);
  assert.equal(again.objective, alone.objective);
});

test('Adam as Kingma & Ba (torch.optim.Adam, maximize): under a constant gradient w each step moves every value by lr·sign(w_i), so a linear logit rises by lr·Σ|w_i| per step', async () => {
  const w = [0.8, -1.5, 0.3, 2, -0.6, 1.1];
  const ex = await Explainer.load(tinyModel([6], 13, (em, x) => em.matmul(x, em.constFloat(w.flatMap((v) => [1, v]), [6, 2]))));
  const lr = 0.05;
  const r = await maximize(ex, { target: 1, stages: 1, steps: 5, lr, low: [-100], high: [100] });
  const rise = lr * w.reduce((s, v) => s + Math.abs(v), 0);
  r.objective.slice(1).forEach((v, k) => assert.ok(Math.abs(v - r.objective[k] - rise) < 1e-4 * rise, `step ${k + 1}: rose ${v - r.objective[k]}, Adam ${rise}`));
  // A vector is optimised as it is: image sizes and blur were taken and ignored.
  for (const [o, cause] of [[{ blur: 0 }, /^maximize: blur \(--blur\) smooths images; input 'x' \[-1,6\] is optimised as it is$/], [{ upscale: 1.5 }, /^maximize: upscale \(--upscale\) sizes an image of free height and width; input 'x' \[-1,6\] stays at its size$/], [{ startSize: 20 }, /startSize \(--start-size\) sizes an image of free height/]] as const) {
    const e = await maximize(ex, { target: 1, stages: 2, steps: 1, ...o }).then(() => undefined, (err: Error) => err);
    assert.ok(e instanceof ExplainError && cause.test(e.message), `${JSON.stringify(o)}: ${e?.message}`);
  }
});

test.run();
