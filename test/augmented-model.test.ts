import * as fs from 'fs';
import * as path from 'path';
import * as ort from 'onnxruntime-node';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Emitter } from '../rewriter/emitter';
import { AttrType, DataType, encodeModel, valueInfo } from '../rewriter/proto';
import { Explainer } from '../runtime';
import { loadModel } from '../runtime/node/model-file';
import { loadFixture, relL2 } from './support/fixtures';
import { runCli, tempDir } from './support/cli-harness';

// The saved augmented model is read back only with onnxruntime-node: no onnx-explain code at run time.

const dir = tempDir('augmented');

/** The CLI's augmented graph of a fixture (by name) or of a model file (a path ending in .onnx). */
async function rewrite(fixture: string, method: string, ...extra: string[]): Promise<string> {
  const out = path.join(dir, `${path.basename(fixture, '.onnx')}-${method}${extra.join('')}.onnx`);
  const r = await runCli(['rewrite', fixture.endsWith('.onnx') ? fixture : loadFixture(fixture).model, '--method', method, '--out', out, ...extra]);
  assert.is(r.code, 0, `rewrite ${fixture} --method ${method}: ${r.err.join(' | ')}`);
  assert.ok(fs.existsSync(out), `${out} written`);
  assert.equal(fs.readdirSync(dir).filter((f) => f.includes('.tmp-')), [], 'no temporary files left');
  return out;
}

function oneHot(targets: number[], classes: number): ort.Tensor {
  const seed = new Float32Array(targets.length * classes);
  targets.forEach((t, r) => { seed[r * classes + t] = 1; });
  return new ort.Tensor('float32', seed, [targets.length, classes]);
}

function tensorShape(s: ort.InferenceSession, name: string, inputs: boolean): readonly (number | string)[] {
  const meta = (inputs ? s.inputMetadata : s.outputMetadata).find((m) => m.name === name);
  assert.ok(meta && meta.isTensor, `${name} metadata`);
  return (meta as ort.InferenceSession.TensorValueMetadata).shape;
}

const rows = (a: Float32Array, n: number, r: number) => a.subarray((r * a.length) / n, ((r + 1) * a.length) / n);

test('resnet_bn: saved gradient model reproduces PyTorch gradients and outputs at batch 3', async () => {
  const fx = loadFixture('resnet_bn');
  const s = await ort.InferenceSession.create(await rewrite('resnet_bn', 'gradient'), { logSeverityLevel: 3 });
  assert.equal([...s.inputNames].sort(), ['input', 'seed']);
  assert.equal([...s.outputNames], ['output', 'attribution']);
  assert.is(typeof tensorShape(s, 'input', true)[0], 'string', 'input batch is a dim_param');
  assert.is(typeof tensorShape(s, 'seed', true)[0], 'string', 'seed batch is a dim_param');
  assert.equal(fx.input.dims[0], 3);
  const out = await s.run({ input: new ort.Tensor('float32', fx.input.data, fx.input.dims), seed: oneHot(fx.meta.target, 7) });
  assert.equal([...out.attribution.dims], fx.input.dims);
  const a = out.attribution.data as Float32Array;
  assert.ok(relL2(a, fx.ref('grad.npy')!) <= 1e-4, `attribution vs grad.npy: rel L2 ${relL2(a, fx.ref('grad.npy')!)}`);
  assert.ok(relL2(out.output.data as Float32Array, fx.ref('output.npy')!) <= 1e-5, 'outputs vs output.npy');
  await s.release();
});

/** batch1_reshape with allowzero on its Reshape, as torch.onnx's dynamo exporter writes views (opset 14, where allowzero came). */
function allowzeroCopy(): string {
  const m = loadModel(loadFixture('batch1_reshape').model);
  m.opset_import = [{ domain: '', version: 14 }];
  m.graph!.node = m.graph!.node!.map((n) => (n.op_type === 'Reshape' ? { ...n, attribute: [...(n.attribute ?? []), { name: 'allowzero', type: AttrType.INT, i: 1 }] } : n));
  const file = path.join(dir, 'batch1_allowzero.onnx');
  fs.writeFileSync(file, encodeModel(m));
  return file;
}

for (const [form, model] of [['as exported', () => 'batch1_reshape'], ['with allowzero on the Reshape', allowzeroCopy]] as const) {
  test(`batch1_reshape ${form}: saved gradient model has a dynamic batch and matches per-row results at batch 3`, async () => {
    const fx = loadFixture('batch1_reshape');
    assert.equal(fx.input.dims[0], 1);
    const s = await ort.InferenceSession.create(await rewrite(model(), 'gradient'), { logSeverityLevel: 3 });
    for (const name of ['input', 'seed']) assert.is(typeof tensorShape(s, name, true)[0], 'string', `${name}: batch is a dim_param, got ${tensorShape(s, name, true)}`);
    for (const name of ['output', 'attribution']) assert.is(typeof tensorShape(s, name, false)[0], 'string', `${name}: batch is a dim_param, got ${tensorShape(s, name, false)}`);
    const row = fx.input.data;
    const per = row.length;
    const x = new Float32Array(3 * per);
    x.set(row, 0);
    for (let i = 0; i < per; i++) {
      x[per + i] = -0.7 * row[i] + 0.05 * Math.sin(i);
      x[2 * per + i] = row[i] + 0.3 * Math.cos(0.37 * i);
    }
    const targets = [4, 1, 3];
    const dims = [3, ...fx.input.dims.slice(1)];
    const out = await s.run({ input: new ort.Tensor('float32', x, dims), seed: oneHot(targets, 5) });
    assert.equal([...out.attribution.dims], dims);
    assert.equal([...out.output.dims], [3, 5]);
    const a = out.attribution.data as Float32Array;
    const y = out.output.data as Float32Array;
    assert.ok(relL2(rows(a, 3, 0), fx.ref('grad.npy')!) <= 1e-4, `row 0 vs grad.npy: ${relL2(rows(a, 3, 0), fx.ref('grad.npy')!)}`);
    assert.ok(relL2(rows(y, 3, 0), fx.ref('output.npy')!) <= 1e-5, 'row 0 outputs vs output.npy');
    const ex = await Explainer.load(fx.model);
    for (let r = 0; r < 3; r++) {
      const one = await ex.attribute({ data: rows(x, 3, r), dims: [1, ...dims.slice(1)] }, { target: targets[r] });
      assert.ok(relL2(rows(a, 3, r), one.attributions.data) <= 1e-4, `row ${r}: attribution vs Explainer.attribute: ${relL2(rows(a, 3, r), one.attributions.data)}`);
      assert.ok(relL2(rows(y, 3, r), one.outputs.output.data) <= 1e-5, `row ${r}: outputs`);
    }
    // The rows must really differ (otherwise a batch-1 broadcast bug would go unnoticed).
    assert.ok(relL2(rows(a, 3, 1), rows(a, 3, 2)) > 1e-2, 'rows differ');
    await s.release();
  });
}

test('resnet_bn: saved deeplift model takes input, baseline and seed; delta ≈ 0', async () => {
  const fx = loadFixture('resnet_bn');
  const s = await ort.InferenceSession.create(await rewrite('resnet_bn', 'deeplift'), { logSeverityLevel: 3 });
  assert.equal([...s.inputNames].sort(), ['baseline', 'input', 'seed'], `inputs ${s.inputNames}`);
  assert.equal([...s.outputNames].sort(), ['attribution', 'delta', 'output']);
  for (const name of ['input', 'baseline', 'seed']) assert.is(typeof tensorShape(s, name, true)[0], 'string', `${name}: dynamic batch`);
  const x = new ort.Tensor('float32', fx.input.data, fx.input.dims);
  const out = await s.run({ input: x, baseline: new ort.Tensor('float32', new Float32Array(fx.input.data.length), fx.input.dims), seed: oneHot(fx.meta.target, 7) });
  const a = out.attribution.data as Float32Array;
  const delta = out.delta.data as Float32Array;
  assert.equal([...out.delta.dims], [3]);
  for (let r = 0; r < 3; r++) {
    const total = rows(a, 3, r).reduce((t, v) => t + v, 0);
    const change = total - delta[r];
    assert.ok(Math.abs(delta[r]) <= 1e-5 * Math.max(1, Math.abs(change)), `row ${r}: delta ${delta[r]} for change ${change}`);
  }
  assert.ok(relL2(a, fx.ref('deeplift.npy')!) <= 1e-4, `attribution vs deeplift.npy: ${relL2(a, fx.ref('deeplift.npy')!)}`);
  assert.ok(relL2(out.output.data as Float32Array, fx.ref('output.npy')!) <= 1e-5, 'outputs vs output.npy');
  await s.release();
});

test('resnet_bn: --zero-baseline builds the zero reference in (no baseline input): same DeepLIFT as PyTorch, and as the API with zeros given', async () => {
  const fx = loadFixture('resnet_bn');
  const s = await ort.InferenceSession.create(await rewrite('resnet_bn', 'deeplift', '--zero-baseline'), { logSeverityLevel: 3 });
  assert.equal([...s.inputNames].sort(), ['input', 'seed']);
  const out = await s.run({ input: new ort.Tensor('float32', fx.input.data, fx.input.dims), seed: oneHot(fx.meta.target, 7) });
  const a = out.attribution.data as Float32Array;
  assert.ok(relL2(a, fx.ref('deeplift.npy')!) <= 1e-4, `attribution vs deeplift.npy: ${relL2(a, fx.ref('deeplift.npy')!)}`);
  const ex = await Explainer.load(fx.model);
  const zeros = { data: new Float32Array(fx.input.data.length), dims: fx.input.dims };
  const [given, omitted] = [await ex.attribute(fx.input, { method: 'deeplift', target: fx.meta.target, baseline: zeros }), await ex.attribute(fx.input, { method: 'deeplift', target: fx.meta.target })];
  assert.equal(Array.from(given.attributions.data), Array.from(omitted.attributions.data));
  assert.equal(Array.from(omitted.attributions.data), Array.from(a));
  await s.release();
});

test.after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('a model whose own tensors bear the names the augmented graph would give (\'ref/h\', \'path/h\', \'xpl/Mul_0\': a TF model nesting one named ref): its graphs take other names; gradient, DeepLIFT and IG right, the saved graph valid', async () => {
  // h = x·W, a = tanh(h) named 'ref/h', b = a·2 named 'path/h', y = b·b named 'xpl/Mul_0' → 'y'.
  const W = [0.5, -1, 0.25, 2];
  const em = new Emitter(13, DataType.FLOAT, 'model');
  const h = em.rename(em.matmul('x', em.constFloat(W, [2, 2])), 'h');
  const a = em.rename(em.op('Tanh', [h]), 'ref/h');
  const b = em.rename(em.mul(a, em.scalar(2)), 'path/h');
  em.rename(em.rename(em.mul(b, b), 'xpl/Mul_0'), 'y');
  const model = encodeModel({ ir_version: 8, opset_import: [{ domain: '', version: 13 }], graph: { name: 'names', node: em.nodes, initializer: em.initializers, input: [valueInfo('x', DataType.FLOAT, ['N', 2])], output: [{ name: 'y' }] } });
  const x = Float32Array.from([0.3, -0.4]);
  const f = (v: number[], t: number) => { const hv = v[0] * W[t] + v[1] * W[2 + t]; return 4 * Math.tanh(hv) ** 2; };
  const t = 1;
  const hx = x[0] * W[t] + x[1] * W[2 + t];
  const slope = 8 * Math.tanh(hx) * (1 - Math.tanh(hx) ** 2);
  const ex = await Explainer.load(model);
  const g = await ex.attribute({ data: x, dims: [1, 2] }, { target: t });
  assert.ok(relL2(g.attributions.data, [slope * W[t], slope * W[2 + t]]) < 1e-6);
  for (const method of ['deeplift', 'integrated-gradients']) {
    const r = await ex.attribute({ data: x, dims: [1, 2] }, { method, target: t, baseline: 0.1 });
    const sum = r.attributions.data[0] + r.attributions.data[1];
    assert.ok(Math.abs(sum - (f(Array.from(x), t) - f([0.1, 0.1], t))) < 1e-5, `${method}: Σ ${sum}`);
  }
  const folder = tempDir('names');
  const [file, out] = [path.join(folder, 'model.onnx'), path.join(folder, 'deeplift.onnx')];
  fs.writeFileSync(file, model);
  const cli = await runCli(['rewrite', file, '--method', 'deeplift', '--out', out]);
  assert.is(cli.code, 0, cli.err.join('|'));
  const outputs = (loadModel(out).graph!.node ?? []).flatMap((n) => n.output ?? []).filter(Boolean);
  assert.is(new Set(outputs).size, outputs.length, 'every tensor written once');
  await ort.InferenceSession.create(out);
});

test.run();
