import * as fs from 'fs';
import * as path from 'path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Emitter, float } from '../rewriter/emitter';
import { DataType, encodeModel, valueInfo } from '../rewriter/proto';
import { Explainer } from '../runtime';
import { readNpy } from '../runtime/node/npy-file';
import { relL2 } from './support/fixtures';
import { rejects } from './support/rejects';
import { runCli, tempDir } from './support/cli-harness';

const W = [0.5, -1, 2, 0.25, -0.75, 1.5, 1, 0.1, -0.3, 0.8, 0.6, -1.2];

/**
 * x [N, 4] → (x·W) / temperature + offsets [3], times flag: `temperature` a scalar, `offsets` a
 * per-model vector (first dim fixed while x's is dynamic), `flag` a boolean scalar: inputs without a
 * batch axis, as TF1's keep_prob placeholders, calibration temperatures and switches are.
 */
function model(): Uint8Array {
  const em = new Emitter(13, DataType.FLOAT, 'b');
  const scaled = em.div(em.matmul('x', em.constFloat(W, [4, 3])), 'temperature');
  em.rename(em.mul(em.op('Tanh', [em.add(scaled, 'offsets')]), em.cast('flag', DataType.FLOAT)), 'y');
  return encodeModel({
    ir_version: 8, opset_import: [{ domain: '', version: 13 }],
    graph: {
      name: 'batchless', node: em.nodes, initializer: em.initializers, output: [valueInfo('y', DataType.FLOAT, ['N', 3])],
      input: [valueInfo('x', DataType.FLOAT, ['N', 4]), valueInfo('temperature', DataType.FLOAT, []), valueInfo('offsets', DataType.FLOAT, [3]), valueInfo('flag', DataType.BOOL, [])],
    },
  });
}

const x = { data: Float32Array.of(0.3, -0.5, 1, 0.2, -1.1, 0.6, 0.05, -0.4, 0.9, 0.9, -0.2, 0.1), dims: [3, 4] };
const offsets = [0.1, -0.2, 0.3];
const feeds = { temperature: { data: Float32Array.of(2), dims: [] }, offsets: { data: Float32Array.from(offsets), dims: [3] }, flag: { data: Float32Array.of(1), dims: [] } };
/** ∂ tanh((x·W)_t / T + o_t) / ∂x_i = (1 − y_t²)·W[i, t] / T, with T = 2. */
const gradient = (target: number[]) => target.flatMap((t, r) => {
  const z = [0, 1, 2, 3].reduce((s, i) => s + x.data[r * 4 + i] * W[i * 3 + t], 0) / 2 + offsets[t];
  return [0, 1, 2, 3].map((i) => (1 - Math.tanh(z) ** 2) * W[i * 3 + t] / 2);
});

test('inputs without a batch axis (a scalar, a per-model vector, a boolean switch) are fed once for every row: the explained input is found without --wrt; gradient, DeepLIFT, integrated gradients and occlusion are right; a row alone gives the same', async () => {
  const ex = await Explainer.load(model());
  assert.is(ex.input.name, 'x');
  const target = [0, 2, 1];
  const g = await ex.attribute(x, { target, feeds });
  assert.ok(relL2(g.attributions.data, gradient(target)) < 1e-6, `gradient rel L2 ${relL2(g.attributions.data, gradient(target))}`);
  for (const method of ['deeplift', 'integrated-gradients'] as const) {
    const r = await ex.attribute(x, { method, target, feeds, ...(method === 'integrated-gradients' ? { steps: 64 } : {}) });
    r.delta!.forEach((d, row) => assert.ok(Math.abs(d) < (method === 'deeplift' ? 1e-6 : 1e-4), `${method} row ${row}: delta ${d}`));
  }
  const occlusion = await ex.attribute(x, { method: 'occlusion', target, feeds, window: [1], stride: [1] });
  assert.ok(occlusion.attributions.data.every(Number.isFinite) && occlusion.attributions.data.some((v) => v !== 0), 'occlusion');
  const alone = await ex.attribute({ data: x.data.slice(4, 8), dims: [1, 4] }, { target: target[1], feeds });
  assert.ok(relL2(alone.attributions.data, g.attributions.data.slice(4, 8)) < 1e-7, 'row 1 alone');
  // One row with the leading axis is the same feed.
  const withAxis = await ex.attribute(x, { target, feeds: { ...feeds, temperature: { data: Float32Array.of(2), dims: [1] } } });
  assert.equal(Array.from(withAxis.attributions.data), Array.from(g.attributions.data));
});

test('a fixed-batch model (rows [2, 3]) with a weight matrix [3, 4] and a bias [1] as inputs (onnx2c\'s Gemm tests, exporters that keep weights as inputs): those are fed once for every row, as their first dims are not the batch; gradient = the weight\'s column, DeepLIFT sums to delta', async () => {
  const em = new Emitter(13, DataType.FLOAT, 'g');
  em.rename(em.op('Gemm', ['A', 'B', 'C'], { beta: float(3.2) }), 'Y');
  const gemm = encodeModel({
    ir_version: 8, opset_import: [{ domain: '', version: 13 }],
    graph: {
      name: 'gemm', node: em.nodes, initializer: em.initializers, output: [valueInfo('Y', DataType.FLOAT, [2, 4])],
      input: [valueInfo('A', DataType.FLOAT, [2, 3]), valueInfo('B', DataType.FLOAT, [3, 4]), valueInfo('C', DataType.FLOAT, [1])],
    },
  });
  const B = Float32Array.from({ length: 12 }, (_, k) => Math.cos(k));
  const weights = { B: { data: B, dims: [3, 4] }, C: { data: Float32Array.of(0.5), dims: [1] } };
  const ex = await Explainer.load(gemm, { wrt: 'A' });
  const A = { data: Float32Array.of(0.2, -0.4, 0.9, 1.1, 0.3, -0.7), dims: [2, 3] };
  const g = await ex.attribute(A, { target: [1, 3], feeds: weights });
  assert.equal(Array.from(g.attributions.data), [B[1], B[5], B[9], B[3], B[7], B[11]]);
  const d = await ex.attribute(A, { method: 'deeplift', target: [1, 3], feeds: weights });
  d.delta!.forEach((v, r) => assert.ok(Math.abs(v) < 1e-6, `row ${r}: delta ${v}`));
  assert.ok(Math.abs(g.outputs.Y.data[1] - (0.2 * B[1] - 0.4 * B[5] + 0.9 * B[9] + 1.6)) < 1e-5, 'Y[0, 1] = A[0]·B[:, 1] + 3.2·C');
});

test('an If on a boolean input without a batch axis (TF1\'s is_training placeholder through tf2onnx): its given value, or false by default, picks the branch that is explained; gradient, DeepLIFT and the outputs follow it', async () => {
  const em = new Emitter(13, DataType.FLOAT, 'tf1');
  const scaled = (name: string, factor: number) => ({ name, node: [{ op_type: 'Mul', input: ['x', `${name}_f`], output: [`${name}_out`] }], initializer: [{ name: `${name}_f`, dims: [1], data_type: DataType.FLOAT, raw_data: new Uint8Array(Float32Array.of(factor).buffer) }], output: [valueInfo(`${name}_out`, DataType.FLOAT, ['N', 4])] });
  em.nodes.push({ op_type: 'If', input: ['is_training'], output: ['h'], name: 'cond', attribute: [{ name: 'then_branch', type: 5, g: scaled('train', 0.5) }, { name: 'else_branch', type: 5, g: scaled('infer', 2) }] });
  em.rename(em.op('Tanh', [em.matmul('h', em.constFloat(W, [4, 3]))]), 'y');
  const tf1 = encodeModel({
    ir_version: 8, opset_import: [{ domain: '', version: 13 }],
    graph: { name: 'tf1', node: em.nodes, initializer: em.initializers, input: [valueInfo('x', DataType.FLOAT, ['N', 4]), valueInfo('is_training', DataType.BOOL, [])], output: [valueInfo('y', DataType.FLOAT, ['N', 3])] },
  });
  const notes: string[] = [];
  const ex = await Explainer.load(tf1, { warn: (m) => notes.push(m) });
  const target = [0, 2, 1];
  /** ∂ tanh(c·x·W)_t / ∂x_i = c·(1 − y_t²)·W[i, t]. */
  const want = (c: number) => target.flatMap((t, r) => {
    const z = c * [0, 1, 2, 3].reduce((acc, i) => acc + x.data[r * 4 + i] * W[i * 3 + t], 0);
    return [0, 1, 2, 3].map((i) => c * (1 - Math.tanh(z) ** 2) * W[i * 3 + t]);
  });
  const flag = (v: number) => ({ is_training: { data: [v], dims: [] } });
  const cases: [Record<string, { data: number[]; dims: number[] }>, number][] = [[{}, 2], [flag(1), 0.5], [flag(0), 2]];
  for (const [feeds, c] of cases) {
    const g = await ex.attribute(x, { target, feeds });
    assert.ok(relL2(g.attributions.data, want(c)) < 1e-6, `factor ${c}: gradient rel L2 ${relL2(g.attributions.data, want(c))}`);
    const d = await ex.attribute(x, { method: 'deeplift', target, feeds });
    d.delta!.forEach((v, r) => assert.ok(Math.abs(v) < 1e-6, `factor ${c}, row ${r}: delta ${v}`));
  }
  assert.ok(notes.some((m) => /input 'is_training' not given: using zeros/.test(m)), notes.join('\n'));
});

test('a Loop whose trip count is a fed input without a batch axis runs the iterations given: x·1.5ⁿ through tanh, gradient and DeepLIFT for n = 0, 2, 3', async () => {
  const em = new Emitter(13, DataType.FLOAT, 'loop');
  const body = {
    name: 'body', node: [{ op_type: 'Identity', input: ['cond_in'], output: ['cond_out'] }, { op_type: 'Mul', input: ['h_in', 'growth'], output: ['h_out'] }],
    initializer: [{ name: 'growth', dims: [1], data_type: DataType.FLOAT, raw_data: new Uint8Array(Float32Array.of(1.5).buffer) }],
    input: [valueInfo('i', DataType.INT64, []), valueInfo('cond_in', DataType.BOOL, []), valueInfo('h_in', DataType.FLOAT, ['N', 4])],
    output: [valueInfo('cond_out', DataType.BOOL, []), valueInfo('h_out', DataType.FLOAT, ['N', 4])],
  };
  em.nodes.push({ op_type: 'Loop', input: ['steps', '', 'x'], output: ['h'], name: 'repeat', attribute: [{ name: 'body', type: 5, g: body }] });
  em.rename(em.op('Tanh', [em.matmul('h', em.constFloat(W, [4, 3]))]), 'y');
  const looped = encodeModel({
    ir_version: 8, opset_import: [{ domain: '', version: 13 }],
    graph: { name: 'loop', node: em.nodes, initializer: em.initializers, input: [valueInfo('x', DataType.FLOAT, ['N', 4]), valueInfo('steps', DataType.INT64, [])], output: [valueInfo('y', DataType.FLOAT, ['N', 3])] },
  });
  const ex = await Explainer.load(looped, { warn: () => {} });
  const target = [0, 2, 1];
  for (const n of [0, 2, 3]) {
    const c = 1.5 ** n;
    const want = target.flatMap((t, r) => {
      const z = c * [0, 1, 2, 3].reduce((acc, i) => acc + x.data[r * 4 + i] * W[i * 3 + t], 0);
      return [0, 1, 2, 3].map((i) => c * (1 - Math.tanh(z) ** 2) * W[i * 3 + t]);
    });
    const feeds = { steps: { data: BigInt64Array.of(BigInt(n)), dims: [] } };
    const g = await ex.attribute(x, { target, feeds });
    assert.ok(relL2(g.attributions.data, want) < 1e-5, `n = ${n}: gradient rel L2 ${relL2(g.attributions.data, want)}`);
    const d = await ex.attribute(x, { method: 'deeplift', target, feeds });
    d.delta!.forEach((v, r) => assert.ok(Math.abs(v) < 1e-6, `n = ${n}, row ${r}: delta ${v}`));
  }
});

test('a first axis that is not a batch (a TDNN\'s time steps, unsqueezed into one sample): one row fails the Conv\'s window, so the error and info say --unbatched; with it, the gradient of y[t, c] is the kernel W[c, :, t\' − t]', async () => {
  const em = new Emitter(13, DataType.FLOAT, 'tdnn');
  const kernel = Array.from({ length: 2 * 3 * 3 }, (_, k) => Math.sin(k + 1));
  const frames = em.transpose(em.unsqueeze('x', [0]), [0, 2, 1]);
  const conv = em.op('Conv', [frames, em.constFloat(kernel, [2, 3, 3])], { kernel_shape: [3], strides: [1], pads: [0, 0], dilations: [1], group: 1 });
  em.rename(em.transpose(em.op('Squeeze', [conv, em.constInt([0])]), [1, 0]), 'y');
  const tdnn = encodeModel({ ir_version: 8, opset_import: [{ domain: '', version: 13 }], graph: { name: 'tdnn', node: em.nodes, initializer: em.initializers, input: [valueInfo('x', DataType.FLOAT, ['T', 3])], output: [valueInfo('y', DataType.FLOAT, ['T2', 2])] } });
  const x5 = { data: Float32Array.from({ length: 15 }, (_, k) => Math.cos(k)), dims: [5, 3] };
  const rowwise = await Explainer.load(tdnn);
  await rejects(() => rowwise.attribute(x5, { target: 0 }), /input spatial size 1 \(padded 1\) is smaller than the dilated kernel 3 on axis 2, at one row of the input's first axis, where 64 rows pass: if that axis is not a batch \(time steps, a sequence\), explain the input as one sample with --unbatched/);
  // info lists the layers without shapes and says why.
  const file = path.join(tempDir('tdnn'), 'tdnn.onnx');
  fs.writeFileSync(file, tdnn);
  const info = await runCli(['info', file]);
  assert.ok(info.out.some((l) => /^shapes unknown: one row of the input does not run: .*smaller than the dilated kernel 3 .*--unbatched/.test(l)), info.out.join('\n'));
  const g = await (await Explainer.load(tdnn, { unbatched: true })).attribute({ data: x5.data, dims: [1, 5, 3] }, { target: [[1, 0]] });
  // y[1, 0] = Σ_f,j W[0, f, j]·x[1 + j, f].
  const want = Array.from({ length: 15 }, (_, k) => {
    const [t, f] = [Math.floor(k / 3), k % 3];
    return t >= 1 && t <= 3 ? kernel[f * 3 + (t - 1)] : 0;
  });
  assert.ok(relL2(g.attributions.data, want) < 1e-6, `gradient rel L2 ${relL2(g.attributions.data, want)}`);
});

// An LSTM's h0 [layers, batch, H] fed per row (the batch on axis 1) gave "'logits' has shape [2, 3] at batch 1".
test('an input holding the batch on another axis (h0 [2, N, 3]) fed with rows there is refused in one line saying to give one row; one row there is fed for every row', async () => {
  const em = new Emitter(13, DataType.FLOAT, 'state');
  em.rename(em.add('x', em.reduceSum('h0', [0], false)), 'y');
  const model = encodeModel({ ir_version: 8, opset_import: [{ domain: '', version: 13 }], graph: { name: 'state', node: em.nodes, initializer: em.initializers, input: [valueInfo('x', DataType.FLOAT, ['N', 3]), valueInfo('h0', DataType.FLOAT, [2, 'N', 3])], output: [{ name: 'y' }] } });
  const ex = await Explainer.load(model);
  const x = { data: Float32Array.from([0.5, -1, 2, 0.25, 1.5, -0.5]), dims: [2, 3] };
  const perRow = { data: new Float32Array(12).fill(0.1), dims: [2, 2, 3] };
  await rejects(() => ex.attribute(x, { target: 1, feeds: { h0: perRow } }), /--feed h0: 'h0' holds the batch on axis 1 \(2 rows there\); it is fed once for every row: give one row there, shape \[2,1,3\], or export it with the batch first/);
  const shared = await ex.attribute(x, { target: 1, method: 'input-x-gradient', feeds: { h0: { data: new Float32Array(6).fill(0.1), dims: [2, 1, 3] } } });
  assert.equal(Array.from(shared.attributions.data), [0, -1, 0, 0, 1.5, 0]);
});

test('such an input is not explained: --wrt names it in one line; unfed, it is zeros of its own shape, with a note', async () => {
  await rejects(() => Explainer.load(model(), { wrt: 'temperature' }), /--wrt temperature: input 'temperature' \[\] has no batch axis: it is fed as it is for every row \(--feed temperature=FILE\), not explained/);
  const notes: string[] = [];
  const ex = await Explainer.load(model(), { warn: (m) => notes.push(m) });
  const r = await ex.attribute(x, { target: [0, 0, 0], feeds: { temperature: feeds.temperature } });
  assert.ok(r.attributions.data.every((v) => v === 0), 'flag false: y = 0 everywhere');
  assert.ok(notes.some((m) => /input 'offsets' not given: using zeros \[3\]/.test(m)), notes.join('\n'));
  assert.ok(notes.some((m) => /input 'flag' not given: using zeros \[\]/.test(m)), notes.join('\n'));
});

test('CLI: --feed reads a JSON number or list for them; info says they have no batch axis', async () => {
  const dir = tempDir('batchless');
  const file = path.join(dir, 'model.onnx');
  fs.writeFileSync(file, model());
  fs.writeFileSync(path.join(dir, 'x.json'), JSON.stringify([[0.3, -0.5, 1, 0.2]]));
  fs.writeFileSync(path.join(dir, 't.json'), '2');
  fs.writeFileSync(path.join(dir, 'o.json'), JSON.stringify(offsets));
  fs.writeFileSync(path.join(dir, 'f.json'), '1');
  const r = await runCli(['attribute', file, '--input', path.join(dir, 'x.json'), '--feed', `temperature=${path.join(dir, 't.json')}`, '--feed', `offsets=${path.join(dir, 'o.json')}`, '--feed', `flag=${path.join(dir, 'f.json')}`, '--method', 'deeplift', '--target', '2']);
  assert.is(r.code, 0, r.err.join('\n'));
  const missing = await runCli(['attribute', file, '--input', path.join(dir, 'x.json'), '--feed', `temperature=${path.join(dir, 'none.json')}`]);
  assert.equal([missing.code, missing.err], [1, [`onnx-explain: error: ${path.join(dir, 'none.json')}: file not found`]]);
  assert.ok(r.out.some((l) => /^row 0: convergence delta (-?\d\.\d+e-([7-9]|\d\d) |0\.000e\+0 )/.test(l)), r.out.join('\n'));
  const info = await runCli(['info', file]);
  assert.ok(info.out.some((l) => /^input: temperature \[\] float32: no batch axis: fed with --feed temperature=FILE, one value for every row/.test(l)), info.out.join('\n'));
  assert.ok(info.out.some((l) => /^input: x \[N, 4\] float32: explained$/.test(l)), info.out.join('\n'));
});

/** x [4] → tanh(x·W) [3]: a model that takes one sample without a batch axis. */
function oneSample(): Uint8Array {
  const em = new Emitter(13, DataType.FLOAT, 'u');
  em.rename(em.op('Tanh', [em.matmul('x', em.constFloat(W, [4, 3]))]), 'y');
  return encodeModel({
    ir_version: 8, opset_import: [{ domain: '', version: 13 }],
    graph: { name: 'one sample', node: em.nodes, initializer: em.initializers, output: [valueInfo('y', DataType.FLOAT, [3])], input: [valueInfo('x', DataType.FLOAT, [4])] },
  });
}

test('--unbatched: a model that takes one sample without a batch axis is explained for rows given with one (each row run alone); without it, the shape error says so', async () => {
  await rejects(async () => (await Explainer.load(oneSample())).attribute(x, {}), /input 'x' has shape \[3,4\], expected rank 1 \[4\]: the model takes one sample without a batch axis; explain it as it is with --unbatched/);
  const ex = await Explainer.load(oneSample(), { unbatched: true });
  const target = [0, 2, 1];
  const g = await ex.attribute(x, { target });
  const want = target.flatMap((t, r) => {
    const z = [0, 1, 2, 3].reduce((s, i) => s + x.data[r * 4 + i] * W[i * 3 + t], 0);
    return [0, 1, 2, 3].map((i) => (1 - Math.tanh(z) ** 2) * W[i * 3 + t]);
  });
  assert.ok(relL2(g.attributions.data, want) < 1e-6, `gradient rel L2 ${relL2(g.attributions.data, want)}`);
  assert.equal(g.outputs.y.dims, [3, 3]);
  const d = await ex.attribute(x, { method: 'deeplift', target });
  d.delta!.forEach((v, row) => assert.ok(Math.abs(v) < 1e-6, `DeepLIFT row ${row}: delta ${v}`));
  const dir = tempDir('unbatched');
  const file = path.join(dir, 'model.onnx');
  fs.writeFileSync(file, oneSample());
  fs.writeFileSync(path.join(dir, 'x.json'), JSON.stringify([[0.3, -0.5, 1, 0.2]]));
  const r = await runCli(['attribute', file, '--unbatched', '--input', path.join(dir, 'x.json'), '--method', 'integrated-gradients', '--target', '1']);
  assert.is(r.code, 0, r.err.join('\n'));
  assert.ok(r.out.some((l) => /^row 0: convergence delta/.test(l)), r.out.join('\n'));
  // A scalar input (tf2onnx's [] placeholder): the error says --unbatched, and info names it explained with it.
  const em = new Emitter(13, DataType.FLOAT, 's');
  em.rename(em.op('Abs', ['a']), 'y');
  const scalar = path.join(dir, 'scalar.onnx');
  fs.writeFileSync(scalar, encodeModel({ ir_version: 8, opset_import: [{ domain: '', version: 13 }], graph: { name: 'scalar', node: em.nodes, input: [valueInfo('a', DataType.FLOAT, [])], output: [valueInfo('y', DataType.FLOAT, [])] } }));
  await rejects(() => Explainer.load(scalar), /the model's float inputs \('a' \[\]\) have no batch axis: a model that takes one sample is explained with --unbatched/);
  const abs = await (await Explainer.load(scalar, { unbatched: true })).attribute({ data: Float32Array.of(-1.5, 2), dims: [2] });
  assert.equal(Array.from(abs.attributions.data), [-1, 1]);
  const info = await runCli(['info', scalar, '--unbatched']);
  assert.ok(info.out.includes('input: a [] float32: explained, one sample without a batch axis (--unbatched)'), info.out.join('\n'));
});

test('--unbatched on a model ending in Softmax (torch dynamo\'s policy [54] → [108]) explains the logits, as batched models do; their view gets the sample axis at opsets 11 and 13', async () => {
  for (const opset of [11, 13]) {
    const em = new Emitter(opset, DataType.FLOAT, 'p');
    em.rename(em.op('Softmax', [em.matmul('x', em.constFloat(W, [4, 3]))], { axis: 0 }), 'probs');
    const model = encodeModel({
      ir_version: 8, opset_import: [{ domain: '', version: opset }],
      graph: { name: 'policy', node: em.nodes, initializer: em.initializers, output: [valueInfo('probs', DataType.FLOAT, [3])], input: [valueInfo('x', DataType.FLOAT, [4])] },
    });
    const ex = await Explainer.load(model, { unbatched: true });
    assert.ok(ex.resolveOutput(undefined).from.endsWith('/with_batch_axis'), ex.resolveOutput(undefined).from);
    const g = await ex.attribute(x, { target: 2 });
    assert.equal(Array.from(g.attributions.data), [0, 1, 2].flatMap(() => [0, 1, 2, 3].map((i) => Math.fround(W[i * 3 + 2]))), `opset ${opset}: the logit's gradient`);
    const z = (r: number) => [0, 1, 2].map((t) => [0, 1, 2, 3].reduce((a, i) => a + x.data[r * 4 + i] * W[i * 3 + t], 0));
    const p = (r: number) => z(r).map((v) => Math.exp(v) / z(r).reduce((a, u) => a + Math.exp(u), 0));
    assert.ok(relL2(g.outputs.probs.data, [0, 1, 2].flatMap(p)) < 1e-6, 'the probabilities are the model\'s');
    const d = await ex.attribute(x, { method: 'deeplift', target: 2 });
    d.delta!.forEach((v, row) => assert.ok(Math.abs(v) < 1e-5, `DeepLIFT row ${row}: delta ${v}`));
    // §2.5 over the Softmax's three classes (axis 0 of the sample): a_i = x_i·Σ_t (e_2 − 1/3)_t·W_it at the zero baseline.
    const normalized = await ex.attribute(x, { method: 'deeplift', target: 2, softmaxNormalize: true });
    const centred = (r: number) => [0, 1, 2, 3].map((i) => x.data[r * 4 + i] * [0, 1, 2].reduce((a, t) => a + ((t === 2 ? 1 : 0) - 1 / 3) * W[i * 3 + t], 0));
    assert.ok(relL2(normalized.attributions.data, [0, 1, 2].flatMap(centred)) < 1e-6, `opset ${opset}: softmaxNormalize ${Array.from(normalized.attributions.data)}`);
    // info counts the model's own ops and lists the logits' view, not the view's own Squeeze and Unsqueeze.
    const file = path.join(tempDir('unbatched-softmax'), 'policy.onnx');
    fs.writeFileSync(file, model);
    const info = await runCli(['info', file, '--unbatched']);
    const ops = info.out.slice(info.out.indexOf('ops:') + 1).filter((l) => /^ {2}\S+ +\d+$/.test(l)).map((l) => l.trim().split(/ +/)[0]).sort();
    assert.equal(ops, ['Identity', 'MatMul', 'Softmax'], info.out.join('\n'));
    assert.ok(info.out.some((l) => /^ {2}\S+\/with_batch_axis \[N, 3\]/.test(l)) && !info.out.some((l) => /^ {2}unbatched\//.test(l)), info.out.join('\n'));
  }
});

test('--unbatched LRP starts at the logit behind a final Sigmoid, as for a batched model: a sample the model calls negative keeps the logit\'s signs, R_i = x_i·w_i', async () => {
  const w = [0.8, -1.2, 0.5, -0.3];
  const em = new Emitter(13, DataType.FLOAT, 'p');
  em.rename(em.op('Sigmoid', [em.matmul('x', em.constFloat(w, [4, 1]))]), 'p');
  const model = encodeModel({
    ir_version: 8, opset_import: [{ domain: '', version: 13 }],
    graph: { name: 'binary', node: em.nodes, initializer: em.initializers, output: [valueInfo('p', DataType.FLOAT, [1])], input: [valueInfo('x', DataType.FLOAT, [4])] },
  });
  const ex = await Explainer.load(model, { unbatched: true });
  const rows = [[1, 0.5, 2, 0.3], [-2, 0.5, 1, 1]];
  const r = await ex.attribute({ data: Float32Array.from(rows.flat()), dims: [2, 4] }, { method: 'lrp-epsilon', target: 0, epsilon: 1e-9 });
  const want = rows.flatMap((row) => row.map((v, i) => v * w[i]));
  assert.ok(relL2(r.attributions.data, want) < 1e-6, `${Array.from(r.attributions.data)} vs ${want}`);
});

/** x [3, 4, 4] → Unsqueeze → 1×1 Conv (2 channels, no bias) → Relu ('map' [1, 2, 4, 4]) → Squeeze → mean over height and width → · V [2, 2]: one image, no batch axis. */
const K = [0.8, -0.5, 0.3, -0.6, 0.9, 0.4];
function oneImage(): Uint8Array {
  const em = new Emitter(13, DataType.FLOAT, 'img');
  const conv = em.op('Conv', [em.unsqueeze('x', [0]), em.constFloat(K, [2, 3, 1, 1])], { kernel_shape: [1, 1], strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1], group: 1 });
  const map = em.rename(em.op('Relu', [conv]), 'map');
  em.rename(em.matmul(em.reduceMean(em.op('Squeeze', [map, em.constInt([0])]), [1, 2], false), em.constFloat([1, -1, 0.5, 2], [2, 2])), 'y');
  return encodeModel({
    ir_version: 8, opset_import: [{ domain: '', version: 13 }],
    graph: { name: 'one image', node: em.nodes, initializer: em.initializers, input: [valueInfo('x', DataType.FLOAT, [3, 4, 4])], output: [{ name: 'y' }] },
  });
}

test('filters and maximize take --unbatched: channel means of a layer with the sample axis equal the 1×1 Conv by hand; the maximised image has the rows axis and beats random images', async () => {
  const dir = tempDir('unbatched-image');
  const file = path.join(dir, 'img.onnx');
  fs.writeFileSync(file, oneImage());
  const x = Array.from({ length: 48 }, (_, i) => Math.sin(i * 0.9));
  fs.writeFileSync(path.join(dir, 'x.json'), JSON.stringify([[0, 1, 2].map((c) => [0, 1, 2, 3].map((h) => [0, 1, 2, 3].map((w) => x[c * 16 + h * 4 + w])))]));
  const json = path.join(dir, 'f.json');
  const f = await runCli(['filters', file, '--unbatched', '--input', path.join(dir, 'x.json'), '--layer', 'map', '--top', '1', '--json', json]);
  assert.is(f.code, 0, f.err.join('\n'));
  const means = [0, 1].map((k) => Array.from({ length: 16 }, (_, i) => Math.max(0, [0, 1, 2].reduce((a, c) => a + K[k * 3 + c] * x[c * 16 + i], 0))).reduce((a, b) => a + b, 0) / 16);
  const report = JSON.parse(fs.readFileSync(json, 'utf8'));
  assert.ok(relL2(report.rows[0].means, means) < 1e-6, `${report.rows[0].means} vs ${means}`);
  const without = await runCli(['filters', file, '--input', path.join(dir, 'x.json'), '--layer', 'map']);
  assert.ok(/--unbatched/.test(without.err.join('\n')), without.err.join('\n'));
  const img = path.join(dir, 'max.npy');
  const m = await runCli(['maximize', file, '--unbatched', '--target', '1', '--stages', '1', '--steps', '60', '--range', '-1,1', '--out', img]);
  assert.is(m.code, 0, m.err.join('\n'));
  const image = readNpy(img);
  assert.equal(image.dims, [1, 3, 4, 4]);
  const ex = await Explainer.load(oneImage(), { unbatched: true });
  const reached = (await ex.forward({ data: Float32Array.from(image.data as Float32Array), dims: [1, 3, 4, 4] })).y.data[1];
  let best = -Infinity;
  for (let k = 0; k < 50; k++) best = Math.max(best, (await ex.forward({ data: Float32Array.from({ length: 48 }, (_, i) => Math.sin(i * 12.9898 + k * 78.233) * 43758.5453 % 1), dims: [1, 3, 4, 4] })).y.data[1]);
  assert.ok(reached > best, `maximised ${reached} vs best of 50 random images in [-1, 1] ${best}`);
});

/** ids [L] int64 → an embedding table [10, 3] → Tanh → mean over the tokens → · W [3, 2]: one text, no batch axis. */
/** y = mean_l tanh(table[ids_l]) · W; with `bias`, plus mean_l bias[ids_l] (a second table [10] the ids read). */
function oneText(bias = false): Uint8Array {
  const em = new Emitter(13, DataType.FLOAT, 'text');
  const table = em.constFloat(Array.from({ length: 30 }, (_, k) => Math.sin(k + 1)), [10, 3]);
  const pooled = em.reduceMean(em.op('Tanh', [em.op('Gather', [table, 'ids'], { axis: 0 })]), [0], false);
  const y = em.matmul(pooled, em.constFloat([0.5, -1, 2, 0.25, -0.75, 1.5], [3, 2]));
  const biases = em.constFloat(Array.from({ length: 10 }, (_, k) => Math.cos(k)), [10]);
  em.rename(bias ? em.add(y, em.reduceMean(em.op('Gather', [biases, 'ids'], { axis: 0 }), [0], false)) : y, 'y');
  return encodeModel({
    ir_version: 8, opset_import: [{ domain: '', version: 13 }], producer_name: 'onnx-explain tests',
    graph: { name: 'text', node: em.nodes, initializer: em.initializers, input: [valueInfo('ids', DataType.INT64, ['L'])], output: [{ name: 'y' }] },
  });
}

test('--unbatched on token ids an embedding reads as they come (ids [L]): the lookup reads them with the sample axis, so they are explained per token: gradient = closed form at the looked-up rows, DeepLIFT sums to delta', async () => {
  const ex = await Explainer.load(oneText(), { unbatched: true });
  const ids = [3, 7, 1, 7];
  const g = await ex.attribute({ data: BigInt64Array.from(ids.map(BigInt)), dims: [1, 4] }, { target: 1 });
  const W1 = [-1, 0.25, 1.5];
  const want = ids.flatMap((id) => [0, 1, 2].map((j) => (1 - Math.tanh(Math.sin(id * 3 + j + 1)) ** 2) * W1[j] / 4));
  assert.equal(g.attributions.dims, [1, 4, 3]);
  assert.ok(relL2(g.attributions.data, want) < 1e-6, `gradient rel L2 ${relL2(g.attributions.data, want)}`);
  const d = await ex.attribute({ data: BigInt64Array.from(ids.map(BigInt)), dims: [1, 4] }, { method: 'deeplift', target: 1, baselineToken: 0 });
  assert.ok(Math.abs(d.delta![0]) < 1e-6, `delta ${d.delta![0]}`);
  // A second table the ids read as they come (a bias per id) joins the first, side by side: ∂y/∂bias row = 1/L.
  const two = await (await Explainer.load(oneText(true), { unbatched: true })).attribute({ data: BigInt64Array.from(ids.map(BigInt)), dims: [1, 4] }, { target: 1 });
  assert.equal(two.attributions.dims, [1, 4, 4]);
  const wantTwo = ids.flatMap((_, l) => [...want.slice(l * 3, l * 3 + 3), 1 / 4]);
  assert.ok(relL2(two.attributions.data, wantTwo) < 1e-6, `two tables: rel L2 ${relL2(two.attributions.data, wantTwo)}`);
});

test('CLIP zero-shot: prompts [K, 6] beside images [N, …] with logits [N, K] are fed whole for every image (N = K paired image n with prompt n alone); the gradient equals PyTorch autograd at N = 3 and 2', async () => {
  const dir = path.resolve(__dirname, '../../models/multi/clip_prompts');
  const npy = (name: string) => readNpy(path.join(dir, `${name}.npy`));
  const { target } = JSON.parse(fs.readFileSync(path.join(dir, 'meta.json'), 'utf8'));
  const ex = await Explainer.load(path.join(dir, 'model.onnx'));
  const feeds = { input_ids: npy('input_ids'), attention_mask: npy('attention_mask') };
  const image = npy('image');
  const want = npy('grad_image').data as Float32Array;
  const g = await ex.attribute(image, { target, feeds });
  assert.equal(g.outputs.logits.dims, [3, 3]);
  assert.ok(relL2(g.outputs.logits.data, npy('logits').data as Float32Array) <= 1e-5, 'logits');
  assert.ok(relL2(g.attributions.data, want) <= 1e-5, `gradient rel L2 ${relL2(g.attributions.data, want)}`);
  const two = { data: (image.data as Float32Array).subarray(0, 2 * 768), dims: [2, 3, 16, 16] };
  const g2 = await ex.attribute(two, { target: target.slice(0, 2), feeds });
  assert.ok(relL2(g2.attributions.data, want.subarray(0, 2 * 768)) <= 1e-5, `two images: rel L2 ${relL2(g2.attributions.data, want.subarray(0, 2 * 768))}`);
  const d = await ex.attribute(image, { method: 'deeplift', target, feeds });
  d.delta!.forEach((delta, r) => assert.ok(Math.abs(delta) <= 1e-5, `DeepLIFT row ${r}: delta ${delta}`));
  const info = await runCli(['info', path.join(dir, 'model.onnx')]);
  assert.ok(info.out.includes("input: input_ids [K, 6] int64: a batch axis of its own ('K', as the output's): fed with --feed input_ids=FILE, all its rows for every row (default one row of zeros)"), info.out.join('\n'));
});

test.run();
