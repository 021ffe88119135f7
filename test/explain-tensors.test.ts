import * as fs from 'fs';
import * as ort from 'onnxruntime-node';
import * as path from 'path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Emitter, float } from '../rewriter/emitter';
import { DataType, encodeModel, ModelProto, valueInfo } from '../rewriter/proto';
import { Explainer, loadModel } from '../runtime';
import { modelInputs } from '../runtime/inputs';
import { GraphView } from '../rewriter/graph-view';
import { readNpy, writeNpy } from '../runtime/node/npy-file';
import { captions } from '../cli/visualize';
import { runCli, tempDir } from './support/cli-harness';
import { loadFixture, relL2, tensorValues } from './support/fixtures';
import { rejects } from './support/rejects';
import { tinyModel } from './support/tiny-model';

const DIR = path.resolve(__dirname, '../../models/layers/threshold_if');
const MODEL = path.join(DIR, 'model.onnx');
const INPUT = path.join(DIR, 'input.npy');
const meta = JSON.parse(fs.readFileSync(path.join(DIR, 'meta.json'), 'utf8'));
const ref = (name: string) => Float32Array.from(readNpy(path.join(DIR, `${name}.npy`)).data as Float32Array);
const input = () => { const a = readNpy(INPUT); return { data: Float32Array.from(a.data as Float32Array), dims: a.dims }; };
const out = tempDir('explain-tensors');

test('an intermediate tensor whose consumers are Softmax → If and ArgMax is explained as PyTorch autograd', async () => {
  const ex = await Explainer.load(MODEL);
  assert.equal(ex.outputNames, ['score', 'label']);
  const r = await ex.attribute(input(), { output: meta.logits, target: meta.targets });
  const err = relL2(r.attributions.data, ref('grad_logits'));
  assert.ok(err < 1e-5, `logits gradient: rel L2 ${err}`);
  assert.ok(relL2(r.outputs[meta.logits].data, ref('logits')) < 1e-5, 'the explained tensor is returned from the same run');
  assert.ok(r.outputs.score, 'the model outputs after the If are still computed');
  // Default target: each row's argmax of the explained tensor.
  const argmax = await ex.attribute(input(), { output: meta.logits });
  const logits = ref('logits');
  assert.equal(argmax.targets, [0, 1, 2].map((row) => { const l = Array.from(logits.subarray(row * 5, row * 5 + 5)); return l.indexOf(Math.max(...l)); }));
});

test('multi-index target (a pixel of a feature map) and a channel mean (--reduce mean over H, W) vs autograd', async () => {
  const ex = await Explainer.load(MODEL);
  const pixel = await ex.attribute(input(), { output: meta.features, target: [meta.pixel] });
  assert.ok(relL2(pixel.attributions.data, ref('grad_pixel')) < 1e-5, `pixel: rel L2 ${relL2(pixel.attributions.data, ref('grad_pixel'))}`);
  const [c, i, j] = meta.pixel;
  const flat = (c * 8 + i) * 8 + j;
  assert.equal(pixel.targets, [flat, flat, flat]);
  const perRow = await ex.attribute(input(), { output: meta.features, target: [meta.pixel, meta.pixel, meta.pixel] });
  assert.equal(perRow.attributions.data, pixel.attributions.data);
  const mean = await ex.attribute(input(), { output: meta.features, reduce: 'mean', reduceAxes: [2, 3], target: meta.channel });
  assert.ok(relL2(mean.attributions.data, ref('grad_channel_mean')) < 1e-5, `channel mean: rel L2 ${relL2(mean.attributions.data, ref('grad_channel_mean'))}`);
  // sum = mean × H·W.
  const sum = await ex.attribute(input(), { output: meta.features, reduce: 'sum', reduceAxes: [-2, -1], target: meta.channel });
  const scaled = Float32Array.from(ref('grad_channel_mean'), (v) => v * 64);
  assert.ok(relL2(sum.attributions.data, scaled) < 1e-5, 'channel sum');
});

test('negative indices count from the end as Python\'s output[:, -1] (Captum\'s int and tuple targets): target, multi-index and neuron equal the positive ones (the multi-index against autograd)', async () => {
  const ex = await Explainer.load(MODEL);
  const [c, i, j] = meta.pixel;
  const pixel = await ex.attribute(input(), { output: meta.features, target: [[c - 6, i - 8, j]] });
  assert.ok(relL2(pixel.attributions.data, ref('grad_pixel')) < 1e-5, `pixel from the end: rel L2 ${relL2(pixel.attributions.data, ref('grad_pixel'))}`);
  assert.equal(pixel.targets, [0, 1, 2].map(() => (c * 8 + i) * 8 + j), 'the targets returned are the positive indices');
  const last = await ex.attribute(input(), { output: meta.logits, target: -1 });
  const fourth = await ex.attribute(input(), { output: meta.logits, target: 4 });
  assert.equal(last.targets, [4, 4, 4]);
  assert.equal(last.attributions.data, fourth.attributions.data);
  const neuron = { method: 'neuron-conductance', layer: meta.layer, steps: 5 };
  const fromEnd = await ex.attribute(input(), { output: meta.features, target: [meta.pixel], neuron: [-3, -3, -7], ...neuron });
  const positive = await ex.attribute(input(), { output: meta.features, target: [meta.pixel], neuron: [1, 5, 1], ...neuron });
  assert.ok(positive.attributions.data.some((v) => v !== 0));
  assert.equal(fromEnd.attributions.data, positive.attributions.data);
  await rejects(() => ex.attribute(input(), { output: meta.logits, target: -6 }), /target -6 is out of range for output '[^']+' with 5 classes \(0\.\.4, or -5\.\.-1 from the end\)/);
  await rejects(() => ex.attribute(input(), { output: meta.features, target: [[-7, 0, 0]] }), /index 0 must be in 0\.\.5, or -6\.\.-1 from the end/);
  const cli = await runCli(['attribute', MODEL, '--input', INPUT, '--output', meta.logits, '--target', '-1,4,-5']);
  assert.is(cli.code, 0, cli.err.join('\n'));
  assert.match(cli.out.join('\n'), /row 0: target 4,[^]*row 1: target 4,[^]*row 2: target 0,/);
});

test('reduceWeights: a masked sum of the tensor (Captum\'s segmentation wrapper) vs autograd, per row; feature ablation of it vs forwards; the CLI prints Σ w·y', async () => {
  const ex = await Explainer.load(MODEL);
  const [c, i, j] = meta.pixel;
  const pixel = new Float32Array(6 * 64);
  pixel[(c * 8 + i) * 8 + j] = 1;
  const channel = Float32Array.from({ length: 6 * 64 }, (_, p) => (Math.floor(p / 64) === meta.channel ? 1 : 0));
  const one = await ex.attribute(input(), { output: meta.features, reduceWeights: { data: pixel, dims: [6, 8, 8] } });
  assert.ok(relL2(one.attributions.data, ref('grad_pixel')) < 1e-5, `one-hot weights: rel L2 ${relL2(one.attributions.data, ref('grad_pixel'))}`);
  assert.equal(one.targets, [0, 0, 0], 'the whole tensor reduced: one value per row');
  // The same weights as an onnxruntime float16 Tensor (1.0 is the bits 0x3C00).
  const half = await ex.attribute(input(), { output: meta.features, reduceWeights: new ort.Tensor('float16', Uint16Array.from(pixel, (v) => (v ? 0x3c00 : 0)), [6, 8, 8]) });
  assert.equal(Array.from(half.attributions.data), Array.from(one.attributions.data));
  const perRow = await ex.attribute(input(), { output: meta.features, reduceWeights: { data: Float32Array.from([...pixel, ...channel, ...new Float32Array(6 * 64)]), dims: [3, 6, 8, 8] } });
  const row = (v: Float32Array, r: number) => v.subarray(r * v.length / 3, (r + 1) * v.length / 3);
  assert.ok(relL2(row(perRow.attributions.data, 0), row(ref('grad_pixel'), 0)) < 1e-5, 'row 0: the pixel');
  assert.ok(relL2(row(perRow.attributions.data, 1), row(ref('grad_channel_mean'), 1).map((v) => v * 64)) < 1e-5, 'row 1: the channel sum');
  assert.ok(row(perRow.attributions.data, 2).every((v) => v === 0), 'row 2: zero weights');
  // Feature ablation with one group: every feature gets Σ w·(y(x) − y(0)), from plain forwards.
  const x = input();
  const zero = { data: new Float32Array(x.data.length), dims: x.dims };
  const [yx, y0] = [await tensorValues(ex, x, meta.features), await tensorValues(ex, zero, meta.features)];
  const ablated = await ex.attribute(x, { output: meta.features, method: 'feature-ablation', featureMask: { data: new Int32Array(x.data.length / 3), dims: x.dims.slice(1) }, reduceWeights: { data: channel, dims: [1, 6, 8, 8] } });
  for (let r = 0; r < 3; r++) {
    const want = channel.reduce((a, w, p) => a + w * (yx[r * 384 + p] - y0[r * 384 + p]), 0);
    assert.ok(row(ablated.attributions.data, r).every((v) => Math.abs(v - want) < 1e-5 * (1 + Math.abs(want))), `row ${r}: ${row(ablated.attributions.data, r)[0]} vs ${want}`);
  }
  await rejects(() => ex.attribute(x, { output: meta.features, reduceWeights: { data: pixel, dims: [6, 64] } }), /reduceWeights of shape \[6,64\] does not broadcast to 'onnx::ReduceMean_10' \[N, 6, 8, 8\]/);
  await rejects(() => ex.attribute(x, { output: meta.features, reduceWeights: { data: pixel.subarray(0, 48), dims: [6, 8] } }), /reduceWeights of shape \[6,8\] does not broadcast/);
  await rejects(() => ex.attribute(x, { output: meta.features, reduceWeights: { data: new Float32Array(2 * 384), dims: [2, 6, 8, 8] } }), /reduceWeights of shape \[2,6,8,8\] give 2 rows for 3 input rows/);
  const file = path.join(out, 'channel-weights.npy');
  writeNpy(file, channel, [6, 8, 8]);
  const cli = await runCli(['attribute', MODEL, '--input', INPUT, '--output', meta.features, '--reduce-weights', file]);
  assert.is(cli.code, 0, cli.err.join('|'));
  const printed = Number(/= (\S+)$/.exec(cli.out[1])![1]);
  const want = channel.reduce((a, w, p) => a + w * yx[384 + p], 0);
  assert.ok(Math.abs(printed - want) < 1e-4 * Math.abs(want), `printed ${printed} vs Σ w·y ${want}`);
});

// Methods that run expanded rows (noisy copies, path points, baseline draws) passed the input's
// per-row weights to runs of n·samples rows: "give 3 rows for 15 input rows". The seed is linear in
// the weights, so each row's attributions must equal that row of a run with its weights shared.
test('per-row reduceWeights under the noise tunnel, GradientShap and the layer path methods equal each row\'s weights shared by every row; lower-rank weights broadcast as numpy', async () => {
  const ex = await Explainer.load(MODEL);
  const x = input();
  const w = Float32Array.from({ length: 3 * 384 }, (_, p) => Math.sin(p * 0.37) + (p % 7 === 0 ? 1 : 0));
  const perRowWeights = { data: w, dims: [3, 6, 8, 8] };
  const shared = (r: number) => ({ data: w.subarray(r * 384, (r + 1) * 384), dims: [1, 6, 8, 8] });
  const row = (v: Float32Array, r: number) => v.subarray(r * v.length / 3, (r + 1) * v.length / 3);
  const cases: Record<string, object> = {
    'smoothgrad of gradient': { method: 'gradient', noiseTunnel: 'smoothgrad', samples: 4, seed: 3 },
    'vargrad of integrated gradients': { method: 'integrated-gradients', noiseTunnel: 'vargrad', samples: 3, steps: 4, internalBatchSize: 5 },
    'gradient-shap': { method: 'gradient-shap', samples: 4, seed: 2, internalBatchSize: 5 },
    'layer-conductance': { method: 'layer-conductance', layer: meta.layer, steps: 5, internalBatchSize: 4 },
    'internal-influence': { method: 'internal-influence', layer: meta.layer, steps: 5 },
  };
  for (const [name, options] of Object.entries(cases)) {
    const all = await ex.attribute(x, { output: meta.features, reduceWeights: perRowWeights, ...options });
    for (let r = 0; r < 3; r++) {
      const alone = await ex.attribute(x, { output: meta.features, reduceWeights: shared(r), ...options });
      const err = relL2(row(all.attributions.data, r), row(alone.attributions.data, r));
      assert.ok(err < 1e-6, `${name}, row ${r}: rel L2 ${err}`);
    }
  }
  // Per-row contrasts likewise reach the layer path's runs.
  const contrast = await ex.attribute(x, { output: 'logits', target: [1, 3, 4], contrast: [0, 2, 2], method: 'layer-conductance', layer: meta.layer, steps: 5 });
  const single = await ex.attribute(x, { output: 'logits', target: [1, 3, 4], contrast: 2, method: 'layer-conductance', layer: meta.layer, steps: 5 });
  assert.ok(relL2(row(contrast.attributions.data, 1), row(single.attributions.data, 1)) < 1e-6);
  // A neuron's own gradient ignores f's reduction: weights one-hot on a pixel are that pixel's target.
  const [c, i, j] = meta.pixel;
  const pixel = new Float32Array(384);
  pixel[(c * 8 + i) * 8 + j] = 1;
  const neuron = { method: 'neuron-conductance', layer: meta.layer, neuron: [1, 5, 1], steps: 5 };
  const weighted = await ex.attribute(x, { output: meta.features, reduceWeights: { data: pixel, dims: [6, 8, 8] }, ...neuron });
  const targeted = await ex.attribute(x, { output: meta.features, target: [meta.pixel], ...neuron });
  assert.ok(targeted.attributions.data.some((v) => v !== 0), 'the neuron is in the pixel\'s receptive field');
  assert.ok(relL2(weighted.attributions.data, targeted.attributions.data) < 1e-6, `neuron conductance: rel L2 ${relL2(weighted.attributions.data, targeted.attributions.data)}`);
  // [8, 8] weights broadcast over the 6 channels, [8] over channels and rows, as numpy.
  const hw = Float32Array.from({ length: 64 }, (_, p) => Math.cos(p));
  const low = await ex.attribute(x, { output: meta.features, reduceWeights: { data: hw, dims: [8, 8] } });
  const full = await ex.attribute(x, { output: meta.features, reduceWeights: { data: Float32Array.from({ length: 384 }, (_, p) => hw[p % 64]), dims: [6, 8, 8] } });
  assert.equal(low.attributions.data, full.attributions.data);
  const last = await ex.attribute(x, { output: meta.features, reduceWeights: { data: hw.subarray(0, 8), dims: [8] } });
  const lastFull = await ex.attribute(x, { output: meta.features, reduceWeights: { data: Float32Array.from({ length: 384 }, (_, p) => hw[p % 8]), dims: [6, 8, 8] } });
  assert.equal(last.attributions.data, lastFull.attributions.data);
});

// Captions took the flat target into the whole unreduced row: "target 13 (p 0.04) pred 9" for 3:1.
// The CLI refused --reduce-axes beside --reduce-weights (a weighted sum by default) and labelled Σ w·y as y[0].
test('a figure\'s captions and the printed label of a multi-index or reduced target give the explained value at it; --reduce-weights with --reduce-axes alone is a weighted sum', async () => {
  const ex = await Explainer.load(MODEL);
  const x = input();
  const feats = await tensorValues(ex, x, meta.features);
  const [c, i, j] = meta.pixel;
  const options = { output: meta.features, target: [meta.pixel] };
  const r = await ex.attribute(x, options);
  assert.equal(await captions(ex, r, options, x.dims.slice(1)), [0, 1, 2].map((row) => `row ${row}: target ${c}:${i}:${j} (${meta.features}[${c}:${i}:${j}] ${feats[row * 384 + (c * 8 + i) * 8 + j].toPrecision(3)})`));
  const mean = { output: meta.features, reduce: 'mean' as const, reduceAxes: [2, 3], target: meta.channel };
  const m = await ex.attribute(x, mean);
  const channelMean = (row: number) => feats.subarray(row * 384 + meta.channel * 64, row * 384 + (meta.channel + 1) * 64).reduce((a, v) => a + v, 0) / 64;
  assert.equal(await captions(ex, m, mean, x.dims.slice(1)), [0, 1, 2].map((row) => `row ${row}: target ${meta.channel} (mean(${meta.features})[${meta.channel}] ${channelMean(row).toPrecision(3)})`));
  const weights = path.join(out, 'hw-weights.npy');
  const hw = Float32Array.from({ length: 384 }, (_, p) => (Math.floor(p / 64) === 2 ? 1 : 0.5));
  writeNpy(weights, hw, [6, 8, 8]);
  const cli = await runCli(['attribute', MODEL, '--input', INPUT, '--output', meta.features, '--reduce-weights', weights, '--reduce-axes', '2,3', '--target', '2']);
  assert.is(cli.code, 0, cli.err.join('|'));
  const sum = (row: number) => hw.reduce((a, w, p) => a + (Math.floor(p / 64) === 2 ? w * feats[row * 384 + p] : 0), 0);
  const printed = /^row 1: target 2, sum\(w·onnx::ReduceMean_10\)\[2\] = (\S+)$/.exec(cli.out[1]);
  assert.ok(printed, cli.out.join('\n'));
  assert.ok(Math.abs(Number(printed![1]) - sum(1)) < 1e-4 * Math.abs(sum(1)), `${printed![1]} vs ${sum(1)}`);
});

test('CLI: --target i:j:k, --reduce mean --reduce-axes, printed values equal the tensor', async () => {
  const file = path.join(out, 'pixel.npy');
  const r = await runCli(['attribute', MODEL, '--input', INPUT, '--output', meta.features, '--target', meta.pixel.join(':'), '--out', file]);
  assert.is(r.code, 0, r.err.join('|'));
  assert.match(r.out[0], new RegExp(`^row 0: target ${meta.pixel.join(':')}, `));
  assert.ok(relL2(readNpy(file).data as Float32Array, ref('grad_pixel')) < 1e-5);
  const m = await runCli(['attribute', MODEL, '--input', INPUT, '--output', meta.features, '--reduce', 'mean', '--reduce-axes', '2,3', '--target', String(meta.channel), '--out', file]);
  assert.is(m.code, 0, m.err.join('|'));
  const ex = await Explainer.load(MODEL);
  const feats = await tensorValues(ex, input(), meta.features);
  const channelMean = (row: number) => feats.subarray((row * 6 + meta.channel) * 64, (row * 6 + meta.channel + 1) * 64).reduce((a, v) => a + v, 0) / 64;
  const printed = Number(/= (\S+)$/.exec(m.out[1])![1]);
  assert.ok(Math.abs(printed - channelMean(1)) < 1e-5, `printed ${printed} vs ${channelMean(1)}`);
  assert.ok(relL2(readNpy(file).data as Float32Array, ref('grad_channel_mean')) < 1e-5);
  const perRow = await runCli(['attribute', MODEL, '--input', INPUT, '--output', meta.features, '--target', `${meta.pixel.join(':')},0:0:0,1:2:3`]);
  assert.is(perRow.code, 0, perRow.err.join('|'));
  assert.match(perRow.out[2], /^row 2: target 1:2:3, /);
  // Perturbation methods report the explained tensor too (the CLI prints its value).
  const occluded = await runCli(['attribute', MODEL, '--input', INPUT, '--output', meta.features, '--target', meta.pixel.join(':'), '--method', 'occlusion', '--window', '1,4,4', '--out', file]);
  assert.is(occluded.code, 0, occluded.err.join('|'));
  assert.is(Number(/= (\S+)$/.exec(occluded.out[0])![1]), Number(/= (\S+)$/.exec(r.out[0])![1]), 'occlusion prints the same value of the tensor');
});

// ML.NET's k-means returns distances and their ArgMin: the default target was the farthest cluster.
test('the default target follows the model\'s own prediction: the smallest score where an ArgMin reads it (k-means distances), else the largest', async () => {
  const em = new Emitter(13, DataType.FLOAT, 'kmeans');
  const score = em.matmul('x', em.constFloat([1, -2, 0.5, 3, 0.2, -1], [2, 3]));
  em.rename(em.op('ArgMin', [score], { axis: 1, keepdims: 0 }), 'label');
  em.rename(em.op('Identity', [score]), 'score');
  const graph = { name: 'kmeans', node: em.nodes, initializer: em.initializers, input: [valueInfo('x', DataType.FLOAT, ['N', 2])], output: [{ name: 'label' }, valueInfo('score', DataType.FLOAT, ['N', 3])] };
  const x = { data: Float32Array.from([0.5, 1, -1, 0.3, 2, -0.7]), dims: [3, 2] };
  const scores = [0, 1, 2].map((r) => [0, 1, 2].map((c) => x.data[2 * r] * [1, -2, 0.5][c] + x.data[2 * r + 1] * [3, 0.2, -1][c]));
  const pick = (f: (a: number, b: number) => boolean) => scores.map((row) => row.reduce((best, v, k) => (f(v, row[best]) ? k : best), 0));
  const kmeans = await (await Explainer.load(encodeModel({ ir_version: 8, opset_import: [{ domain: '', version: 13 }], graph }))).attribute(x, { output: 'score' });
  assert.equal(kmeans.targets, pick((a, b) => a < b));
  const plain = await (await Explainer.load(encodeModel({ ir_version: 8, opset_import: [{ domain: '', version: 13 }], graph: { ...graph, node: graph.node.filter((n) => n.op_type !== 'ArgMin' && n.output![0] !== 'label'), output: graph.output.slice(1) } }))).attribute(x, {});
  assert.equal(plain.targets, pick((a, b) => a > b));
});

// MATLAB's exports end in Transpose → Softmax → Transpose (a softmax over channels last): the probabilities were explained.
test('a final Softmax between Transposes that undo each other is explained through the logits before them, in the output\'s layout', async () => {
  const C = [0.5, -1.5, 2, 0.25, -0.75, 1.25];
  const em = new Emitter(13, DataType.FLOAT, 'matlab');
  const z = em.mul('x', em.constFloat(C, [1, 2, 3]));
  const probs = em.op('Softmax', [em.op('Transpose', [z], { perm: [0, 2, 1] })], { axis: -1 });
  em.rename(em.op('Transpose', [probs], { perm: [0, 2, 1] }), 'y');
  const ex = await Explainer.load(encodeModel({ ir_version: 8, opset_import: [{ domain: '', version: 13 }], graph: { name: 'matlab', node: em.nodes, initializer: em.initializers, input: [valueInfo('x', DataType.FLOAT, ['N', 2, 3])], output: [{ name: 'y' }] } }));
  const x = { data: Float32Array.from([0.3, -0.2, 0.9, 1.1, -0.4, 0.6]), dims: [1, 2, 3] };
  const r = await ex.attribute(x, { target: [[1, 2]] });
  // ∂z[1, 2]/∂x = C[1, 2] at (1, 2), 0 elsewhere.
  assert.equal(Array.from(r.attributions.data), [0, 0, 0, 0, 0, C[5]]);
  assert.equal(Object.keys(r.outputs).sort(), ['matlab/Mul_1', 'y'].sort());
});

// onnx-caffe2's SqueezeNet keeps Dropout's mask output (float before opset 12): info listed it as explainable.
test('Dropout\'s mask output is not among the explainable tensors; its output is', async () => {
  const em = new Emitter(9, DataType.FLOAT, 'drop');
  const [kept, mask] = em.opN('Dropout', [em.op('Relu', ['x'])], 2, { ratio: float(0.5) });
  em.rename(em.add(kept, mask), 'y');
  const ex = await Explainer.load(encodeModel({ ir_version: 4, opset_import: [{ domain: '', version: 9 }], graph: { name: 'drop', node: em.nodes, initializer: em.initializers, input: [valueInfo('x', DataType.FLOAT, ['N', 3])], output: [{ name: 'y' }] } }));
  const names = (await ex.explainableTensors()).map((t) => t.name);
  assert.ok(names.includes(kept) && !names.includes(mask), names.join(', '));
});

test('errors name the tensor and its shape', async () => {
  const fails = async (args: string[], re: RegExp) => {
    const r = await runCli(['attribute', MODEL, '--input', INPUT, ...args]);
    assert.is(r.code, 1, args.join(' '));
    assert.is(r.err.length, 1, r.err.join('|'));
    assert.match(r.err[0], /^onnx-explain: error: /);
    assert.match(r.err[0], re);
  };
  await fails(['--output', meta.features, '--target', '2:3'], /target 2:3 has 2 indices, but '[^']+' \[N, 6, 8, 8\] takes 3/);
  await fails(['--output', meta.features, '--target', '6:0:0'], /target 6:0:0 is out of range for '[^']+' \[N, 6, 8, 8\]: index 0 must be in 0\.\.5/);
  await fails(['--output', meta.features, '--reduce', 'mean', '--reduce-axes', '2,3', '--target', '1:1'], /\[N, 6, 8, 8\] reduced over axes 2,3 takes 1/);
  await fails(['--output', meta.features, '--reduce', 'sum', '--reduce-axes', '0'], /--reduce-axes 0 is not a non-batch axis of '[^']+' \[N, 6, 8, 8\]/);
  await fails(['--output', meta.logits, '--target', '2:3,1'], /mixes class indices and multi-indices/);
  await fails(['--output', 'score'], /'score' has no gradient with respect to 'input': it depends on it only through node '[^']*' \(Greater, opset 13\), whose output is boolean/);
  // Path methods name the model's tensors, not those of the path's renamed copy.
  await fails(['--output', 'score', '--method', 'integrated-gradients'], /: 'score' has no gradient with respect to 'input': it depends on it only through node '[^'/]*' \(Greater, opset 13\), whose output is boolean/);
  await fails(['--output', 'nothing'], /no output or tensor named 'nothing'/);
  await fails(['--output', meta.logits, '--layer', 'label'], /layer 'label' \[N\] is not a float tensor/);
  await fails(['--output', meta.layer, '--layer', meta.logits], /does not depend on layer '[^']+' \[N, 5\]/);
  await fails(['--method', 'layer-activation'], /needs a layer/);
  await fails(['--output', meta.logits, '--method', 'layer-activation', '--layer', meta.layer], /--output: method 'layer-activation' explains no output: it returns the layer's values/);
  // A node's name, a weight or the input where a tensor computed from the input is asked for: said so.
  const model = loadModel(MODEL);
  const node = model.graph!.node!.find((n) => n.name && n.output?.[0] === meta.logits) ?? model.graph!.node!.find((n) => n.name && !(n.output ?? []).includes(n.name))!;
  await fails(['--output', node.name!], new RegExp(`'${node.name!.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}' is the name of node .*, not a tensor: its output is '`));
  const weight = model.graph!.initializer![0].name!;
  await fails(['--output', meta.logits, '--layer', weight], /layer '[^']+' is a constant \(a weight\), not computed from the input/);
  // The input as the layer is on every path: no note that attributions at it need not sum.
  const at = await runCli(['attribute', MODEL, '--input', INPUT, '--output', meta.logits, '--method', 'deeplift', '--layer', 'input']);
  assert.is(at.code, 0, at.err.join('|'));
  assert.not.ok(at.out.some((l) => /is not on every path/.test(l)), at.out.join('\n'));
});

test('a batch-1 export whose output squeezed the batch away ([2] from [1, 2]) is refused naming the tensor before the squeeze, which explains as asked', async () => {
  const em = new Emitter(13, DataType.FLOAT, 'squeezed');
  const W = [0.5, -1, 2, 0.3, -0.7, 1.1];
  const rows = em.rename(em.matmul('x', em.constFloat(W, [3, 2])), 'rows');
  em.rename(em.squeeze(rows, [0]), 'y');
  const model = encodeModel({ ir_version: 8, opset_import: [{ domain: '', version: 13 }], graph: { name: 'squeezed', node: em.nodes, initializer: em.initializers, input: [valueInfo('x', DataType.FLOAT, [1, 3])], output: [{ name: 'y' }] } });
  const ex = await Explainer.load(model);
  const x = { data: Float32Array.from([1, -2, 0.5]), dims: [1, 3] };
  await rejects(() => ex.attribute(x, { target: 1 }), /explained tensor 'y' has shape \[2\] at batch 1 with no batch on axis 0; only tensors with one row per input row can be explained; explain 'rows' \[N, 2\], which it is computed from \(--output\)/);
  const g = await ex.attribute(x, { target: 1, output: 'rows' });
  assert.equal(Array.from(g.attributions.data), [W[1], W[3], W[5]].map(Math.fround));
  // Such a tensor as the layer: the advice names a layer (--layer), not a tensor to explain.
  const em2 = new Emitter(13, DataType.FLOAT, 'squeezed-layer');
  const squeezed = em2.rename(em2.squeeze(em2.rename(em2.matmul('x', em2.constFloat(W, [3, 2])), 'rows'), [0]), 'squeezed');
  em2.rename(em2.unsqueeze(em2.op('Relu', [squeezed]), [0]), 'y');
  const layered = await Explainer.load(encodeModel({ ir_version: 8, opset_import: [{ domain: '', version: 13 }], graph: { name: 'squeezed-layer', node: em2.nodes, initializer: em2.initializers, input: [valueInfo('x', DataType.FLOAT, [1, 3])], output: [{ name: 'y' }] } }));
  await rejects(() => layered.attribute(x, { target: 1, layer: 'squeezed' }), /layer 'squeezed' has shape \[2\] at batch 1 with no batch on axis 0; .*; attribute to 'rows' \[N, 2\], which it is computed from \(--layer\)/);
});

test('a detector\'s kept scores after NonMaxSuppression point at its pre-NMS scores, not at the boxes the NMS indices reach sooner; info lists no NMS as unsupported', async () => {
  const em = new Emitter(13, DataType.FLOAT, 'nms');
  const predictions = em.rename(em.matmul('x', em.constFloat(Array.from({ length: 32 }, (_, i) => Math.sin(i)), [4, 8])), 'predictions');
  const boxes = em.rename(em.unsqueeze(em.slice(predictions, [0], [4], [1]), [1]), 'boxes');
  const scores = em.unsqueeze(em.op('Sigmoid', [em.slice(predictions, [4], [8], [1])]), [2]);
  const kept = em.op('NonMaxSuppression', [boxes, scores, em.constInt([1], [1])]);
  // The scores flattened (no row axis left) and picked at the kept classes.
  const flat = em.op('Add', [em.op('Mul', [em.reshape(scores, [-1]), em.constFloat([1], [1])]), em.constFloat([0], [1])]);
  em.rename(em.op('Gather', [flat, em.op('ReduceMax', [kept], { axes: [1], keepdims: 0 })], { axis: 0 }), 'kept_scores');
  const model = encodeModel({ ir_version: 8, opset_import: [{ domain: '', version: 13 }], graph: { name: 'nms', node: em.nodes, initializer: em.initializers, input: [valueInfo('x', DataType.FLOAT, ['N', 4])], output: [{ name: 'kept_scores' }] } });
  const ex = await Explainer.load(model);
  await rejects(() => ex.attribute({ data: Float32Array.from([1, -2, 0.5, 3]), dims: [1, 4] }), /explained tensor 'kept_scores' has shape \[\d+\] .* explain '[^']*' \[N, 4, 1\], which it is computed from \(--output\)/);
  const file = path.join(out, 'nms.onnx');
  fs.writeFileSync(file, model);
  const info = await runCli(['info', file]);
  assert.ok(!info.out.some((l) => /unsupported ops: .*NonMaxSuppression/.test(l)), info.out.join('\n'));
});

test('a TF1 training graph (labels y_ beside images x, accuracy its only output) explains x, feeds y_, and points a scalar accuracy at the probabilities', async () => {
  const em = new Emitter(10, DataType.FLOAT, 'tf1');
  const W = [0.5, -1, 2, 0.3, -0.7, 1.1, 0.2, 0.9];
  const logits = em.rename(em.matmul('x:0', em.constFloat(W, [4, 2])), 'add:0');
  const y = em.rename(em.op('Softmax', [logits], { axis: 1 }), 'y:0');
  const hits = em.cast(em.compare('Equal', em.op('ArgMax', [y], { axis: 1, keepdims: 0 }), em.op('ArgMax', ['y_:0'], { axis: 1, keepdims: 0 })), DataType.FLOAT);
  em.rename(em.op('ReduceMean', [hits], { keepdims: 0 }), 'accuracy:0');
  const model = encodeModel({ ir_version: 5, opset_import: [{ domain: '', version: 10 }], graph: { name: 'tf1', node: em.nodes, initializer: em.initializers, input: [valueInfo('y_:0', DataType.FLOAT, [-1, 2]), valueInfo('x:0', DataType.FLOAT, [-1, 4])], output: [valueInfo('accuracy:0', DataType.FLOAT, [])] } });
  const file = path.join(out, 'tf1.onnx');
  fs.writeFileSync(file, model);
  const ex = await Explainer.load(model, { warn: () => {} });
  assert.equal(ex.input.name, 'x:0');
  const x = { data: Float32Array.from([1, -2, 0.5, 3, 0, 1, -1, 2]), dims: [2, 4] };
  await rejects(() => ex.attribute(x), /explained tensor 'accuracy:0' has shape \[\] at batch 1 with no batch on axis 0; only tensors with one row per input row can be explained; explain 'y:0' \[N, 2\], which it is computed from \(--output\)/);
  const g = await ex.attribute(x, { output: 'y:0', target: [1, 1] });
  assert.equal(Array.from(g.attributions.data), [W[1], W[3], W[5], W[7], W[1], W[3], W[5], W[7]].map(Math.fround));
  const info = await runCli(['info', file]);
  assert.match(info.out.join('\n'), /input: y_:0 \[-1, 2\] float32: fed with --feed y_:0=FILE \(default zeros\): only ArgMax, comparisons or shapes read it/);
  assert.match(info.out.join('\n'), /input: x:0 \[-1, 4\] float32: explained \(the others fed; --wrt all joins them\)/);
});

// It was explained as if the Dropout were off, while onnxruntime draws a new mask every run.
test('a Dropout in training mode (MC dropout\'s F.dropout(training=True), opset 12 on) draws a new mask every run: refused as a generator is; at ratio 0, or training_mode false, it is a copy', async () => {
  const W = [0.5, -1, 2, 0.3, -0.7, 1.1, 0.2, 0.9];
  const x = { data: Float32Array.from([1, -2, 0.5, 3, 0, 1, -1, 2]), dims: [2, 4] };
  for (const [ratio, training, random] of [[0.3, true, true], [0, true, false], [0.3, false, false]] as const) {
    const ex = await Explainer.load(tinyModel([4], 13, (em, v) => {
      em.initializers.push({ name: 'training_mode', dims: [], data_type: DataType.BOOL, int32_data: [training ? 1 : 0] });
      return em.matmul(em.op('Dropout', [v, em.scalar(ratio), 'training_mode']), em.constFloat(W, [4, 2]));
    }));
    const explained = ex.attribute(x, { target: 1 });
    if (random) await rejects(() => explained, /explained tensor 'y' depends on node '[^']+' \(Dropout, opset 13\), which draws new values on every run/);
    else assert.equal(Array.from((await explained).attributions.data), [W[1], W[3], W[5], W[7], W[1], W[3], W[5], W[7]].map(Math.fround), `ratio ${ratio}, training ${training}`);
  }
});

// It was explained, and DeepLIFT missed f(x) − f(x⁰) by the two passes' different draws (a Stable-Baselines3 policy export).
test('a stochastic policy\'s sampled action (mean + std·RandomNormalLike) is refused for every method, naming the generator and the mean before it, and is not listed; the mean explains as asked', async () => {
  const em = new Emitter(13, DataType.FLOAT, 'policy');
  const W = [0.5, -1, 2, 0.3, -0.7, 1.1, 0.2, 0.9];
  const mean = em.rename(em.matmul('obs', em.constFloat(W, [4, 2])), 'mean');
  em.rename(em.add(mean, em.mul(em.op('RandomNormalLike', [mean]), em.scalar(0.3))), 'action');
  const model = encodeModel({ ir_version: 8, opset_import: [{ domain: '', version: 13 }], graph: { name: 'policy', node: em.nodes, initializer: em.initializers, input: [valueInfo('obs', DataType.FLOAT, ['N', 4])], output: [valueInfo('action', DataType.FLOAT, ['N', 2])] } });
  const ex = await Explainer.load(model);
  const x = { data: Float32Array.from([1, -2, 0.5, 3, 0, 1, -1, 2]), dims: [2, 4] };
  for (const method of ['gradient', 'deeplift', 'integrated-gradients', 'occlusion']) {
    await rejects(() => ex.attribute(x, { method, target: 0, ...(method === 'occlusion' ? { window: [1], stride: [1] } : {}) }), /explained tensor 'action' depends on node '[^']+' \(RandomNormalLike, opset 13\), which draws new values on every run, so no two runs .* compute the same function; explain 'mean' \[N, 2\], which it is computed from \(--output\)$/);
  }
  const listed = (await ex.explainableTensors()).map((t) => t.name);
  assert.ok(listed.includes('mean') && !listed.includes('action'), listed.join());
  const g = await ex.attribute(x, { output: 'mean', target: [1, 1] });
  assert.equal(Array.from(g.attributions.data), [W[1], W[3], W[5], W[7], W[1], W[3], W[5], W[7]].map(Math.fround));
});

// Its refusal pointed at a tensor of the sequence's steps as if it held the rows.
test('a sequence-first model ([T, N, F] in, [N, C] out, as torch\'s LSTM without batch_first) is refused saying its rows are on axis 1; one sample explains with unbatched', async () => {
  const em = new Emitter(13, DataType.FLOAT, 'seq');
  const W = [0.5, -1, 2, 0.3, -0.7, 1.1];
  em.rename(em.matmul(em.reduceSum('x', [0], false), em.constFloat(W, [3, 2])), 'logits');
  const model = encodeModel({ ir_version: 8, opset_import: [{ domain: '', version: 13 }], graph: { name: 'seq', node: em.nodes, initializer: em.initializers, input: [valueInfo('x', DataType.FLOAT, ['T', 'N', 3])], output: [valueInfo('logits', DataType.FLOAT, ['N', 2])] } });
  const x = { data: Float32Array.from({ length: 4 * 2 * 3 }, (_, i) => Math.sin(i)), dims: [4, 2, 3] };
  await rejects(async () => (await Explainer.load(model)).attribute(x, { target: 0 }), /input 'x' holds its rows on axis 1 \('N', the first axis of output 'logits'\): a sequence-first model .* or explain one sample \[L, 1, …\] with --unbatched$/);
  const one = await (await Explainer.load(model, { unbatched: true })).attribute({ data: x.data.subarray(0, 12), dims: [1, 4, 1, 3] }, { target: [[0, 1]] });
  assert.equal(Array.from(one.attributions.data), [0, 1, 2, 3].flatMap(() => [W[1], W[3], W[5]]).map(Math.fround));
});

// They asked for --output: torch exports an intermediate returned beside the output (`input.20` beside `output`).
test('outputs that feed another output (features beside logits beside probabilities) leave the last as the default, explained through its Softmax; independent heads still need --output', async () => {
  const em = new Emitter(13, DataType.FLOAT, 'heads');
  const W = [0.5, -1, 2, 0.3, -0.7, 1.1];
  const feat = em.rename(em.op('Relu', ['x']), 'feat');
  const logits = em.rename(em.matmul(feat, em.constFloat(W, [3, 2])), 'logits');
  em.rename(em.op('Softmax', [logits], { axis: -1 }), 'probs');
  em.rename(em.matmul('x', em.constFloat(W, [3, 2])), 'other');
  const graph = (outputs: string[]) => encodeModel({ ir_version: 8, opset_import: [{ domain: '', version: 13 }], graph: { name: 'heads', node: em.nodes, initializer: em.initializers, input: [valueInfo('x', DataType.FLOAT, ['N', 3])], output: outputs.map((o) => valueInfo(o, DataType.FLOAT, o === 'feat' ? ['N', 3] : ['N', 2])) } });
  const ex = await Explainer.load(graph(['feat', 'logits', 'probs']));
  const { output, from, squash } = ex.resolveOutput(undefined);
  assert.equal({ output, from, squash }, { output: 'probs', from: 'logits', squash: 'Softmax' });
  const x = { data: Float32Array.from([1, 2, 0.5]), dims: [1, 3] };
  assert.equal(Array.from((await ex.attribute(x, { target: 1 })).attributions.data), [W[1], W[3], W[5]].map(Math.fround));
  await rejects(async () => (await Explainer.load(graph(['probs', 'other']))).attribute(x, { target: 1 }), /several outputs; choose one with --output \(probs, other\)/);
  // A copy of an intermediate beside what is computed from it (ML.NET echoes its Features column beside the Score).
  const echo = em.rename(em.op('Identity', [feat]), 'feat_echo');
  const echoed = encodeModel({ ir_version: 8, opset_import: [{ domain: '', version: 13 }], graph: { name: 'heads', node: em.nodes, initializer: em.initializers, input: [valueInfo('x', DataType.FLOAT, ['N', 3])], output: [valueInfo(echo, DataType.FLOAT, ['N', 3]), valueInfo('logits', DataType.FLOAT, ['N', 2])] } });
  assert.equal((await Explainer.load(echoed)).resolveOutput(undefined), { output: 'logits', from: 'logits' });
});

// Unity ML-Agents' exports: constants (version_number) and sampled or arg-max actions as outputs, a float action mask (1 = allowed).
test('a policy whose outputs are constants and actions picked from scores names the scores in its refusal; an unfed float mask is ones', async () => {
  const em = new Emitter(9, DataType.FLOAT, 'agent');
  const W = [0.5, -1, 2, 0.3, -0.7, 1.1];
  // masked = logits · mask − (1 − mask) · 10⁸
  const masked = em.sub(em.mul(em.matmul('obs', em.constFloat(W, [3, 2])), 'action_masks'), em.mul(em.sub(em.scalar(1), 'action_masks'), em.scalar(1e8)));
  const probs = em.rename(em.op('Softmax', [masked], { axis: 1 }), 'probs');
  em.rename(em.op('Concat', [em.op('Multinomial', [em.rename(em.op('Log', [probs]), 'logp')], { sample_size: 1 })], { axis: 1 }), 'discrete_actions');
  em.rename(em.op('Concat', [em.op('ArgMax', [probs], { axis: 1 })], { axis: 1 }), 'deterministic_discrete_actions');
  em.rename(em.op('Identity', [em.constFloat([3], [1])]), 'version_number');
  const model = encodeModel({
    ir_version: 8, opset_import: [{ domain: '', version: 9 }],
    graph: { name: 'agent', node: em.nodes, initializer: em.initializers, input: [valueInfo('obs', DataType.FLOAT, ['N', 3]), valueInfo('action_masks', DataType.FLOAT, ['N', 2])],
      output: [valueInfo('version_number', DataType.FLOAT, [1]), valueInfo('discrete_actions', DataType.INT32, ['N', 1]), valueInfo('deterministic_discrete_actions', DataType.INT64, ['N', 1])] },
  });
  const notes: string[] = [];
  const ex = await Explainer.load(model, { wrt: 'obs', warn: (m) => notes.push(m) });
  const x = { data: Float32Array.from([1, 2, 0.5]), dims: [1, 3] };
  await rejects(() => ex.attribute(x, { target: 1 }), /no output of the model is a float tensor computed from its inputs; the outputs pick from scores \(Multinomial, ArgMax\): explain them, --output 'logp' or 'probs', or a tensor 'onnx-explain info' lists with --output$/);
  const g = await ex.attribute(x, { target: 1, output: 'probs' });
  assert.equal(Array.from(g.attributions.data), [W[1], W[3], W[5]].map(Math.fround), 'the logits allowed by a mask of ones');
  assert.ok(notes.some((n) => /input 'action_masks' not given: using ones \[1,2\]/.test(n)), notes.join('\n'));
});

// tf2onnx's Keras classifiers that return the class id alone (PINTO's hand-gesture keypoint classifier: ArgMax → class_ids).
test('a classifier whose one output is an ArgMax class id explains the scores it picks from (through their Softmax), says so, and info names them', async () => {
  const em = new Emitter(13, DataType.FLOAT, 'ids');
  const W = [0.5, -1, 2, 0.3, -0.7, 1.1];
  const probs = em.op('Softmax', [em.matmul('x', em.constFloat(W, [3, 2]))], { axis: -1 });
  em.rename(em.op('ArgMax', [probs], { axis: 1, keepdims: 0 }), 'class_ids');
  const model = encodeModel({ ir_version: 8, opset_import: [{ domain: '', version: 13 }], graph: { name: 'ids', node: em.nodes, initializer: em.initializers, input: [valueInfo('x', DataType.FLOAT, ['N', 3])], output: [valueInfo('class_ids', DataType.INT64, ['N'])] } });
  const ex = await Explainer.load(model, { warn: () => {} });
  const g = await ex.attribute({ data: Float32Array.from([1, 2, 0.5]), dims: [1, 3] }, { target: 1 });
  assert.equal(Array.from(g.attributions.data), [W[1], W[3], W[5]].map(Math.fround), 'the logit\'s gradient');
  assert.equal(ex.warnings, [`<bytes>: the model's outputs pick from the scores '${probs}' (ArgMax), which are explained (--output names another tensor)`]);
  const file = path.join(tempDir('argmax'), 'ids.onnx');
  fs.writeFileSync(file, model);
  const info = await runCli(['info', file]);
  assert.ok(info.out.includes(`explained without --output: ${probs} (its Softmax input '${ex.resolveOutput(undefined).from}')`), info.out.join('\n'));
});

// They asked for --output: Silero VAD returns its next LSTM state (`stateN`, `hn`, `cn`) beside the speech probability.
test('a recurrent state handed back (state → stateN, h0 → hn) is not the default output nor explained; it is fed zeros once for every row, its unnamed batch as one row; an unnamed size of another unbatched input is named at the model\'s own axis', async () => {
  const W = [0.5, -1, 2, 0.3, -0.7, 1.1, 0.2, 0.9, -0.4, 0.6, -0.8, 1.3];
  const model = (state: string, next: string, batch: string | number, rows: string | number = 'N') => {
    const em = new Emitter(13, DataType.FLOAT, 'vad');
    const out = em.rename(em.op('Tanh', [em.add(em.matmul('x', em.constFloat(W, [3, 4])), em.op('Gather', [state, em.constInt([0], [])], { axis: 0 }))]), 'output');
    em.rename(em.add(state, em.unsqueeze(out, [0])), next);
    return encodeModel({ ir_version: 8, opset_import: [{ domain: '', version: 13 }], graph: { name: 'vad', node: em.nodes, initializer: em.initializers,
      input: [valueInfo('x', DataType.FLOAT, [rows, 3]), valueInfo(state, DataType.FLOAT, [2, batch, 4])],
      output: [valueInfo('output', DataType.FLOAT, ['N', 4]), valueInfo(next, DataType.FLOAT, [2, 'N', 4])] } });
  };
  const x = { data: Float32Array.from([1, 2, 0.5, -0.3, 0.1, 0.7]), dims: [2, 3] };
  for (const [state, next] of [['state', 'stateN'], ['h0', 'hn']]) {
    const ex = await Explainer.load(model(state, next, 'N'), { warn: () => {} });
    assert.equal(ex.resolveOutput(undefined).output, 'output');
    const r = await ex.attribute(x, { target: 2 });
    const y = r.outputs.output.data;
    const want = [0, 1].flatMap((row) => [0, 1, 2].map((i) => Math.fround(W[i * 4 + 2] * (1 - y[row * 4 + 2] ** 2))));
    assert.ok(relL2(r.attributions.data, Float32Array.from(want)) < 1e-6, `${state}: rel L2 ${relL2(r.attributions.data, Float32Array.from(want))}`);
  }
  // Silero VAD's own export declares the state's batch unnamed ([2, ?, 128]): one row too.
  const unnamed = await (await Explainer.load(model('state', 'stateN', ''), { warn: () => {} })).attribute(x, { target: 2 });
  assert.equal(Array.from(unnamed.attributions.data), Array.from((await (await Explainer.load(model('state', 'stateN', 'N'), { warn: () => {} })).attribute(x, { target: 2 })).attributions.data));
  // An export at batch 1 ([1, 3] beside a state [2, 1, 4]) had two float inputs to choose from.
  const fixed = await (await Explainer.load(model('state', 'stateN', 1, 1), { warn: () => {} })).attribute({ data: x.data.slice(0, 3), dims: [1, 3] }, { target: 2 });
  assert.equal(Array.from(fixed.attributions.data), Array.from(unnamed.attributions.data.slice(0, 3)));
  // No state: an input with the signal's batch axis (an inpainting model's image → image_out beside its mask), nor an autoencoder's only input.
  const inpaint = new Emitter(13, DataType.FLOAT, 'inpaint');
  inpaint.rename(inpaint.mul('image', 'mask'), 'image_out');
  const graph = (inputs: string[]) => new GraphView({ ir_version: 8, opset_import: [{ domain: '', version: 13 }], graph: { name: 'g', node: inpaint.nodes, input: inputs.map((n) => valueInfo(n, DataType.FLOAT, ['N', 3])), output: [valueInfo('image_out', DataType.FLOAT, ['N', 3])] } });
  assert.equal(modelInputs(graph(['image', 'mask'])).map((i) => i.handedBack), [undefined, undefined]);
  // Another input without a batch axis, with an unnamed size, is asked for (naming the model's own axis).
  await rejects(async () => (await Explainer.load(model('bias', 'stateN', ''))).attribute(x, { output: 'output', target: 2 }), /input 'bias' has a dynamic size '\?' on axis 1; give it with --feed bias=FILE\.npy/);
});

test('a tensor whose axis 0 folds the batch with time (torch\'s MultiheadAttention flattens [T·N, E]: fuzz seed 1347) is refused as output, layer, filters layer and maximize objective, and not listed', async () => {
  const fx = loadFixture('audio');
  const input = path.join(path.dirname(fx.model), 'input.npy');
  const folded = '/body/encoder/self_attn/Reshape_3_output_0';
  const rows = /'\/body\/encoder\/self_attn\/Reshape_3_output_0' has shape \[39,32\] at batch 1 with no batch on axis 0/;
  for (const args of [
    ['attribute', fx.model, '--input', input, '--output', folded, '--target', '0', '--out', path.join(out, 'never.npy')],
    ['attribute', fx.model, '--input', input, '--layer', folded, '--out', path.join(out, 'never.npy')],
    ['attribute', fx.model, '--input', input, '--method', 'grad-cam', '--layer', folded, '--out', path.join(out, 'never.npy')],
    ['filters', fx.model, '--input', input, '--layer', folded],
    ['maximize', fx.model, '--layer', folded, '--channel', '0', '--stages', '1', '--steps', '1', '--out', path.join(out, 'never.npy')],
  ]) {
    const r = await runCli(args);
    assert.is(r.code, 1, args.join(' '));
    assert.is(r.err.length, 1, r.err.join('|'));
    assert.match(r.err[0], rows);
  }
  assert.not.ok(fs.existsSync(path.join(out, 'never.npy')));
  const listed = (await (await Explainer.load(fx.model)).explainableTensors([400])).map((t) => t.name);
  for (const name of [folded, '/body/encoder/self_attn/Gemm_output_0']) assert.not.ok(listed.includes(name), `${name} is listed`);
  for (const name of ['/body/ReduceMean_output_0', 'output']) assert.ok(listed.includes(name), `${name} is not listed`);
});

test('info lists the explainable tensors near the end of the graph with shapes', async () => {
  const r = await runCli(['info', MODEL]);
  assert.is(r.code, 0, r.err.join('|'));
  const at = r.out.findIndex((l) => l.startsWith('explainable tensors'));
  assert.ok(at > 0);
  const listed = r.out.slice(at + 1).filter((l) => l.startsWith('  ')).map((l) => l.trim());
  assert.ok(listed.includes(`${meta.features} [N, 6, 8, 8] (Relu)`), listed.join('|'));
  assert.ok(listed.includes('logits [N, 5] (Gemm)'));
  assert.ok(!listed.some((l) => /^(score|label|top) /.test(l)), 'outputs after If/ArgMax/ReduceMax are not listed');
});

test('layer gradient, gradient × activation and layer activation vs autograd', async () => {
  const ex = await Explainer.load(MODEL);
  const x = input();
  const options = { output: meta.logits, target: meta.targets, layer: meta.layer };
  const g = await ex.attribute(x, { ...options, method: 'gradient' });
  assert.equal(g.attributions.dims, [3, 4, 8, 8]);
  assert.ok(relL2(g.attributions.data, ref('layer_grad')) < 1e-5, `layer gradient ${relL2(g.attributions.data, ref('layer_grad'))}`);
  const gxa = await ex.attribute(x, { ...options, method: 'input-x-gradient' });
  assert.ok(relL2(gxa.attributions.data, ref('layer_grad_x_act')) < 1e-5, 'LayerGradientXActivation');
  const act = await ex.attribute(x, { layer: meta.layer, method: 'layer-activation' });
  assert.ok(relL2(act.attributions.data, ref('layer_activation')) < 1e-6, 'LayerActivation');
  // rewrite --layer saves the same graph.
  const file = path.join(out, 'layer.onnx');
  const r = await runCli(['rewrite', MODEL, '--output', meta.logits, '--layer', meta.layer, '--out', file]);
  assert.is(r.code, 0, r.err.join('|'));
  const s = await ort.InferenceSession.create(fs.readFileSync(file));
  const seed = new Float32Array(15);
  meta.targets.forEach((t: number, row: number) => { seed[row * 5 + t] = 1; });
  const o = await s.run({ input: new ort.Tensor('float32', x.data, x.dims), seed: new ort.Tensor('float32', seed, [3, 5]) });
  assert.ok(relL2(o.attribution.data as Float32Array, ref('layer_grad')) < 1e-5, 'rewritten layer graph');
  // rewrite --method layer-activation: the layer's values as 'attribution', as every method's graph.
  const actFile = path.join(out, 'layer-activation.onnx');
  const ra = await runCli(['rewrite', MODEL, '--method', 'layer-activation', '--layer', meta.layer, '--out', actFile]);
  assert.is(ra.code, 0, ra.err.join('|'));
  const sa = await ort.InferenceSession.create(fs.readFileSync(actFile));
  assert.ok(sa.outputNames.includes('attribution') && !sa.outputNames.includes(meta.layer), sa.outputNames.join(', '));
  const oa = await sa.run({ input: new ort.Tensor('float32', x.data, x.dims) });
  assert.equal(oa.attribution.dims, [3, 4, 8, 8]);
  assert.ok(relL2(oa.attribution.data as Float32Array, ref('layer_activation')) < 1e-6, 'rewritten layer-activation graph');
});

/** Σ attribution vs f(x) − f(x⁰) of the seeded tensor from two forward runs. */
async function layerDeepliftSums(ex: Explainer, x: { data: Float32Array; dims: number[] }, output: string, layer: string, targets: number[]) {
  const r = await ex.attribute(x, { method: 'deeplift', output, layer, target: targets });
  const n = x.dims[0];
  const fx = await tensorValues(ex, x, output);
  const f0 = await tensorValues(ex, { data: new Float32Array(x.data.length), dims: x.dims }, output);
  const per = fx.length / n;
  const rowSize = r.attributions.data.length / n;
  return targets.map((t, row) => ({
    total: r.attributions.data.subarray(row * rowSize, (row + 1) * rowSize).reduce((a, v) => a + v, 0),
    change: fx[row * per + t] - f0[row * per + t],
    delta: r.delta![row],
  }));
}

test('layer DeepLIFT: summation-to-delta at the layer (a cut of the graph), also on a BatchNorm ResNet', async () => {
  const ex = await Explainer.load(MODEL);
  for (const s of await layerDeepliftSums(ex, input(), meta.logits, meta.layer, meta.targets)) {
    assert.ok(Math.abs(s.total - s.change) < 1e-5 * Math.max(1, Math.abs(s.change)), `Σ ${s.total} vs ${s.change}`);
    assert.ok(Math.abs(s.delta) < 1e-5);
  }
  const fx = loadFixture('resnet_bn');
  const rn = await Explainer.load(fx.model);
  const stem = rn.view.nodes.find((n) => n.op_type === 'Relu')!.output![0];
  const logits = rn.resolveOutput(undefined).from;
  for (const s of await layerDeepliftSums(rn, fx.input, logits, stem, fx.meta.target)) {
    assert.ok(Math.abs(s.total - s.change) < 1e-5 * Math.max(1, Math.abs(s.change)), `resnet_bn: Σ ${s.total} vs ${s.change}`);
  }
});

test('a layer that a residual skip goes around: layerBypassed says so, and the CLI notes it instead of warning (fuzz seed 1426); a path method\'s delta is a quadrature note', async () => {
  const fx = loadFixture('resnet_bn');
  const rn = await Explainer.load(fx.model);
  const rowDims = fx.input.dims.slice(1);
  const stem = rn.view.nodes.find((n) => n.op_type === 'Relu')!.output![0];
  const branch = rn.view.nodes.find((n) => n.op_type === 'Add')!.input![0];
  assert.is(await rn.layerBypassed(rowDims, { layer: stem }), false);
  assert.is(await rn.layerBypassed(rowDims, { layer: branch }), true);
  const logits = rn.resolveOutput(undefined).from;
  const [s] = await layerDeepliftSums(rn, fx.input, logits, branch, fx.meta.target);
  assert.ok(Math.abs(s.total - s.change) > 1e-3 * Math.abs(s.change), `the branch alone does not sum to f(x) − f(x⁰): Σ ${s.total} vs ${s.change}`);
  const cli = await runCli(['attribute', fx.model, '--input', path.join(path.dirname(fx.model), 'input.npy'), '--method', 'deeplift', '--layer', branch]);
  assert.is(cli.code, 0, cli.err.join('|'));
  assert.equal(cli.warn, []);
  assert.ok(cli.out.some((l) => l.startsWith(`layer '${branch}' is not on every path from the input to '${logits}'`)), cli.out.join('\n'));
  const ig = await runCli(['attribute', fx.model, '--input', path.join(path.dirname(fx.model), 'input.npy'), '--method', 'integrated-gradients', '--steps', '2']);
  assert.is(ig.code, 0, ig.err.join('|'));
  assert.equal(ig.warn, []);
  assert.ok(ig.out.some((l) => l.startsWith('the delta is the error of the path integral\'s quadrature: more --steps make it smaller, unless f changes sharply right beside the baseline')), ig.out.join('\n'));
});

/** Frames padded with zeros, as Keras' Masking reads them: Tanh(x·W + b) ('h') times x's nonzero frames, summed to y [N, 2]. */
function maskedFrames(): Uint8Array {
  const em = new Emitter(13, DataType.FLOAT, 'frames');
  const h = em.rename(em.op('Tanh', [em.add(em.matmul('x', em.constFloat([0.5, -1, 2, 0.3, -0.7, 1.1], [3, 2])), em.constFloat([0.4, -0.6], [2]))]), 'h');
  const frames = em.cast(em.compare('Greater', em.reduceSum(em.op('Abs', ['x']), [2]), em.scalar(0)), DataType.FLOAT);
  em.rename(em.reduceSum(em.mul(h, frames), [1], false), 'y');
  return encodeModel({ ir_version: 8, opset_import: [{ domain: '', version: 13 }], graph: { name: 'frames', node: em.nodes, initializer: em.initializers, input: [valueInfo('x', DataType.FLOAT, ['N', 4, 3])], output: [{ name: 'y' }] } });
}

test('a layer that a mask computed from the input goes around (maskedFrames): layerBypassed says so, though the mask is a step', async () => {
  const ex = await Explainer.load(maskedFrames());
  assert.is(await ex.layerBypassed([4, 3], { layer: 'h' }), true);
  const x = { data: Float32Array.from({ length: 12 }, (_, i) => (i < 9 ? Math.sin(i + 1) : 0)), dims: [1, 4, 3] };
  const [s] = await layerDeepliftSums(ex, x, 'y', 'h', [0]);
  assert.ok(Math.abs(s.total - s.change) > 1e-2, `the layer alone does not sum to f(x) − f(x⁰): Σ ${s.total} vs ${s.change}`);
});

test('integrated gradients from a zero baseline that the mask masks: the delta note names the step, which more --steps do not cure', async () => {
  const dir = tempDir('masked-frames');
  fs.writeFileSync(path.join(dir, 'm.onnx'), maskedFrames());
  writeNpy(path.join(dir, 'x.npy'), Float32Array.from({ length: 12 }, (_, i) => (i < 9 ? Math.sin(i + 1) : 0)), [1, 4, 3]);
  const note = /^the delta is the error of the path integral: node '[^']+' \(Mul, opset 13\) reads '[^']+', a step function of 'x' \(through node '[^']+' \(Greater, opset 13\)\), and where the path from the baseline crosses the step f jumps, which no number of --steps integrates/;
  for (const steps of ['8', '64']) {
    const ig = await runCli(['attribute', path.join(dir, 'm.onnx'), '--input', path.join(dir, 'x.npy'), '--method', 'integrated-gradients', '--target', '0', '--steps', steps]);
    assert.is(ig.code, 0, ig.err.join('|'));
    // f(0⁺) − f(0) = 3·tanh(0.4): the three frames the zero baseline masks.
    const delta = Number(ig.out.find((l) => l.startsWith('row 0: convergence delta'))!.split(' ')[4]);
    assert.ok(Math.abs(delta + 3 * Math.tanh(0.4)) < 1e-3, `${steps} steps: delta ${delta}`);
    assert.ok(ig.out.some((l) => note.test(l)), ig.out.join('\n'));
  }
});

test('DeepLIFT through a mask computed from the input (maskedFrames): refused where the baseline masks other frames, naming the row; exact where it masks the same ones', async () => {
  const ex = await Explainer.load(maskedFrames());
  const frames = Float32Array.from({ length: 12 }, (_, i) => (i < 9 ? Math.sin(i + 1) : 0));
  const x = { data: Float32Array.from([...frames, ...frames.map((v, i) => (i < 6 ? v : 0))]), dims: [2, 4, 3] };
  await rejects(() => ex.attribute(x, { method: 'deeplift', target: 0 }), /: node '[^']+' \(Mul, opset 13\) reads '[^']+', a step function of 'x' \(through node '[^']+' \(Greater, opset 13\)\), which differs between the input's and the reference's passes on row 0, and no multiplier passes through a step, .*: give a baseline on which it keeps its value/);
  // Row 1 keeps two frames: a baseline masking only the last frame keeps row 0's mask, not row 1's.
  const half = { data: Float32Array.from(frames, (v) => v / 2), dims: [1, 4, 3] };
  await rejects(() => ex.attribute(x, { method: 'deeplift', target: 0, baseline: half }), /differs between the input's and the reference's passes on row 1/);
  const baseline = { data: x.data.map((v) => v / 2), dims: [2, 4, 3] };
  // DeepLiftShap pairs each row with each baseline row: row 0 (three frames) against baseline row 1 (two) flips.
  await rejects(() => ex.attribute(x, { method: 'deeplift-shap', target: 0, baseline }), /differs between the input's and the reference's passes on row 0 against baseline row 1,/);
  const r = await ex.attribute(x, { method: 'deeplift', target: 0, baseline });
  // y₀ = Σ_t m_t·tanh(z_t), z_t = x_t·W[:, 0] + 0.4, m_t the same on both passes: a_ti = m_t·W_i0·δtanh(z_t)/δz_t·δx_ti.
  const W0 = [0.5, 2, -0.7];
  const want = Array.from(x.data, (v, k) => {
    const t = Math.floor(k / 3) * 3;
    const z = (d: Float32Array | number[]) => W0.reduce((a, w, i) => a + w * d[t + i], 0.4);
    const [zx, z0] = [z(x.data), z(baseline.data)];
    const kept = [0, 1, 2].some((i) => x.data[t + i] !== 0);
    return kept ? W0[k % 3] * ((Math.tanh(zx) - Math.tanh(z0)) / (zx - z0)) * (v - baseline.data[k]) : 0;
  });
  assert.ok(relL2(r.attributions.data as Float32Array, Float32Array.from(want)) < 1e-5, `rel L2 ${relL2(r.attributions.data as Float32Array, Float32Array.from(want))}`);
  r.delta!.forEach((d, row) => assert.ok(Math.abs(d) < 1e-6, `row ${row}: delta ${d}`));
});

test('the layer-gradient graph is buildAugmented with a layer: Grad-CAM and friends reuse it', async () => {
  const ex = await Explainer.load(MODEL);
  const { model } = await ex.augmented([3, 8, 8], { output: meta.logits, layer: meta.layer });
  const attribution = model.graph!.output!.find((o) => o.name === 'attribution')!;
  assert.equal(attribution.type!.tensor_type!.shape!.dim!.map((d) => d.dim_param || Number(d.dim_value)), ['N', 4, 8, 8]);
  const s = await ort.InferenceSession.create(encodeModel(model));
  assert.ok(s.inputNames.includes('seed'));
});

/** An skl2onnx MLPClassifier's form: MatMul/Add/Relu layers, Softmax, ArgMax → ArrayFeatureExtractor label, ZipMap probabilities. */
function sklearnStyle(): { model: Uint8Array; w1: number[]; b1: number[]; w2: number[] } {
  const w1 = Array.from({ length: 4 * 6 }, (_, i) => Math.sin(1.3 * i));
  const b1 = Array.from({ length: 6 }, (_, i) => 0.2 * Math.cos(i));
  const w2 = Array.from({ length: 6 * 3 }, (_, i) => Math.cos(0.7 * i));
  const em = new Emitter(13, DataType.FLOAT, 'skl');
  const hidden = em.op('Relu', [em.add(em.matmul('X', em.constFloat(w1, [4, 6])), em.constFloat(b1, [6]))]);
  em.rename(em.op('Softmax', [em.matmul(hidden, em.constFloat(w2, [6, 3]))], { axis: 1 }), 'probabilities');
  const ml = { domain: 'ai.onnx.ml' };
  em.nodes.push({ op_type: 'ArrayFeatureExtractor', ...ml, input: [em.constInt([0, 1, 2]), em.op('ArgMax', ['probabilities'], { axis: 1, keepdims: 0 })], output: ['label'], name: 'label' });
  em.nodes.push({ op_type: 'ZipMap', ...ml, input: ['probabilities'], output: ['output_probability'], name: 'zipmap', attribute: [{ name: 'classlabels_int64s', type: 7, ints: [0, 1, 2] }] });
  const zipped = { name: 'output_probability', type: { sequence_type: { elem_type: { map_type: { key_type: DataType.INT64, value_type: { tensor_type: { elem_type: DataType.FLOAT } } } } } } };
  const m: ModelProto = {
    ir_version: 8, opset_import: [{ domain: '', version: 13 }, { domain: 'ai.onnx.ml', version: 1 }], producer_name: 'skl2onnx-style',
    graph: { name: 'mlp', node: em.nodes, initializer: em.initializers, input: [valueInfo('X', DataType.FLOAT, ['N', 4])], output: [valueInfo('label', DataType.INT64, ['N']), zipped] },
  };
  return { model: encodeModel(m), w1, b1, w2 };
}

test('a classifier whose probabilities leave through a ZipMap (skl2onnx) explains them by default; the saved graph leaves the map out', async () => {
  const { model, w1, b1, w2 } = sklearnStyle();
  const x = Float32Array.from({ length: 2 * 4 }, (_, i) => Math.sin(0.9 * i + 0.4));
  const ex = await Explainer.load(model);
  assert.equal(ex.outputNames, ['label']);
  const r = await ex.attribute({ data: x, dims: [2, 4] }, { target: [2, 0] });
  // ∂logit_t/∂x_i = Σ_j W1[i,j] · [h_j > 0] · W2[j,t], h = x·W1 + b1
  const hs = [0, 1].map((row) => b1.map((b, j) => b + [0, 1, 2, 3].reduce((s, i) => s + x[row * 4 + i] * w1[i * 6 + j], 0)));
  const want = [2, 0].flatMap((t, row) => [0, 1, 2, 3].map((i) => hs[row].reduce((s, hj, j) => s + (hj > 0 ? w1[i * 6 + j] * w2[j * 3 + t] : 0), 0)));
  assert.ok(relL2(r.attributions.data, Float32Array.from(want)) < 1e-6, `rel L2 ${relL2(r.attributions.data, Float32Array.from(want))}`);
  // Float outputs only, and the explained logits (the Softmax's input), which no output holds.
  const [probabilities, logits] = Object.keys(r.outputs);
  assert.equal([probabilities, Object.keys(r.outputs).length], ['probabilities', 2]);
  const z = hs.flatMap((h) => [0, 1, 2].map((t) => h.reduce((s, hj, j) => s + Math.max(hj, 0) * w2[j * 3 + t], 0)));
  assert.ok(relL2(r.outputs[logits].data, Float32Array.from(z)) < 1e-6, 'the explained logits');
  const saved = await ort.InferenceSession.create(encodeModel(await ex.graph([4], {})), { logSeverityLevel: 3 });
  assert.equal([...saved.outputNames], ['label', 'probabilities', logits, 'attribution']);
  const run = await saved.run({ X: new ort.Tensor('float32', x, [2, 4]), seed: new ort.Tensor('float32', Float32Array.from([0, 0, 1, 1, 0, 0]), [2, 3]) });
  assert.ok(relL2(run.attribution.data as Float32Array, Float32Array.from(want)) < 1e-6, 'saved graph');
  await saved.release();
});

test.run();
