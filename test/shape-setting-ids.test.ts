import * as fs from 'fs';
import * as ort from 'onnxruntime-node';
import * as path from 'path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Explainer } from '../runtime';
import { readNpy } from '../runtime/node/npy-file';
import { NdArray } from '../runtime/npy';
import { runCli, tempDir } from './support/cli-harness';
import { relL2 } from './support/fixtures';
import { rejects } from './support/rejects';
import { Emitter } from '../rewriter/emitter';
import { DataType, encodeModel, valueInfo } from '../rewriter/proto';

/** A BART-style classifier pooling at each row's last <eos>: a NonZero over the ids sets tensor shapes (models/make_text.py eos). */
const DIR = path.resolve(__dirname, '../../models/text/eos_pool_op14');
const MODEL = path.join(DIR, 'model.onnx');
const npy = (name: string): NdArray => readNpy(path.join(DIR, `${name}.npy`));
const target = [2, 0, 1];

/** Rows `order` of an [N, ...] array. */
function rows(a: NdArray, order: number[]): NdArray {
  const per = a.data.length / a.dims[0];
  const data = new (a.data.constructor as new (n: number) => NdArray['data'])(order.length * per);
  order.forEach((r, k) => (data as Float32Array).set((a.data as Float32Array).subarray(r * per, (r + 1) * per), k * per));
  return { ...a, data, dims: [order.length, ...a.dims.slice(1)] };
}

test('token ids whose values set shapes (<eos> pooling by NonZero) are probed with their values: logits and the embedding gradient equal float64 autograd', async () => {
  const ex = await Explainer.load(MODEL);
  assert.equal(ex.shapeSetters(), ['input_ids']);
  const g = await ex.attribute(npy('input_ids'), { target, feeds: { attention_mask: npy('attention_mask') } });
  assert.ok(relL2(g.outputs.logits.data, npy('output').data as Float32Array) <= 1e-5);
  assert.ok(relL2(g.attributions.data, npy('grad_embedding').data as Float32Array) <= 1e-5, `rel L2 ${relL2(g.attributions.data, npy('grad_embedding').data as Float32Array)}`);
  // Another call with other ids (the rows reordered) builds its own graph: the stale one would pick the first call's positions.
  const order = [2, 0, 1];
  const again = await ex.attribute(rows(npy('input_ids'), order), { target: order.map((r) => target[r]), feeds: { attention_mask: rows(npy('attention_mask'), order) } });
  assert.ok(relL2(again.attributions.data, rows(npy('grad_embedding'), order).data as Float32Array) <= 1e-5);
});

test('DeepLIFT from the pad token and integrated gradients sum to f(x) − f(x⁰) through the <eos> pooling', async () => {
  const ex = await Explainer.load(MODEL);
  const feeds = { attention_mask: npy('attention_mask') };
  const d = await ex.attribute(npy('input_ids'), { method: 'deeplift', target, feeds, baselineToken: 1 });
  d.delta!.forEach((v, r) => assert.ok(Math.abs(v) < 1e-5, `DeepLIFT row ${r}: delta ${v}`));
  const ig = await ex.attribute(npy('input_ids'), { method: 'integrated-gradients', target, feeds, steps: 64 });
  ig.delta!.forEach((v, r) => assert.ok(Math.abs(v) < 1e-3, `IG row ${r}: delta ${v}`));
});

test('rows whose ids give other shapes (a different number of <eos>) are refused in one line naming the rows', async () => {
  const ex = await Explainer.load(MODEL);
  const ids = npy('input_ids');
  const fewer = { ...ids, data: BigInt64Array.from(ids.data as BigInt64Array, (v, i) => (i === 10 + 3 ? 5n : v)) };
  await rejects(() => ex.attribute(fewer, { target, feeds: { attention_mask: npy('attention_mask') } }), /rows 0 and 1 give '.*' the shapes \[.*\] and \[.*\]: its shape follows from the values of 'input_ids'/);
});

test('CLI: attribute explains the ids per token with the mask fed; info names the input whose values set shapes', async () => {
  const r = await runCli(['attribute', MODEL, '--input', path.join(DIR, 'input_ids.npy'), '--feed', `attention_mask=${path.join(DIR, 'attention_mask.npy')}`, '--method', 'deeplift', '--baseline-token', '1', '--target', target.join(',')]);
  assert.is(r.code, 0, r.err.join('\n'));
  assert.ok(r.out.some((l) => /^row 2: convergence delta/.test(l)), r.out.join('\n'));
  const info = await runCli(['info', MODEL]);
  assert.ok(info.out.includes("shapes set by the values of 'input_ids' (probed with the values given; every row must give row 0's shapes): after node '/NonZero' (NonZero, opset 14)"), info.out.join('\n'));
});

test('rewrite and export-triton take the ids that set shapes with --feed (refused without, saying so); plain onnxruntime runs the saved graph to autograd\'s gradient', async () => {
  const dir = tempDir('eos-rewrite');
  const out = path.join(dir, 'aug.onnx');
  const missing = await runCli(['rewrite', MODEL, '--method', 'gradient', '--shape', '1,10,16', '--out', out]);
  assert.is(missing.code, 1);
  assert.match(missing.err[0], /its tensors' shapes follow from the values of 'input_ids', which were not given: give them \(--feed NAME=FILE, API feeds\)$/);
  const row0 = (a: NdArray) => ({ ...a, data: a.data.slice(0, a.data.length / 3), dims: [1, ...a.dims.slice(1)] } as NdArray);
  fs.writeFileSync(path.join(dir, 'ids.json'), JSON.stringify([Array.from(row0(npy('input_ids')).data as BigInt64Array, Number)]));
  fs.writeFileSync(path.join(dir, 'mask.json'), JSON.stringify([Array.from(row0(npy('attention_mask')).data as BigInt64Array, Number)]));
  const r = await runCli(['rewrite', MODEL, '--method', 'gradient', '--shape', '1,10,16', '--feed', `input_ids=${path.join(dir, 'ids.json')}`, '--feed', `attention_mask=${path.join(dir, 'mask.json')}`, '--out', out]);
  assert.is(r.code, 0, r.err.join('\n'));
  const session = await ort.InferenceSession.create(out, { logSeverityLevel: 3 });
  const seed = new Float32Array(3);
  seed[target[0]] = 1;
  const got = await session.run({
    '/word/Gather_output_0': new ort.Tensor('float32', row0(npy('embedding')).data as Float32Array, [1, 10, 16]),
    input_ids: new ort.Tensor('int64', row0(npy('input_ids')).data as BigInt64Array, [1, 10]),
    attention_mask: new ort.Tensor('int64', row0(npy('attention_mask')).data as BigInt64Array, [1, 10]),
    seed: new ort.Tensor('float32', seed, [1, 3]),
  });
  assert.ok(relL2(got.attribution.data as Float32Array, row0(npy('grad_embedding')).data as Float32Array) <= 1e-5);
  await session.release();
  const triton = await runCli(['export-triton', MODEL, '--method', 'gradient', '--shape', '1,10,16', '--feed', `input_ids=${path.join(dir, 'ids.json')}`, '--out', path.join(dir, 'repo')]);
  assert.is(triton.code, 0, triton.err.join('\n'));
  assert.ok(triton.out.includes("its shapes are those of the values of 'input_ids' given with --feed (or their defaults): run it on values that give the same shapes"), triton.out.join('\n'));
  assert.ok(fs.statSync(path.join(dir, 'repo', 'model-gradient', '1', 'model.onnx')).size > 0);
});

test('an encoder-decoder (Bart\'s data flow: shared embedding, ids shifted right inside, sequence-first attention, <eos> pooling): gradient equals float64 autograd; IG (whose path repeats the decoder\'s query for the keys\' head count) and DeepLIFT sum to f(x) − f(x⁰)', async () => {
  const dir = path.resolve(__dirname, '../../models/text/bart_op14');
  const bart = (name: string): NdArray => readNpy(path.join(dir, `${name}.npy`));
  const ex = await Explainer.load(path.join(dir, 'model.onnx'));
  const options = { target: [1, 2], feeds: { attention_mask: bart('attention_mask') } };
  const g = await ex.attribute(bart('input_ids'), options);
  assert.ok(relL2(g.attributions.data, bart('grad_embedding').data as Float32Array) <= 1e-5);
  const ig = await ex.attribute(bart('input_ids'), { ...options, method: 'integrated-gradients', steps: 64, baselineToken: 1 });
  ig.delta!.forEach((v, r) => assert.ok(Math.abs(v) < 2e-4, `IG row ${r}: delta ${v}`));
  const d = await ex.attribute(bart('input_ids'), { ...options, method: 'deeplift', baselineToken: 1 });
  d.delta!.forEach((v, r) => assert.ok(Math.abs(v) < 1e-5, `DeepLIFT row ${r}: delta ${v}`));
});

test('info --layers on it: without the ids the list says why it is empty (their values set shapes) and names --feed; with one row of ids fed it lists the layers with their shapes (their length in place of --shape); --feed without --layers is one line', async () => {
  const dir = tempDir('eos-info');
  const one = (name: string) => { const file = path.join(dir, `${name}.json`); fs.writeFileSync(file, JSON.stringify([Array.from(rows(npy(name), [0]).data as BigInt64Array, Number)])); return file; };
  const bare = await runCli(['info', MODEL, '--layers', '--shape', '1,10,16']);
  assert.is(bare.code, 0, bare.err.join('\n'));
  assert.ok(bare.out.some((l) => /^  none listed: no shapes at input shape \[10,16\]: .*its tensors' shapes follow from the values of 'input_ids', which were not given: give them \(--feed NAME=FILE, API feeds\)$/.test(l)), bare.out.join('\n'));
  const fed = await runCli(['info', MODEL, '--layers', '--shape', '1,10,16', '--feed', `input_ids=${one('input_ids')}`, '--feed', `attention_mask=${one('attention_mask')}`]);
  assert.is(fed.code, 0, fed.err.join('\n'));
  assert.ok(fed.out.includes('  /layer/Reshape_output_0  [N, 10, 2, 8]  (Reshape)'), fed.out.join('\n'));
  const unshaped = await runCli(['info', MODEL, '--layers', '--feed', `input_ids=${one('input_ids')}`, '--feed', `attention_mask=${one('attention_mask')}`]);
  assert.equal(unshaped.out.filter((l) => l.startsWith('  /')), fed.out.filter((l) => l.startsWith('  /')), 'the fed ids give the length');
  const stray = await runCli(['info', MODEL, '--feed', `input_ids=${one('input_ids')}`]);
  assert.equal([stray.code, stray.out, stray.err], [1, [], ['onnx-explain: error: info: --feed applies only with --layers']]);
});


test('a model that fixes batch 1 whose fed scalar sets a shape (ConstantOfShape(n − 1)): the batch-freeing check runs with the fed value, not zeros', async () => {
  const em = new Emitter(13, DataType.FLOAT, 't');
  const size = em.concat([em.constInt([1], [1]), em.reshape(em.op('Sub', ['n', em.constInt([1], [])]), [1])], 0);
  em.rename(em.concat([em.op('Tanh', ['x']), em.op('ConstantOfShape', [size])], 1), 'y');
  const model = encodeModel({
    ir_version: 8, opset_import: [{ domain: '', version: 13 }], producer_name: 'onnx-explain tests',
    graph: { name: 'padded', node: em.nodes, initializer: em.initializers, input: [valueInfo('x', DataType.FLOAT, [1, 3]), valueInfo('n', DataType.INT64, [])], output: [{ name: 'y' }] },
  });
  const ex = await Explainer.load(model);
  const x = Float32Array.of(0.3, -0.5, 0.9);
  const g = await ex.attribute({ data: x, dims: [1, 3] }, { target: 0, feeds: { n: { data: BigInt64Array.of(3n), dims: [] } } });
  assert.equal(g.outputs.y.dims, [1, 5]);
  assert.ok(Math.abs(g.attributions.data[0] - (1 - Math.tanh(0.3) ** 2)) < 1e-6 && g.attributions.data[1] === 0, `${g.attributions.data}`);
});

test.run();
