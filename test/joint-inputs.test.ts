import * as fs from 'fs';
import * as ort from 'onnxruntime-node';
import * as path from 'path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DataType, encodeModel, makeTensor, valueInfo } from '../rewriter/proto';
import { Explainer, TensorData } from '../runtime';
import { integratedGradients } from '../rules/methods/integrated-gradients';
import { quadrature } from '../runtime/drivers/integrated-gradients-quadrature';
import { noisyCopies } from '../runtime/drivers/noise-tunnel';
import { readNpy } from '../runtime/node/npy-file';
import { cliFailsWith, runCli, tempDir, writeRawNpy } from './support/cli-harness';
import { relL2 } from './support/fixtures';
import { rejects } from './support/rejects';

/** models/make_multi_input.py: inputs signal [N,2,12] and tabular [N,5], PyTorch float64 references. */
const DIR = path.resolve(__dirname, '../../models/multi/two_inputs');
const MODEL = path.join(DIR, 'model.onnx');
const META = JSON.parse(fs.readFileSync(path.join(DIR, 'meta.json'), 'utf8'));
const read = (file: string): TensorData => {
  const a = readNpy(file);
  return { data: Float32Array.from(a.data as Float32Array), dims: a.dims };
};
const ref = (name: string): TensorData => read(path.join(DIR, `${name}.npy`));
const inputs = { signal: ref('signal'), tabular: ref('tabular') };
const baselines = { signal: ref('base_signal'), tabular: ref('base_tabular') };
const target: number[] = META.target;
const out = tempDir('joint');

const close = (got: TensorData, want: TensorData, tol: number, what: string) => {
  assert.equal(got.dims, want.dims, `${what}: dims`);
  const e = relL2(got.data, want.data);
  assert.ok(e < tol, `${what}: relative L2 error ${e}`);
};

const sum = (t: TensorData, row: number) => {
  const per = t.data.length / t.dims[0];
  return t.data.subarray(row * per, (row + 1) * per).reduce((a, v) => a + v, 0);
};

test('joint gradient (wrt all): one attribution per float input, equal to PyTorch autograd', async () => {
  const ex = await Explainer.load(MODEL, { wrt: 'all' });
  assert.equal(ex.explained.map((i) => i.name), ['signal', 'tabular']);
  const r = await ex.attribute(inputs, { target });
  close(r.inputAttributions!.signal, ref('grad_signal'), 1e-5, 'signal');
  close(r.inputAttributions!.tabular, ref('grad_tabular'), 1e-5, 'tabular');
  assert.is(r.attributions, r.inputAttributions!.signal);
  close(r.outputs.logits, ref('logits'), 1e-5, 'logits');
  // A list in the other order: the first named is the input given as the tensor, the other is fed.
  const listed = await Explainer.load(MODEL, { wrt: ['tabular', 'signal'] });
  const l = await listed.attribute(inputs.tabular, { target, feeds: { signal: inputs.signal } });
  close(l.inputAttributions!.signal, ref('grad_signal'), 1e-5, 'listed signal');
  close(l.attributions, ref('grad_tabular'), 1e-5, 'listed tabular');
});

test('gradient-based methods: joint attribution equals the method on each input with the other fed', async () => {
  // (LRP differs by design: with both factors of a product explained, relevance is shared between them.)
  const joint = await Explainer.load(MODEL, { wrt: 'all' });
  for (const method of ['gradient', 'saliency', 'input-x-gradient', 'guided-backprop', 'deconvnet']) {
    const r = await joint.attribute(inputs, { method, target });
    for (const [name, other] of [['signal', 'tabular'], ['tabular', 'signal']] as const) {
      const single = await (await Explainer.load(MODEL, { wrt: name })).attribute(inputs[name], { method, target, feeds: { [other]: inputs[other] } });
      close(r.inputAttributions![name], single.attributions, 1e-6, `${method} ${name}`);
    }
  }
});

test('joint DeepLIFT: Σ over both inputs of the attributions = f(x) − f(x⁰) of PyTorch (summation-to-delta)', async () => {
  const ex = await Explainer.load(MODEL, { wrt: 'all' });
  const explained = ref('explained').data;
  for (const zero of [false, true]) {
    const r = await ex.attribute(inputs, { method: 'deeplift', target, baselines: zero ? undefined : baselines });
    target.forEach((_, row) => {
      const total = sum(r.inputAttributions!.signal, row) + sum(r.inputAttributions!.tabular, row);
      assert.ok(Math.abs(r.delta![row]) <= 1e-5 * Math.max(1, Math.abs(total)), `delta ${r.delta![row]}`);
      if (!zero) assert.ok(Math.abs(total - explained[row]) <= 1e-5, `row ${row}: Σ ${total} vs f(x) − f(x⁰) ${explained[row]}`);
    });
  }
  // The baseline of the first input may be given as `baseline`, the others by name.
  const r = await ex.attribute(inputs, { method: 'deeplift', target, baseline: baselines.signal, baselines: { tabular: baselines.tabular } });
  target.forEach((_, row) => assert.ok(Math.abs(sum(r.inputAttributions!.signal, row) + sum(r.inputAttributions!.tabular, row) - explained[row]) <= 1e-5));
});

test('DeepLIFT of one input with the other fed, zero baseline: sums to delta (the fed rows meet the reference pass in a Concat, which does not broadcast one reference row)', async () => {
  for (const [name, other] of [['signal', 'tabular'], ['tabular', 'signal']] as const) {
    const ex = await Explainer.load(MODEL, { wrt: name });
    const r = await ex.attribute(inputs[name], { method: 'deeplift', target, feeds: { [other]: inputs[other] } });
    r.delta!.forEach((d, row) => assert.ok(Math.abs(d) <= 1e-5 * Math.max(1, Math.abs(sum(r.attributions, row))), `${name}, row ${row}: delta ${d}`));
  }
});

test('joint DeepLIFT and IG with one input\'s baseline per row and the other\'s one row or default: one reference batch, Σ = f(x) − f(x⁰) of plain forwards', async () => {
  const ex = await Explainer.load(MODEL, { wrt: 'all' });
  const n = target.length;
  const tabularRow = { data: baselines.tabular.data.slice(0, 5), dims: [1, 5] };
  const at = async (signal: TensorData, tabular: TensorData) => (await ex.forward({ signal, tabular }))[ex.outputNames[0]];
  const fx = await at(inputs.signal, inputs.tabular);
  const zeros = { data: new Float32Array(n * 5), dims: [n, 5] };
  const repeated = { data: Float32Array.from({ length: n * 5 }, (_, i) => tabularRow.data[i % 5]), dims: [n, 5] };
  const signalRows = { data: inputs.signal.data.map((v, i) => 0.5 * v + 0.01 * (i % 7)), dims: inputs.signal.dims };
  for (const [given, tabular] of [[{ tabular: tabularRow }, repeated], [{}, zeros]] as [Record<string, TensorData>, TensorData][]) {
    const f0 = await at(signalRows, tabular);
    const per = fx.data.length / n;
    for (const [method, extra] of [['deeplift', {}], ['integrated-gradients', { steps: 64 }]] as [string, object][]) {
      const r = await ex.attribute(inputs, { method, target, baselines: { signal: signalRows, ...given }, ...extra });
      target.forEach((t, row) => {
        const total = sum(r.inputAttributions!.signal, row) + sum(r.inputAttributions!.tabular, row);
        const want = fx.data[row * per + t] - f0.data[row * per + t];
        assert.ok(Math.abs(total - want) <= (method === 'deeplift' ? 1e-5 : 1e-3) * Math.max(1, Math.abs(want)), `${method} row ${row}: Σ ${total} vs ${want}`);
      });
    }
  }
});

test('joint attribution with numbers as baselines: an unnamed number is every explained input\'s, a named one that input\'s (API and CLI)', async () => {
  const ex = await Explainer.load(MODEL, { wrt: 'all' });
  const row = (v: number, dims: number[]) => ({ data: new Float32Array(dims.reduce((a, d) => a * d, 1)).fill(v), dims });
  const explicit = await ex.attribute(inputs, { method: 'deeplift', target, baselines: { signal: row(0.2, [1, 2, 12]), tabular: row(0.2, [1, 5]) } });
  const scalar = await ex.attribute(inputs, { method: 'deeplift', target, baseline: 0.2 });
  for (const name of ['signal', 'tabular']) close(scalar.inputAttributions![name], explicit.inputAttributions![name], 1e-6, `baseline 0.2: ${name}`);
  const mixed = await ex.attribute(inputs, { method: 'deeplift', target, baseline: 0.2, baselines: { tabular: 0.3 } });
  const want = await ex.attribute(inputs, { method: 'deeplift', target, baselines: { signal: row(0.2, [1, 2, 12]), tabular: row(0.3, [1, 5]) } });
  close(mixed.inputAttributions!.tabular, want.inputAttributions!.tabular, 1e-6, 'tabular=0.3');
  const cli = await runCli(['attribute', MODEL, '--wrt', 'all', '--input', path.join(DIR, 'signal.npy'), '--feed', `tabular=${path.join(DIR, 'tabular.npy')}`, '--method', 'deeplift', '--target', target.join(','), '--baseline', '0.2,tabular=0.3', '--out', path.join(out, 'numbers.npy')]);
  assert.is(cli.code, 0, cli.err.join('|'));
  close(read(path.join(out, 'numbers.tabular.npy')), want.inputAttributions!.tabular, 1e-6, 'CLI --baseline tabular=0.3');
});

test('joint integrated gradients: each input on its own path, equal to the PyTorch Riemann sum; delta over both; chunked runs agree', async () => {
  const ex = await Explainer.load(MODEL, { wrt: 'all' });
  const options = { method: 'integrated-gradients', igMethod: META.ig_method, steps: META.ig_steps, target, baselines };
  const explained = ref('explained').data;
  for (const internalBatchSize of [undefined, 5]) {
    const r = await ex.attribute(inputs, { ...options, internalBatchSize });
    close(r.inputAttributions!.signal, ref('ig_signal'), 1e-5, 'signal');
    close(r.inputAttributions!.tabular, ref('ig_tabular'), 1e-5, 'tabular');
    const igS = ref('ig_signal');
    const igT = ref('ig_tabular');
    target.forEach((_, row) => {
      const want = sum(igS, row) + sum(igT, row) - explained[row];
      assert.ok(Math.abs(r.delta![row] - want) < 1e-5, `row ${row}: delta ${r.delta![row]} vs ${want}`);
    });
  }
});

test('integrated gradients with the other input fed run batched (one run) and equal an explicit sum of gradients at the same α', async () => {
  const ex = await Explainer.load(MODEL, { wrt: 'signal' });
  const steps = 6;
  const { alphas, weights } = quadrature('gausslegendre', steps);
  const base = baselines.signal.data;
  const per = 24;
  const points = new Float32Array(3 * steps * per);
  for (let r = 0; r < 3; r++) for (let k = 0; k < steps; k++) for (let i = 0; i < per; i++) {
    points[(r * steps + k) * per + i] = base[i] + alphas[k] * (inputs.signal.data[r * per + i] - base[i]);
  }
  const tabular = new Float32Array(3 * steps * 5);
  for (let r = 0; r < 3; r++) for (let k = 0; k < steps; k++) tabular.set(inputs.tabular.data.subarray(r * 5, r * 5 + 5), (r * steps + k) * 5);
  const g = await ex.attribute({ data: points, dims: [3 * steps, 2, 12] }, { target: target.flatMap((t) => Array(steps).fill(t)), feeds: { tabular: { data: tabular, dims: [3 * steps, 5] } } });
  const want = new Float32Array(3 * per);
  for (let r = 0; r < 3; r++) for (let k = 0; k < steps; k++) for (let i = 0; i < per; i++) {
    want[r * per + i] += weights[k] * g.attributions.data[(r * steps + k) * per + i] * (inputs.signal.data[r * per + i] - base[i]);
  }
  const totals: number[] = [];
  const r = await ex.attribute(inputs.signal, { method: 'integrated-gradients', steps, target, baseline: baselines.signal, feeds: { tabular: inputs.tabular }, progress: (_, total) => totals.push(total) });
  close(r.attributions, { data: want, dims: [3, 2, 12] }, 1e-5, 'signal');
  assert.equal(totals, [1], 'all rows and points in one run');
  // Explaining tabular, the fed signal's Conv features are repeated over the points, not computed again per point.
  const tab = await Explainer.load(MODEL, { wrt: 'tabular' });
  const { model } = await tab.augmented([5], { target, feeds: { signal: inputs.signal } }, { method: integratedGradients, path: { steps } });
  assert.is(model.graph!.node!.filter((n) => n.op_type === 'Conv').length, 1, 'one Conv: the fed branch runs once');
});

test('joint noise tunnel: smoothgrad of each input equals the mean of joint gradients at the seeded noisy copies of both inputs', async () => {
  const ex = await Explainer.load(MODEL, { wrt: 'all' });
  const samples = 4;
  const r = await ex.attribute(inputs, { target, noiseTunnel: 'smoothgrad', samples, noiseStd: 0.2, seed: 3 });
  const noisy = { signal: noisyCopies(inputs.signal, samples, 0.2, 3), tabular: noisyCopies(inputs.tabular, samples, 0.2, 3, 1) };
  const g = await ex.attribute({ signal: { data: noisy.signal, dims: [12, 2, 12] }, tabular: { data: noisy.tabular, dims: [12, 5] } }, { target: target.flatMap((t) => Array(samples).fill(t)) });
  for (const name of ['signal', 'tabular'] as const) {
    const per = inputs[name].data.length / 3;
    const mean = new Float32Array(3 * per);
    g.inputAttributions![name].data.forEach((v, i) => { mean[Math.floor(i / (samples * per)) * per + (i % per)] += v / samples; });
    close(r.inputAttributions![name], { data: mean, dims: inputs[name].dims }, 1e-6, name);
  }
});

test('rewrite --wrt all saves one graph: attribution:<input> outputs, baseline:<input> inputs, its run equals the API', async () => {
  const file = path.join(out, 'joint-deeplift.onnx');
  const run = await runCli(['rewrite', MODEL, '--wrt', 'all', '--method', 'deeplift', '--out', file, '--shape', '3,2,12']);
  assert.is(run.code, 0, run.err.join('\n'));
  const session = await ort.InferenceSession.create(file);
  assert.equal(session.inputNames, ['signal', 'tabular', 'seed', 'baseline:signal', 'baseline:tabular']);
  assert.ok(session.outputNames.includes('attribution:signal') && session.outputNames.includes('attribution:tabular') && session.outputNames.includes('delta'));
  const seed = new Float32Array(12);
  target.forEach((t, row) => { seed[row * 4 + t] = 1; });
  const t = (d: TensorData) => new ort.Tensor('float32', d.data, d.dims);
  const got = await session.run({ signal: t(inputs.signal), tabular: t(inputs.tabular), seed: new ort.Tensor('float32', seed, [3, 4]), 'baseline:signal': t(baselines.signal), 'baseline:tabular': t(baselines.tabular) });
  const api = await (await Explainer.load(MODEL, { wrt: 'all' })).attribute(inputs, { method: 'deeplift', target, baselines });
  close({ data: got['attribution:signal'].data as Float32Array, dims: [...got['attribution:signal'].dims] }, api.inputAttributions!.signal, 1e-6, 'signal');
  close({ data: got['attribution:tabular'].data as Float32Array, dims: [...got['attribution:tabular'].dims] }, api.inputAttributions!.tabular, 1e-6, 'tabular');
});

test('export-triton --wrt all: the repository model and config carry every input\'s attribution and baseline', async () => {
  const repo = path.join(out, 'triton');
  const run = await runCli(['export-triton', MODEL, '--wrt', 'all', '--method', 'deeplift', '--out', repo, '--name', 'joint', '--shape', '1,2,12']);
  assert.is(run.code, 0, run.err.join('\n'));
  const config = fs.readFileSync(path.join(repo, 'joint', 'config.pbtxt'), 'utf8');
  for (const name of ['attribution:signal', 'attribution:tabular', 'baseline:signal', 'baseline:tabular', 'delta']) assert.ok(config.includes(`name: "${name}"`), `${name} in\n${config}`);
});

test('CLI --wrt all writes OUT.<input>.npy per input and prints them; per-input baselines by name', async () => {
  const o = path.join(out, 'ig.npy');
  const run = await runCli(['attribute', MODEL, '--wrt', 'signal', '--wrt', 'tabular', '--input', path.join(DIR, 'signal.npy'), '--feed', `tabular=${path.join(DIR, 'tabular.npy')}`,
    '--method', 'integrated-gradients', '--ig-method', META.ig_method, '--steps', String(META.ig_steps), '--target', target.join(','),
    '--baseline', `signal=${path.join(DIR, 'base_signal.npy')},tabular=${path.join(DIR, 'base_tabular.npy')}`, '--out', o, '--no-cache']);
  assert.is(run.code, 0, run.err.join('\n'));
  for (const name of ['signal', 'tabular']) {
    const file = path.join(out, `ig.${name}.npy`);
    assert.ok(run.out.includes(`wrote ${file} (attributions to input '${name}')`), run.out.join('\n'));
    assert.ok(run.out.some((l) => l.startsWith(`attribution (integrated-gradients to input '${name}'): shape`)), run.out.join('\n'));
    const a = readNpy(file);
    close({ data: a.data as Float32Array, dims: a.dims }, ref(`ig_${name}`), 1e-5, name);
  }
  assert.not.ok(fs.existsSync(o));
  assert.is(run.out.filter((l) => /convergence delta/.test(l)).length, 3);
});

test('non-finite results are traced with every input fed: to the model on the inputs, or on the baselines of joint attribution', async () => {
  // y = Gemm(Log(b) + a, W): Log(0) = −∞.
  const model = encodeModel({
    ir_version: 8,
    opset_import: [{ domain: '', version: 13 }],
    graph: {
      name: 'log-input',
      node: [
        { op_type: 'Log', input: ['b'], output: ['lb'], name: 'log_b' },
        { op_type: 'Add', input: ['lb', 'a'], output: ['h'], name: 'add' },
        { op_type: 'Gemm', input: ['h', 'W'], output: ['y'], name: 'gemm', attribute: [{ name: 'transB', type: 2, i: 1 }] },
      ],
      initializer: [makeTensor('W', [2, 3], [0.5, -1, 2, 1.5, 0.25, -0.75], DataType.FLOAT)],
      input: [valueInfo('a', DataType.FLOAT, ['N', 3]), valueInfo('b', DataType.FLOAT, ['N', 3])],
      output: [valueInfo('y', DataType.FLOAT, ['N', 2])],
    },
  });
  const a = { data: Float32Array.from([1, 2, 3]), dims: [1, 3] };
  const fails = async (run: Promise<unknown>, cause: RegExp) => {
    const err = await run.then(() => undefined, (e: Error) => e);
    assert.ok(err instanceof Error, 'expected an error');
    assert.match(err!.message, cause);
    assert.not.match(err!.message, /\n/);
  };
  const single = await Explainer.load(model, { wrt: 'a' });
  await fails(single.attribute(a, { target: 0, feeds: { b: { data: Float32Array.from([1, 0, 2]), dims: [1, 3] } } }), /non-finite values: the model's .*log_b.* for this input/);
  const joint = await Explainer.load(model, { wrt: 'all' });
  await fails(joint.attribute({ a, b: { data: Float32Array.from([1, 3, 2]), dims: [1, 3] } }, { target: 0, method: 'deeplift' }), /non-finite values: the model's .*log_b.* for the baseline/);
});

test('joint attribution: one-line errors for what attributes to one tensor and for unknown names', async () => {
  const x = path.join(DIR, 'signal.npy');
  const protect = [MODEL, x];
  await cliFailsWith(['attribute', MODEL, '--wrt', 'all', '--input', x, '--method', 'occlusion', '--window', '1,3'], /method 'occlusion' attributes to one tensor; explain one input with --wrt NAME/, protect);
  await cliFailsWith(['attribute', MODEL, '--wrt', 'all', '--input', x, '--layer', '/Relu_output_0'], /--layer attributes to one tensor/, protect);
  await cliFailsWith(['attribute', MODEL, '--wrt', 'signal,nope', '--input', x], /--wrt nope: the model has no input named 'nope'/, protect);
  await cliFailsWith(['attribute', MODEL, '--wrt', 'all', '--input', x, '--out', path.join(out, 'f.png')], /a figure shows one input; save joint attributions as \.npy/, protect);
  await cliFailsWith(['attribute', MODEL, '--wrt', 'all', '--input', x, '--method', 'deeplift', '--baseline', 'other=b.npy'], /--baseline: 'other=b.npy' is not NAME=FILE for an explained input \(signal, tabular\)/, protect);
  // A file whose name holds '=' is that file: the first input's baseline.
  const odd = path.join(out, 'signal=copy.npy');
  fs.copyFileSync(x, odd);
  const named = await runCli(['attribute', MODEL, '--wrt', 'all', '--input', x, '--feed', `tabular=${path.join(DIR, 'tabular.npy')}`, '--method', 'deeplift', '--baseline', odd]);
  assert.is(named.code, 0, named.err.join('|'));
  await cliFailsWith(['attribute', MODEL, '--input', x], /several float inputs \('signal', 'tabular'\); choose the one to explain with --wrt NAME \(or all of them jointly with --wrt all\)/, protect);
  await cliFailsWith(['attribute', MODEL, '--wrt', 'all', '--input', x], /input 'tabular' is explained jointly: give it with --feed tabular=FILE/, protect);
  // NAME=FILE on --input and --baseline (the file exists: the model's input names the wrong one).
  const tab = path.join(DIR, 'tabular.npy');
  await cliFailsWith(['attribute', MODEL, '--wrt', 'signal', '--input', `tabular=${tab}`], /--input tabular=.*: 'tabular' is not the explained input \('signal'\): feed it with --feed tabular=FILE, or explain it with --wrt tabular \(jointly: --wrt signal,tabular\)$/, [...protect, tab]);
  await cliFailsWith(['attribute', MODEL, '--wrt', 'signal', '--input', x, '--feed', `tabular=${tab}`, '--method', 'deeplift', '--baseline', `tabular=${tab}`], /--baseline tabular=.*: 'tabular' is not the explained input/, [...protect, tab]);
  await cliFailsWith(['attribute', MODEL, '--wrt', 'all', '--input', `tabular=${tab}`, '--feed', `tabular=${tab}`], /--input tabular=.*: --input gives 'signal', the first explained input; --feed tabular=FILE the others/, [...protect, tab]);
});

test('CLI: --input NAME=FILE and --baseline NAME=FILE name the explained input (the same numbers as the bare files); the API\'s forward takes inputs by name as attribute does', async () => {
  const [x, tab, b] = ['signal', 'tabular', 'base_signal'].map((f) => path.join(DIR, `${f}.npy`));
  const args = (input: string, baseline: string, file: string) => ['attribute', MODEL, '--wrt', 'signal', '--input', input, '--feed', `tabular=${tab}`, '--method', 'deeplift', '--baseline', baseline, '--target', target.join(','), '--out', path.join(out, file)];
  const bare = await runCli(args(x, b, 'bare.npy'));
  const named = await runCli(args(`signal=${x}`, `signal=${b}`, 'named.npy'));
  assert.equal([bare.code, named.code], [0, 0], [...bare.err, ...named.err].join('\n'));
  assert.equal(Array.from(readNpy(path.join(out, 'named.npy')).data as Float32Array), Array.from(readNpy(path.join(out, 'bare.npy')).data as Float32Array));
  const ex = await Explainer.load(MODEL, { wrt: 'signal' });
  const byName = await ex.forward({ signal: inputs.signal, tabular: inputs.tabular });
  close(byName.logits, ref('logits'), 1e-6, 'forward by name');
  assert.equal(Array.from(byName.logits.data), Array.from((await ex.forward(inputs.signal, { tabular: inputs.tabular })).logits.data));
});

test('an input read only through its shape: --wrt all leaves it out with a note, --wrt x,y refuses it naming the Shape (autograd refuses an unused input); a target of the wrong rank names an output [N]', async () => {
  // y = (x·W) · (columns of s); z = Σ x [N].
  const model = encodeModel({
    ir_version: 8,
    opset_import: [{ domain: '', version: 13 }],
    graph: {
      name: 'shape-only',
      node: [
        { op_type: 'Shape', input: ['s'], output: ['shape'], name: 'shape_s' },
        { op_type: 'Gather', input: ['shape', 'one'], output: ['cols'] },
        { op_type: 'Cast', input: ['cols'], output: ['colsf'], attribute: [{ name: 'to', type: 2, i: DataType.FLOAT }] },
        { op_type: 'MatMul', input: ['x', 'W'], output: ['xw'] },
        { op_type: 'Mul', input: ['xw', 'colsf'], output: ['y'] },
        { op_type: 'ReduceSum', input: ['x', 'axis1'], output: ['z'], attribute: [{ name: 'keepdims', type: 2, i: 0 }] },
      ],
      initializer: [makeTensor('W', [3, 2], [0.5, -1, 2, 1.5, 0.25, -0.75], DataType.FLOAT), makeTensor('one', [], [1], DataType.INT64), makeTensor('axis1', [1], [1], DataType.INT64)],
      input: [valueInfo('x', DataType.FLOAT, ['N', 3]), valueInfo('s', DataType.FLOAT, ['N', 'M'])],
      output: [valueInfo('y', DataType.FLOAT, ['N', 2]), valueInfo('z', DataType.FLOAT, ['N'])],
    },
  });
  const x = { data: Float32Array.from([1, 2, 3]), dims: [1, 3] };
  const s = { data: new Float32Array(4), dims: [1, 4] };
  const notes: string[] = [];
  const all = await Explainer.load(model, { wrt: 'all', warn: (m) => notes.push(m) });
  assert.equal(all.explainedNames, ['x']);
  assert.ok(notes.some((n) => /--wrt all: input 's' is read only by ArgMax, comparisons or shapes: it is fed, not explained/.test(n)), notes.join('\n'));
  const g = await all.attribute({ x, s }, { target: 0, output: 'y' });
  assert.equal(Array.from(g.attributions.data), [2, 8, 1]);
  await rejects(async () => (await Explainer.load(model, { wrt: ['x', 's'] })).attribute({ x, s }, { target: 0, output: 'y' }), /'y' has no gradient with respect to 's': it depends on it only through node 'shape_s' \(Shape/);
  await rejects(() => all.attribute({ x, s }, { target: [[0]], output: 'z' }), /'z' \[N\] takes 0/);
});

test('many inputs not given (a skl2onnx pipeline\'s one-column inputs) are noted in one line per default, not one line each', async () => {
  // y = x + Σ c_k, x and c_1 … c_8 [N, 1]: c_k fed by default, their default noted.
  const names = Array.from({ length: 8 }, (_, k) => `c${k + 1}`);
  const node = names.map((c, k) => ({ op_type: 'Add', input: [k ? `s${k}` : 'x', c], output: [k === names.length - 1 ? 'y' : `s${k + 1}`] }));
  const model = encodeModel({
    ir_version: 8, opset_import: [{ domain: '', version: 13 }],
    graph: { name: 'columns', node, input: ['x', ...names].map((n) => valueInfo(n, DataType.FLOAT, ['N', 1])), output: [valueInfo('y', DataType.FLOAT, ['N', 1])] },
  });
  const notes: string[] = [];
  const ex = await Explainer.load(model, { wrt: 'x', warn: (m) => notes.push(m) });
  const g = await ex.attribute({ data: Float32Array.of(2), dims: [1, 1] }, { target: 0 });
  assert.equal(Array.from(g.attributions.data), [1]);
  assert.equal(notes, ["<bytes>: 8 inputs 'c1' [1,1], 'c2' [1,1], 'c3' [1,1], 'c4' [1,1], 'c5' [1,1], 'c6' [1,1] and 2 more not given: using zeros (give them with --feed NAME=FILE.npy)"]);
});

test('a bool input is fed from a bool .npy (numpy\'s |b1): the mask selects which features reach the Gemm', async () => {
  const W = [0.5, -1, 2, 1.5, 0.25, -0.75, 3, -2, 1, 0.125, 4, -0.5];
  const model = encodeModel({
    ir_version: 8, opset_import: [{ domain: '', version: 13 }], producer_name: 'test',
    graph: {
      name: 'masked',
      node: [
        { op_type: 'Where', input: ['mask', 'x', 'zero'], output: ['kept'] },
        { op_type: 'Gemm', input: ['kept', 'w'], output: ['y'] },
      ],
      initializer: [makeTensor('zero', [], [0], DataType.FLOAT), makeTensor('w', [4, 3], W, DataType.FLOAT)],
      input: [valueInfo('x', DataType.FLOAT, ['N', 4]), valueInfo('mask', DataType.BOOL, ['N', 4])],
      output: [valueInfo('y', DataType.FLOAT, ['N', 3])],
    },
  });
  const file = path.join(out, 'masked.onnx');
  fs.writeFileSync(file, model);
  const mask = [1, 0, 1, 1, 0, 0, 1, 0];
  writeRawNpy(path.join(out, 'x.npy'), '<f4', [2, 4], new Uint8Array(Float32Array.from({ length: 8 }, (_, i) => i - 3).buffer));
  writeRawNpy(path.join(out, 'mask.npy'), '|b1', [2, 4], Uint8Array.from(mask, (m) => m * 0x3f)); // any non-zero byte is True
  assert.equal(Array.from(readNpy(path.join(out, 'mask.npy')).data as Float32Array), mask);
  const run = await runCli(['attribute', file, '--input', path.join(out, 'x.npy'), '--feed', `mask=${path.join(out, 'mask.npy')}`, '--target', '1', '--out', path.join(out, 'masked-grad.npy')]);
  assert.is(run.code, 0, run.err.join('\n'));
  const g = readNpy(path.join(out, 'masked-grad.npy')).data as Float32Array;
  assert.equal(Array.from(g), mask.map((m, i) => (m ? W[(i % 4) * 3 + 1] : 0)));
});

test('info lists every input with its role: both float inputs explained (one with --wrt, or jointly)', async () => {
  const r = await runCli(['info', MODEL]);
  assert.is(r.code, 0, r.err.join('|'));
  assert.equal(r.err, []);
  assert.equal(r.out.filter((l) => l.startsWith('input: ')), [
    'input: signal [N, 2, 12] float32: explained with --wrt signal (the others fed), or jointly with --wrt all',
    'input: tabular [N, 5] float32: explained with --wrt tabular (the others fed), or jointly with --wrt all',
  ]);
  // Explainable tensors come from either input: the tabular branch's Tanh and the signal branch's MaxPool.
  assert.ok(r.out.includes('  /Tanh_output_0 [N, 6] (Tanh)') && r.out.includes('  /pool/MaxPool_output_0 [N, 3, 6] (MaxPool)'), r.out.join('\n'));
});

// Joint DeepLIFT refused every step on the path statically (a TF-Lattice ensemble's missing-value gates, Equal → Cast),
// where one explained input runs both passes and checks that the step keeps its value.
test('joint DeepLIFT through a mask computed from one input: exact where the mask keeps its value on both passes (all inputs at their baselines), refused naming the step and row where it does not', async () => {
  const W = [0.5, -1, 2];
  const V = [1.5, 0.25, -0.75];
  const model = encodeModel({
    ir_version: 8, opset_import: [{ domain: '', version: 13 }],
    graph: {
      name: 'masked', initializer: [makeTensor('W', [3, 1], Float32Array.from(W), DataType.FLOAT), makeTensor('V', [3, 1], Float32Array.from(V), DataType.FLOAT), makeTensor('five', [], Float32Array.from([5]), DataType.FLOAT)],
      node: [
        { op_type: 'Less', input: ['b', 'five'], output: ['kept'] }, { op_type: 'Cast', input: ['kept'], output: ['m'], attribute: [{ name: 'to', type: 2, i: DataType.FLOAT }] },
        { op_type: 'Mul', input: ['a', 'm'], output: ['am'] }, { op_type: 'MatMul', input: ['am', 'W'], output: ['aw'] },
        { op_type: 'MatMul', input: ['b', 'V'], output: ['bv'] }, { op_type: 'Add', input: ['aw', 'bv'], output: ['y'] },
      ],
      input: [valueInfo('a', DataType.FLOAT, ['N', 3]), valueInfo('b', DataType.FLOAT, ['N', 3])], output: [valueInfo('y', DataType.FLOAT, ['N', 1])],
    },
  });
  const ex = await Explainer.load(model, { wrt: 'all' });
  const a = { data: Float32Array.from([1, 2, -1, 0.5, -0.5, 3]), dims: [2, 3] };
  const b = { data: Float32Array.from([0.5, -2, 4, 1, 3, -1]), dims: [2, 3] };
  const r = await ex.attribute({ a, b }, { method: 'deeplift', target: 0 });
  // Every b is below 5 on both passes (baselines 0): y = a·W + b·V, attributions a_i·W_i and b_j·V_j.
  assert.ok(relL2(r.inputAttributions!.a.data, Float32Array.from(a.data, (v, k) => v * W[k % 3])) < 1e-6, 'a');
  assert.ok(relL2(r.inputAttributions!.b.data, Float32Array.from(b.data, (v, k) => v * V[k % 3])) < 1e-6, 'b');
  const moved = { data: Float32Array.from([0.5, -2, 4, 1, 7, -1]), dims: [2, 3] };
  await rejects(() => ex.attribute({ a, b: moved }, { method: 'deeplift', target: 0 }), /differs between the input's and the reference's passes on row 1/);
  // A baseline of b above 5 where the input is above 5 keeps the mask there.
  const held = await ex.attribute({ a, b: moved }, { method: 'deeplift', target: 0, baselines: { b: { data: Float32Array.from([0, 0, 0, 0, 6, 0]), dims: [2, 3] } } });
  const f = (as: ArrayLike<number>, bs: number[], row: number) => [0, 1, 2].reduce((acc, k) => acc + (bs[row * 3 + k] < 5 ? as[row * 3 + k] * W[k] : 0) + bs[row * 3 + k] * V[k], 0);
  for (const row of [0, 1]) {
    const total = [...held.inputAttributions!.a.data.subarray(row * 3, row * 3 + 3), ...held.inputAttributions!.b.data.subarray(row * 3, row * 3 + 3)].reduce((acc, v) => acc + v, 0);
    assert.ok(Math.abs(total - (f(a.data, Array.from(moved.data), row) - f(new Float32Array(6), [0, 0, 0, 0, 6, 0], row))) < 1e-5, `row ${row}: ${total}`);
  }
});

test.run();
