import * as ort from 'onnxruntime-node';
import * as fs from 'fs';
import * as path from 'path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Emitter } from '../rewriter/emitter';
import { DataType, encodeModel, valueInfo } from '../rewriter/proto';
import { Explainer } from '../runtime';
import { centralDifferences } from './support/central';
import { relL2 } from './support/fixtures';
import { runCli, tempDir } from './support/cli-harness';
import { maximize } from '../runtime/drivers/maximize';
import { writeNpy } from '../runtime/node/npy-file';

const W = Array.from({ length: 4 * 3 }, (_, k) => Math.sin(3 * k + 1));

/**
 * Inputs x and `weights` [N, 4]; `seed` = Tanh(x·weights), `alphas` = seed·W, output `delta` =
 * Sigmoid(alphas) [N, 3]: every tensor named like one of the augmented graphs' own inputs and outputs.
 */
function model(): Uint8Array {
  const em = new Emitter(13, DataType.FLOAT, 'm');
  em.rename(em.op('Tanh', [em.mul('x', 'weights')]), 'seed');
  em.rename(em.matmul('seed', em.constFloat(W, [4, 3])), 'alphas');
  em.rename(em.op('Sigmoid', ['alphas']), 'delta');
  return encodeModel({
    ir_version: 8, opset_import: [{ domain: '', version: 13 }], producer_name: 'onnx-explain tests',
    graph: {
      name: 'names', node: em.nodes, initializer: em.initializers, output: [valueInfo('delta', DataType.FLOAT, ['N', 3])],
      input: [valueInfo('x', DataType.FLOAT, ['N', 4]), valueInfo('weights', DataType.FLOAT, ['N', 4])],
    },
  });
}

const x = { data: Float32Array.from({ length: 8 }, (_, k) => Math.cos(k + 0.5)), dims: [2, 4] };
const weights = { data: Float32Array.from({ length: 8 }, (_, k) => 0.5 + 0.1 * k), dims: [2, 4] };

test('a model whose tensors are called seed, alphas, delta and weights (an input): the graphs\' own names get suffixes; gradient, integrated gradients, DeepLIFT and joint attribution are right', async () => {
  const bytes = model();
  const ex = await Explainer.load(bytes, { wrt: 'x' });
  assert.equal({ ...ex.io }, { seed: 'seed_1', baseline: 'baseline', attribution: 'attribution', delta: 'delta_1', alphas: 'alphas_1', weights: 'weights_1' });
  const session = await ort.InferenceSession.create(bytes);
  const f = async (v: Float32Array) => (await session.run({ x: new ort.Tensor('float32', v, [2, 4]), weights: new ort.Tensor('float32', weights.data, [2, 4]) })).delta.data as Float32Array;
  const target = [1, 2];
  const g = await ex.attribute(x, { target, feeds: { weights } });
  assert.ok(relL2(g.outputs.delta.data, await f(x.data)) <= 1e-7, 'the model\'s output "delta" is returned');
  const fd = await centralDifferences(x.data, 1e-3, f, (i) => (i < 4 ? target[0] : 3 + target[1]));
  assert.ok(relL2(g.attributions.data, fd) <= 1e-3, `gradient vs central differences: ${relL2(g.attributions.data, fd)}`);
  const y = await f(x.data);
  const y0 = await f(new Float32Array(8));
  for (const method of ['deeplift', 'integrated-gradients'] as const) {
    const r = await ex.attribute(x, { method, target, feeds: { weights }, ...(method === 'integrated-gradients' ? { steps: 64 } : {}) });
    [0, 1].forEach((row) => {
      const sum = r.attributions.data.subarray(row * 4, row * 4 + 4).reduce((s, v) => s + v, 0);
      const want = y[row * 3 + target[row]] - y0[row * 3 + target[row]];
      assert.ok(Math.abs(sum - want) <= (method === 'deeplift' ? 1e-6 : 1e-4), `${method} row ${row}: Σ ${sum} vs ${want}`);
      assert.ok(Math.abs(r.delta![row] - (sum - want)) <= 1e-6, `${method} row ${row}: delta ${r.delta![row]}`);
    });
  }
  const joint = await Explainer.load(bytes, { wrt: 'all' });
  const d = await joint.attribute({ x, weights }, { method: 'deeplift', target });
  const both = (row: number) => [d.inputAttributions!.x, d.inputAttributions!.weights].reduce((s, t) => s + t.data.subarray(row * 4, row * 4 + 4).reduce((a, v) => a + v, 0), 0);
  const zero = (await session.run({ x: new ort.Tensor('float32', new Float32Array(8), [2, 4]), weights: new ort.Tensor('float32', new Float32Array(8), [2, 4]) })).delta.data as Float32Array;
  [0, 1].forEach((row) => assert.ok(Math.abs(both(row) - (y[row * 3 + target[row]] - zero[row * 3 + target[row]])) <= 1e-6, `joint DeepLIFT row ${row}`));
});

test('rewrite names the suffixed inputs and outputs it saves', async () => {
  const dir = tempDir('io-names');
  const file = path.join(dir, 'model.onnx');
  fs.writeFileSync(file, model());
  const r = await runCli(['rewrite', file, '--wrt', 'x', '--method', 'integrated-gradients', '--shape', '1,4', '--out', path.join(dir, 'ig.onnx')]);
  assert.is(r.code, 0, r.err.join('\n'));
  assert.match(r.out.join('\n'), /inputs x, weights, seed_1, baseline, alphas_1, weights_1; outputs delta, attribution, delta_1/);
});

test('maximize on a model whose output is called activation (a Keras Activation layer, as tf2onnx names outputs) and whose hidden tensor is called next (Adam\'s update)', async () => {
  const em = new Emitter(13, DataType.FLOAT, 'k');
  em.rename(em.op('Tanh', [em.matmul('x', em.constFloat(W, [4, 3]))]), 'next');
  em.rename(em.matmul('next', em.constFloat([1, -1, 0.5, 0.2, 2, -0.3, -1, 0.4, 1.5], [3, 3])), 'activation');
  const ex = await Explainer.load(encodeModel({
    ir_version: 8, opset_import: [{ domain: '', version: 13 }],
    graph: { name: 'keras', node: em.nodes, initializer: em.initializers, output: [valueInfo('activation', DataType.FLOAT, ['N', 3])], input: [valueInfo('x', DataType.FLOAT, ['N', 4])] },
  }));
  const r = await maximize(ex, { target: 1, stages: 1, steps: 30, seed: 2 });
  const check = (await ex.forward(r.image)).activation.data[1];
  assert.ok(Math.abs(check - r.final) < 1e-5 * (1 + Math.abs(check)), `reported activation ${r.final} = a forward of the image ${check}`);
  assert.ok(r.final > r.activation[0], `the logit grew (${r.activation[0]} → ${r.final})`);
});

test('names holding control characters (an escape sequence, a newline and a carriage return starting a fake error line) are printed escaped on stdout and in the error line', async () => {
  const odd = 'evil\x1b[31mRED\x1b[0m\nonnx-explain: error: fake\r';
  const em = new Emitter(13, DataType.FLOAT, 'odd');
  em.rename(em.matmul('x', em.constFloat(W, [4, 3])), odd);
  em.rename(em.op('Relu', [odd]), 'y');
  const dir = tempDir('odd-names');
  const file = path.join(dir, 'odd.onnx');
  fs.writeFileSync(file, encodeModel({ ir_version: 8, opset_import: [{ domain: '', version: 13 }], graph: { name: 'odd', node: em.nodes, initializer: em.initializers, input: [valueInfo('x', DataType.FLOAT, ['N', 4])], output: [valueInfo('y', DataType.FLOAT, ['N', 3])] } }));
  const shown = 'evil\\x1b[31mRED\\x1b[0m\\x0aonnx-explain: error: fake\\x0d';
  const info = await runCli(['info', file]);
  assert.is(info.code, 0);
  assert.ok(info.out.some((l) => l.includes(shown)), info.out.join('\n'));
  assert.ok(info.out.every((l) => !/[\x00-\x08\x0a-\x1f]/.test(l) && !l.startsWith('onnx-explain: error')), 'no control characters, no line of the model\'s own');
  writeNpy(path.join(dir, 'x.npy'), Float32Array.of(1, 2, 3, 4), [1, 4]);
  const bad = await runCli(['attribute', file, '--input', path.join(dir, 'x.npy'), '--output', `${odd}!`]);
  assert.equal([bad.code, bad.err.length], [1, 1]);
  assert.ok(bad.err[0].includes(`${shown}!`) && !/[\x00-\x08\x0a-\x1f]/.test(bad.err[0]), bad.err[0]);
});

test.run();
