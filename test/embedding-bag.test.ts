import * as fs from 'fs';
import * as path from 'path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NdArray } from '../runtime/npy';
import { readNpy } from '../runtime/node/npy-file';
import { Explainer } from '../runtime';
import { runCli, tempDir } from './support/cli-harness';
import { relL2 } from './support/fixtures';
import { parseModel } from '../rewriter/model-io';

/** torch.onnx's Loop form of nn.EmbeddingBag (models/make_text.py write_bag_models). */
const TEXT = path.resolve(__dirname, '../../models/text');
const fixture = (name: string) => {
  const dir = path.join(TEXT, name);
  const npy = (file: string): NdArray => readNpy(path.join(dir, `${file}.npy`));
  return { dir, model: path.join(dir, 'model.onnx'), npy, meta: JSON.parse(fs.readFileSync(path.join(dir, 'meta.json'), 'utf8')) };
};

for (const name of ['bag_mean', 'bag_max', 'bag_sum_weights', 'bag_flat_rows']) {
  test(`${name}: the bag Loop over 2-D ids is read as a lookup per token: logits and the gradient at the looked-up rows equal PyTorch autograd; DeepLIFT sums to delta; rows alone give the same`, async () => {
    const { model, npy, meta } = fixture(name);
    const ex = await Explainer.load(model, { wrt: 'input_ids' });
    assert.is(ex.tokens?.ids.name, 'input_ids');
    assert.not.ok(ex.view.nodes.some((n) => n.op_type === 'Loop'), 'the Loop is gone');
    const ids = npy('input_ids');
    const feeds: Record<string, NdArray> = meta.mode === 'sum' ? { per_sample_weights: npy('per_sample_weights') } : {};
    const g = await ex.attribute(ids, { target: meta.target, feeds });
    assert.ok(relL2(g.outputs.logits.data, npy('output').data as Float32Array) <= 1e-5, `logits rel L2 ${relL2(g.outputs.logits.data, npy('output').data as Float32Array)}`);
    assert.ok(relL2(g.attributions.data, npy('grad_embedding').data as Float32Array) <= 1e-5, `gradient rel L2 ${relL2(g.attributions.data, npy('grad_embedding').data as Float32Array)}`);
    assert.equal(g.tokenScores!.dims, [3, 8]);
    for (const baselineToken of [undefined, 0]) {
      const d = await ex.attribute(ids, { method: 'deeplift', target: meta.target, feeds, baselineToken });
      const sums = [0, 1, 2].map((r) => d.tokenScores!.data.subarray(r * 8, (r + 1) * 8).reduce((s, v) => s + v, 0));
      d.delta!.forEach((delta, r) => assert.ok(Math.abs(delta) <= 1e-5 * Math.max(1, Math.abs(sums[r] - delta)), `baseline token ${baselineToken}, row ${r}: delta ${delta}`));
    }
    // Row 1 alone: bag b is row b of the ids, whatever the batch.
    const row = { data: (ids.data as BigInt64Array).slice(8, 16), dims: [1, 8] };
    const rowFeeds: Record<string, { data: Float32Array; dims: number[] }> = meta.mode === 'sum' ? { per_sample_weights: { data: (npy('per_sample_weights').data as Float32Array).slice(8, 16), dims: [1, 8] } } : {};
    const alone = await ex.attribute(row, { target: meta.target[1], feeds: rowFeeds });
    assert.ok(relL2(alone.attributions.data, g.attributions.data.subarray(128, 256)) <= 1e-6, 'row 1 alone');
  });
}

test('bag_mean: the CLI explains the token ids and saves a graph without the Loop; info says the Loop was read in standard ops', async () => {
  const { dir, model } = fixture('bag_mean');
  const out = tempDir('embedding-bag');
  const r = await runCli(['attribute', model, '--input', path.join(dir, 'input_ids.npy'), '--method', 'integrated-gradients', '--target', '1', '--out', path.join(out, 'ig.npy')]);
  assert.is(r.code, 0, r.err.join('\n'));
  assert.ok(r.out.some((l) => /convergence delta/.test(l)), r.out.join('\n'));
  const saved = path.join(out, 'grad.onnx');
  const w = await runCli(['rewrite', model, '--method', 'gradient', '--shape', '2,8,16', '--out', saved]);
  assert.is(w.code, 0, w.err.join('\n'));
  assert.not.ok(parseModel(fs.readFileSync(saved), 'saved').graph!.node!.some((n) => n.op_type === 'Loop'));
  const info = await runCli(['info', model]);
  assert.ok(info.out.some((l) => /^read in standard ops .*Loop ×1/.test(l)), info.out.join('\n'));
  assert.ok(info.out.some((l) => /^input: input_ids .*token ids: explained at the embedding output/.test(l)), info.out.join('\n'));
});

for (const name of ['bag_offsets', 'bag_offsets_max']) {
  test(`${name}: a bag Loop over 1-D ids with offsets (one text of three bags) is explained as one sample (--unbatched): logits [1, bags, classes] and the gradient of bag 1's logit at the looked-up rows equal PyTorch autograd, the other bags' tokens get none; DeepLIFT and integrated gradients sum to delta`, async () => {
    const { model, npy, meta } = fixture(name);
    const ex = await Explainer.load(model, { unbatched: true });
    assert.not.ok(ex.view.nodes.some((n) => n.op_type === 'Loop'), 'the Loop is gone');
    // Inputs come with the sample axis (--unbatched); the offsets may come without it.
    const text = { data: npy('text').data as BigInt64Array, dims: [1, ...npy('text').dims] };
    const feeds = { offsets: npy('offsets') };
    const target = meta.target as number[][];
    const g = await ex.attribute(text, { target, feeds });
    assert.equal(g.outputs.logits.dims, [1, ...npy('output').dims]);
    assert.ok(relL2(g.outputs.logits.data, npy('output').data as Float32Array) <= 1e-5, `logits rel L2 ${relL2(g.outputs.logits.data, npy('output').data as Float32Array)}`);
    assert.equal(g.attributions.dims, [1, ...npy('embedding').dims]);
    assert.ok(relL2(g.attributions.data, npy('grad_embedding').data as Float32Array) <= 1e-5, `gradient rel L2 ${relL2(g.attributions.data, npy('grad_embedding').data as Float32Array)}`);
    // Bag 1 holds tokens 5…12.
    const scores = Array.from(g.tokenScores!.data);
    assert.ok(scores.every((v, t) => (t >= 5 && t < 13) || v === 0) && scores.slice(5, 13).some((v) => v !== 0), `token scores ${scores}`);
    for (const method of ['deeplift', 'integrated-gradients']) {
      const d = await ex.attribute(text, { method, target, feeds, baselineToken: 0 });
      const sum = d.attributions.data.reduce((a, v) => a + v, 0);
      // Integrated gradients: the quadrature's error over the hidden ReLU's kinks.
      const tolerance = method === 'deeplift' ? 1e-5 : 1e-2;
      assert.ok(Math.abs(d.delta![0]) <= tolerance * Math.max(1, Math.abs(sum)), `${method}: delta ${d.delta![0]} of ${sum}`);
    }
  });
}

test('bag_offsets: without --unbatched the bag Loop over 1-D ids is refused in one line naming it and saying to explain the text as one sample', async () => {
  const { dir, model } = fixture('bag_offsets');
  const r = await runCli(['attribute', model, '--input', path.join(dir, 'text.npy'), '--feed', `offsets=${path.join(dir, 'offsets.npy')}`]);
  assert.is(r.code, 1);
  assert.is(r.err.length, 1, r.err.join('\n'));
  assert.match(r.err[0], /^onnx-explain: error: .*node '\/word\/Loop' \(Loop, opset 14\) is torch's EmbeddingBag over 1-D token ids with offsets: .*explain it with --unbatched/);
  const ok = await runCli(['attribute', model, '--input', path.join(dir, 'text.npy'), '--feed', `offsets=${path.join(dir, 'offsets.npy')}`, '--unbatched', '--target', '2:0']);
  assert.is(ok.code, 0, ok.err.join('\n'));
  assert.ok(ok.out.some((l) => /^ {2}0 +20 +\d+ +-?\d/.test(l)), ok.out.join('\n'));
});

test.run();
