import * as fs from 'fs';
import ndarray from 'ndarray';
import * as path from 'path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NdArray } from '../runtime/npy';
import { readNpy } from '../runtime/node/npy-file';
import * as ort from 'onnxruntime-node';
import { embeddingsOf, indexOf } from '../rewriter/embedding';
import { GraphView } from '../rewriter/graph-view';
import { DataType, encodeModel, makeTensor, valueInfo } from '../rewriter/proto';
import { Explainer } from '../runtime';
import { runCli, tempDir } from './support/cli-harness';
import { relL2 } from './support/fixtures';
import { rejects } from './support/rejects';

/** An int64 scalar initializer (a hand-built graph's constant operand). */
const scalar = (name: string, v: number) => makeTensor(name, [], [v], DataType.INT64);
/** An int64 vector initializer (axes, shapes, offsets). */
const axes = (name: string, list: number[]) => makeTensor(name, [list.length], list, DataType.INT64);

/** BERT-style classifiers exported by torch.onnx at opsets 13–17 (models/make_text.py). */
const TEXT = path.resolve(__dirname, '../../models/text');
const load = (opset: number | 'q8' | 'ort_opt') => {
  const dir = path.join(TEXT, `bert_${typeof opset === 'number' ? `op${opset}` : opset}`);
  const npy = (name: string): NdArray => readNpy(path.join(dir, `${name}.npy`));
  return { model: path.join(dir, 'model.onnx'), npy, meta: JSON.parse(fs.readFileSync(path.join(dir, 'meta.json'), 'utf8')) };
};

/** DeepLIFT from the zero embedding and from the pad token (id 0) sums to f(x) − f(x⁰) per row. */
async function assertDeepliftSums(ex: Explainer, ids: NdArray, target: number[], feeds: Record<string, NdArray>): Promise<void> {
  for (const baselineToken of [undefined, 0]) {
    const d = await ex.attribute(ids, { method: 'deeplift', target, feeds, baselineToken });
    const sums = [0, 1, 2].map((r) => d.tokenScores!.data.subarray(r * 8, (r + 1) * 8).reduce((s, v) => s + v, 0));
    d.delta!.forEach((delta, r) => assert.ok(Math.abs(delta) <= 1e-5 * Math.max(1, Math.abs(sums[r] - delta)), `baseline token ${baselineToken}, row ${r}: delta ${delta}`));
  }
}

/**
 * A BERT fixture's explainer, its token ids and fed inputs, after checking that its token ids are
 * found and that the logits (≤ 1e-5) and the word-embedding gradient (≤ 1e-4) equal PyTorch's.
 */
async function embeddingGradient(which: Parameters<typeof load>[0]) {
  const fixture = load(which);
  const { model, npy, meta } = fixture;
  const ex = await Explainer.load(model);
  assert.is(ex.tokens?.ids.name, 'input_ids', 'the word-embedding Gather is found');
  const ids = npy('input_ids');
  const feeds = { attention_mask: npy('attention_mask'), token_type_ids: npy('token_type_ids') };
  const g = await ex.attribute(ids, { target: meta.target, feeds });
  assert.ok(relL2(g.outputs.logits.data, npy('output').data as Float32Array) <= 1e-5, `logits rel L2 ${relL2(g.outputs.logits.data, npy('output').data as Float32Array)}`);
  assert.ok(relL2(g.attributions.data, npy('grad_embedding').data as Float32Array) <= 1e-4, `gradient rel L2 ${relL2(g.attributions.data, npy('grad_embedding').data as Float32Array)}`);
  return { ...fixture, ex, ids, feeds };
}

for (const opset of [13, 14, 15, 16, 17]) {
  test(`bert opset ${opset}: gradient at the word embedding equals PyTorch autograd; input×gradient per token; DeepLIFT sums to delta`, async () => {
    const { npy, meta, ex, ids, feeds } = await embeddingGradient(opset);
    const ixg = await ex.attribute(ids, { method: 'input-x-gradient', target: meta.target, feeds });
    const emb = npy('embedding').data as Float32Array;
    const grad = npy('grad_embedding').data as Float32Array;
    const perToken = Array.from({ length: 24 }, (_, k) => emb.subarray(k * 16, (k + 1) * 16).reduce((s, v, h) => s + v * grad[k * 16 + h], 0));
    assert.equal(ixg.tokenScores!.dims, [3, 8]);
    assert.ok(relL2(ixg.tokenScores!.data, perToken) <= 1e-4, `token scores rel L2 ${relL2(ixg.tokenScores!.data, perToken)}`);
    await assertDeepliftSums(ex, ids, meta.target, feeds);
    // Inputs by name take the token ids under their own input's name.
    const byName = await ex.attribute({ input_ids: ids, ...feeds }, { method: 'input-x-gradient', target: meta.target });
    assert.equal(Array.from(byName.attributions.data), Array.from(ixg.attributions.data));
  });
}

for (const opset of [13, 17]) {
  test(`bert opset ${opset}: --layer at the embeddings' LayerNorm (Captum LayerIntegratedGradients(model, embeddings)): gradient and integrated gradients from the baseline tokens equal PyTorch`, async () => {
    const { model, npy, meta } = load(opset);
    const ex = await Explainer.load(model);
    const ids = npy('input_ids');
    const feeds = { attention_mask: npy('attention_mask'), token_type_ids: npy('token_type_ids') };
    const g = await ex.attribute(ids, { target: meta.target, feeds, layer: meta.ln });
    assert.equal(g.attributions.dims, [3, 8, 16]);
    assert.ok(relL2(g.attributions.data, npy('grad_ln').data as Float32Array) <= 1e-4, `layer gradient rel L2 ${relL2(g.attributions.data, npy('grad_ln').data as Float32Array)}`);
    // The reference layer value is the LayerNorm of the baseline token's embedding (id 0) with the same positions and token types.
    const ig = await ex.attribute(ids, { method: 'integrated-gradients', steps: meta.ln_ig_steps, target: meta.target, feeds, layer: meta.ln, baselineToken: 0 });
    const want = npy('ig_ln').data as Float32Array;
    assert.ok(relL2(ig.attributions.data, want) <= 1e-4, `layer IG rel L2 ${relL2(ig.attributions.data, want)}`);
    assert.equal(ig.tokenScores!.dims, [3, 8]);
    assert.ok(relL2(ig.tokenScores!.data, Array.from({ length: 24 }, (_, k) => want.subarray(k * 16, (k + 1) * 16).reduce((s, v) => s + v, 0))) <= 1e-4, 'per-token layer scores');
    // Layer DeepLIFT from the same reference sums to f(x) − f(x⁰) (every path from the embeddings passes the LayerNorm).
    const d = await ex.attribute(ids, { method: 'deeplift', target: meta.target, feeds, layer: meta.ln, baselineToken: 0 });
    d.delta!.forEach((delta, r) => assert.ok(Math.abs(delta) <= 1e-4, `layer DeepLIFT row ${r}: delta ${delta}`));
  });
}

test('bert: DeepLiftShap from the pad token equals DeepLIFT from it; KernelShap and Shapley sampling over tokens sum to f(x) − f(pad tokens) at the embeddings', async () => {
  const { meta, ex, ids, feeds } = await embeddingGradient(14);
  const options = { target: meta.target, feeds, baselineToken: 0 };
  const [shap, plain] = [await ex.attribute(ids, { ...options, method: 'deeplift-shap' }), await ex.attribute(ids, { ...options, method: 'deeplift' })];
  assert.ok(relL2(shap.attributions.data, plain.attributions.data) < 1e-6, `rel L2 ${relL2(shap.attributions.data, plain.attributions.data)}`);
  // One group per token (the mask broadcasts over the embedding axis); the fill is the pad token's embedding.
  const featureMask = { data: Int32Array.from({ length: 8 }, (_, i) => i), dims: [1, 8, 1] };
  for (const method of ['kernel-shap', 'shapley-value-sampling']) {
    const r = await ex.attribute(ids, { ...options, method, featureMask, samples: 40 });
    assert.equal(r.tokenScores!.dims, [3, 8]);
    [0, 1, 2].forEach((row) => {
      const sum = r.tokenScores!.data.subarray(row * 8, (row + 1) * 8).reduce((a, v) => a + v, 0) / 16;
      const want = plain.tokenScores!.data.subarray(row * 8, (row + 1) * 8).reduce((a, v) => a + v, 0) - plain.delta![row];
      assert.ok(Math.abs(sum - want) < 1e-3 * Math.max(1, Math.abs(want)), `${method} row ${row}: Σ ${sum} vs f(x) − f(pad) ${want}`);
    });
  }
});

/**
 * A GPT-2-style classifier (the last non-pad token's logits picked from the rows flattened with
 * their batch at indices computed from the ids and the batch's size; finfo.min masks adding up to
 * −Inf), a DistilBERT-style one (masked_fill with −Inf, cumsum position ids), a Llama-style one and a
 * DeBERTa-style one (c2p/p2c GatherElements at indices computed from the length).
 */
for (const name of ['gpt2_op14', 'distilbert_op14', 'distilbert_op11', 'llama_op14', 'deberta_op14']) {
  test(`${name}: gradient and integrated gradients at the word embedding equal PyTorch autograd; DeepLIFT sums to PyTorch's f(x) − f(0); LRP stays finite`, async () => {
    const dir = path.join(TEXT, name);
    const npy = (file: string): NdArray => readNpy(path.join(dir, `${file}.npy`));
    const meta = JSON.parse(fs.readFileSync(path.join(dir, 'meta.json'), 'utf8'));
    const ex = await Explainer.load(path.join(dir, 'model.onnx'));
    assert.is(ex.tokens?.ids.name, 'input_ids', 'the word-embedding Gather is found');
    const [ids, feeds, target] = [npy('input_ids'), { attention_mask: npy('attention_mask') }, meta.target];
    const g = await ex.attribute(ids, { target, feeds });
    const near = (got: ArrayLike<number>, want: string, tol: number) => assert.ok(relL2(got, npy(want).data as Float32Array) <= tol, `${want}: rel L2 ${relL2(got, npy(want).data as Float32Array)}`);
    near(g.outputs.logits.data, 'output', 1e-5);
    near(g.attributions.data, 'grad_embedding', 1e-4);
    near((await ex.attribute(ids, { method: 'integrated-gradients', steps: meta.ig_steps, target, feeds })).attributions.data, 'ig_embedding', 1e-4);
    const d = await ex.attribute(ids, { method: 'deeplift', target, feeds });
    const [y, y0] = [npy('output').data as Float32Array, npy('output_zero').data as Float32Array];
    [0, 1, 2].forEach((r) => {
      const sum = d.tokenScores!.data.subarray(r * 8, (r + 1) * 8).reduce((s, v) => s + v, 0);
      const want = y[r * 3 + target[r]] - y0[r * 3 + target[r]];
      assert.ok(Math.abs(sum - want) <= 1e-5, `DeepLIFT row ${r}: Σ ${sum} vs PyTorch ${want}`);
    });
    await assertDeepliftSums(ex, ids, target, feeds);
    assert.ok((await ex.attribute(ids, { method: 'lrp-epsilon', target, feeds })).attributions.data.every(Number.isFinite), 'LRP-ε relevance is finite');
  });
}

test('bert_q8 (quantize_dynamic, transformers.js\' model_quantized.onnx): the embedding gradient equals PyTorch\'s straight-through estimator with per-row statistics; DeepLIFT sums to delta; rows do not depend on their batch', async () => {
  const { npy, meta, ex, ids, feeds } = await embeddingGradient('q8');
  const want = npy('grad_embedding').data as Float32Array;
  // Row 1 alone gets the rows-of-three result: statistics are per row.
  const row = (a: NdArray, r: number): NdArray => ({ data: (a.data as ArrayLike<number> & { slice(s: number, e: number): ArrayLike<number> }).slice(r * 8, (r + 1) * 8), dims: [1, 8] } as NdArray);
  const alone = await ex.attribute(row(ids, 1), { target: [meta.target[1]], feeds: { attention_mask: row(feeds.attention_mask, 1), token_type_ids: row(feeds.token_type_ids, 1) } });
  assert.ok(relL2(alone.attributions.data, want.subarray(128, 256)) <= 1e-4, 'row 1 alone');
  await assertDeepliftSums(ex, ids, meta.target, feeds);
});

test('bert_ort_opt (onnxruntime\'s transformer optimiser: EmbedLayerNormalization, Attention, SkipLayerNormalization, BiasGelu at opset 12): the same gradient as the exported model; DeepLIFT sums to delta; info names the fusions read', async () => {
  const { model, meta, ex, ids, feeds } = await embeddingGradient('ort_opt');
  await assertDeepliftSums(ex, ids, meta.target, feeds);
  const info = await runCli(['info', model]);
  assert.ok(info.out.includes('read in standard ops (the counts above): com.microsoft.EmbedLayerNormalization ×1, com.microsoft.Attention ×2'), info.out.join('\n'));
  assert.ok(info.out.includes('unsupported ops: none'), info.out.join('\n'));
});

test('token ids and int64 feeds given as ndarrays keep their integer type: the same attributions and outputs as { data, dims } (they threw "Cannot convert a BigInt value to a number")', async () => {
  const { model, npy, meta } = load(14);
  const ex = await Explainer.load(model);
  const [ids, am, tt] = [npy('input_ids'), npy('attention_mask'), npy('token_type_ids')];
  const want = await ex.attribute(ids, { target: meta.target, feeds: { attention_mask: am, token_type_ids: tt } });
  const logits = (await ex.forward(ids, { attention_mask: am, token_type_ids: tt })).logits.data;
  const nd = (a: NdArray) => ndarray(a.data as BigInt64Array<ArrayBuffer>, a.dims);
  // A transposed view of the mask's transpose: read element by element into an int64 copy.
  const [rows, len] = am.dims;
  const amT = BigInt64Array.from({ length: rows * len }, (_, k) => (am.data as BigInt64Array)[(k % rows) * len + Math.floor(k / rows)]);
  const strided = ndarray(amT, [len, rows]).transpose(1, 0);
  for (const feeds of [{ attention_mask: nd(am), token_type_ids: nd(tt) }, { attention_mask: strided, token_type_ids: tt }]) {
    const got = await ex.attribute(nd(ids), { target: meta.target, feeds });
    assert.equal(Array.from(got.attributions.data), Array.from(want.attributions.data));
    assert.equal(Array.from((await ex.forward(nd(ids), feeds)).logits.data), Array.from(logits));
  }
});

test('the baseline token: pad positions get exactly zero; integrated gradients over the embeddings converge', async () => {
  const { model, npy, meta } = load(13);
  const ex = await Explainer.load(model);
  const ids = npy('input_ids');
  const feeds = { attention_mask: npy('attention_mask'), token_type_ids: npy('token_type_ids') };
  const zero = await ex.attribute(ids, { method: 'deeplift', target: meta.target, feeds });
  const pad = await ex.attribute(ids, { method: 'deeplift', target: meta.target, feeds, baselineToken: 0 });
  assert.not.equal(Array.from(zero.attributions.data), Array.from(pad.attributions.data));
  // Row 1 ends in padding (token 0): with the pad baseline those positions have x = x⁰, so exactly 0.
  for (const k of [6, 7]) assert.ok(pad.tokenScores!.data[8 + k] === 0, `pad position ${k}: ${pad.tokenScores!.data[8 + k]}`);
  // Integrated gradients over the embeddings (LayerIntegratedGradients): Gauss–Legendre-50 converges here.
  const ig = await ex.attribute(ids, { method: 'integrated-gradients', target: meta.target, feeds, baselineToken: 0 });
  ig.delta!.forEach((d, r) => assert.ok(Math.abs(d) < 1e-4, `IG row ${r}: delta ${d}`));
});

test('occlusion of a text model with a window over the tokens alone covers each token\'s whole embedding: equal to the window [w, width] (Captum\'s sliding_window_shapes=(w, hidden))', async () => {
  const { ex, ids, feeds, meta } = await embeddingGradient(14);
  const width = ex.tokens!.rowDims;
  for (const [window, stride] of [[[1], 1], [[2], [1]]] as [number[], number | number[]][]) {
    const short = await ex.attribute(ids, { method: 'occlusion', target: meta.target, feeds, window, stride });
    const full = await ex.attribute(ids, { method: 'occlusion', target: meta.target, feeds, window: [...window, ...width], stride: Array.isArray(stride) ? [...stride, ...width] : stride });
    assert.equal(Array.from(short.attributions.data), Array.from(full.attributions.data), `window [${window}]`);
    assert.ok(short.attributions.data.some((v) => v !== 0));
  }
  await rejects(() => ex.attribute(ids, { method: 'occlusion', target: meta.target, feeds }), /occlusion needs a window over the tokens \(e\.g\. --window 3: three tokens, each with its whole embedding\), or one per dimension of the embedded row \[\d+,\d+\]/);
});

test('bert: token ids as the baseline (Captum\'s ref_input_ids: [CLS] pad … [SEP]) are embedded: DeepLIFT sums to f(x) − f(ref) of a forward on those ids; all-pad ids equal --baseline-token 0; two rows are deeplift-shap\'s distribution; the CLI reads them, at a --layer too', async () => {
  const { model, meta, ex, ids, feeds } = await embeddingGradient(14);
  const keep = (id: number) => (id === 1 || id === 2 ? id : 0); // [CLS] = 1 and [SEP] = 2 stay, the rest is pad
  const ref = { data: BigInt64Array.from(Array.from(ids.data as BigInt64Array, (id) => BigInt(keep(Number(id))))), dims: ids.dims };
  const d = await ex.attribute(ids, { method: 'deeplift', target: meta.target, feeds, baseline: ref });
  const atRef = (await ex.attribute(ref, { target: meta.target, feeds })).outputs.logits.data;
  const atX = d.outputs.logits.data;
  const classes = atX.length / 3;
  meta.target.forEach((t: number, r: number) => {
    const sum = d.tokenScores!.data.subarray(r * 8, (r + 1) * 8).reduce((a, v) => a + v, 0);
    const change = atX[r * classes + t] - atRef[r * classes + t];
    assert.ok(Math.abs(sum - change) <= 1e-5 * Math.max(1, Math.abs(change)), `row ${r}: Σ ${sum}, f(x) − f(ref) ${change}`);
  });
  const pad = await ex.attribute(ids, { method: 'deeplift', target: meta.target, feeds, baseline: { data: new BigInt64Array(8), dims: [1, 8] } });
  const token = await ex.attribute(ids, { method: 'deeplift', target: meta.target, feeds, baselineToken: 0 });
  assert.equal(Array.from(pad.attributions.data), Array.from(token.attributions.data));
  // Two rows of ids are deeplift-shap's baseline distribution: the mean of DeepLIFT from each.
  const both = { data: BigInt64Array.from([...Array.from(ref.data.subarray(0, 8)), ...new BigInt64Array(8)]), dims: [2, 8] };
  const shap = await ex.attribute(ids, { method: 'deeplift-shap', target: meta.target, feeds, baseline: both });
  const first = await ex.attribute(ids, { method: 'deeplift', target: meta.target, feeds, baseline: { data: ref.data.slice(0, 8), dims: [1, 8] } });
  assert.ok(relL2(shap.attributions.data, first.attributions.data.map((v, i) => (v + pad.attributions.data[i]) / 2)) < 1e-6, 'deeplift-shap over two id baselines');
  const dir = tempDir('text-baseline-ids');
  const file = (name: string, value: unknown) => { fs.writeFileSync(path.join(dir, name), JSON.stringify(value)); return path.join(dir, name); };
  const row = Array.from(ids.data as BigInt64Array, Number).slice(0, 8);
  const feedArgs = ['--feed', `attention_mask=${file('mask.json', [[1, 1, 1, 1, 1, 1, 1, 1]])}`];
  const cli = await runCli(['attribute', model, '--input', file('ids.json', [row]), ...feedArgs, '--method', 'deeplift', '--baseline', file('ref.json', [row.map(keep)]), '--target', '0']);
  assert.is(cli.code, 0, cli.err.join('\n'));
  assert.ok(cli.out.some((l) => /^row 0: convergence delta -?\d\.\d+e-(\d\d|[6-9])/.test(l)), cli.out.join('\n'));
  // --layer on a text model from the CLI (its check for paths around the layer took the ids' row shape for the embeddings').
  const atLayer = await runCli(['attribute', model, '--input', file('ids.json', [row]), ...feedArgs, '--method', 'deeplift', '--baseline', file('ref.json', [row.map(keep)]), '--layer', meta.ln, '--target', '0']);
  assert.is(atLayer.code, 0, atLayer.err.join('\n'));
  assert.ok(atLayer.out.some((l) => /^row 0: convergence delta -?\d\.\d+e-(\d\d|[5-9])/.test(l)), atLayer.out.join('\n'));
  const bad = await runCli(['attribute', model, '--input', file('ids.json', [row]), '--method', 'deeplift', '--baseline', file('short.json', [row.slice(0, 7)])]);
  assert.equal([bad.code, bad.err.length], [1, 1]);
  assert.match(bad.err[0], /^onnx-explain: error: .*baseline token ids have shape \[1,7\]; the ids have \[1,8\]: give rows of 8 ids$/);
});

test('CLI: token ids from a JSON list and from int32 .npy, --feed, --baseline-token; a per-token table; unfed inputs noted', async () => {
  const { model, npy } = load(17);
  const dir = tempDir('text');
  const ids = Array.from(npy('input_ids').data as BigInt64Array, Number);
  fs.writeFileSync(path.join(dir, 'ids.json'), JSON.stringify([ids.slice(0, 8)]));
  const r = await runCli(['attribute', model, '--input', path.join(dir, 'ids.json'), '--method', 'deeplift', '--baseline-token', '0', '--target', '1']);
  assert.is(r.code, 0, r.err.join('\n'));
  const rows = r.out.filter((l) => /^\s+0\s+\d+\s+\d+\s+-?\d/.test(l));
  assert.is(rows.length, 8, r.out.join('\n'));
  assert.equal(rows.map((l) => Number(l.trim().split(/\s+/)[2])), ids.slice(0, 8));
  assert.ok(r.warn.some((w) => /input 'attention_mask' not given: using ones \[1,8\]/.test(w)), r.warn.join('\n'));
  const header = Buffer.from(`{'descr': '<i4', 'fortran_order': False, 'shape': (1, 8), }`.padEnd(117, ' ') + '\n');
  const npy32 = Buffer.concat([Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, header.length, 0]), header, Buffer.from(Int32Array.from(ids.slice(8, 16)).buffer)]);
  fs.writeFileSync(path.join(dir, 'ids.npy'), npy32);
  fs.writeFileSync(path.join(dir, 'mask.json'), JSON.stringify([[1, 1, 1, 1, 1, 1, 0, 0]]));
  const r2 = await runCli(['attribute', model, '--input', path.join(dir, 'ids.npy'), '--feed', `attention_mask=${path.join(dir, 'mask.json')}`, '--target', '0']);
  assert.is(r2.code, 0, r2.err.join('\n'));
  assert.ok(!r2.warn.some((w) => /attention_mask/.test(w)), r2.warn.join('\n'));
  const bad = await runCli(['attribute', model, '--input', path.join(dir, 'ids.json'), '--method', 'deeplift', '--baseline-token', '999']);
  assert.equal([bad.code, bad.err.length], [1, 1]);
  assert.match(bad.err[0], /^onnx-explain: error: .*baseline token 999 is outside the embedding table '.*' \(40 rows\)$/);
  // rewrite of a dynamic-length text model asks for the embedding's shape with a sequence length.
  const noShape = await runCli(['rewrite', model, '--out', path.join(dir, 'never.onnx')]);
  assert.equal([noShape.code, noShape.err.length], [1, 1]);
  assert.match(noShape.err[0], /^onnx-explain: error: .*pass --shape for the token embedding: rows, tokens, width \(e\.g\. --shape 1,128,16\)$/);
  // --shape with the ids' shape: the error says the shape is the embedding's.
  const idsShape = await runCli(['rewrite', model, '--out', path.join(dir, 'never.onnx'), '--shape', '2,8']);
  assert.equal([idsShape.code, idsShape.err.length], [1, 1]);
  assert.match(idsShape.err[0], /has shape \[2,8\], expected rank 3 \[\?, \?, 16\]: '[^']+' is the embedding that the token ids 'input_ids' look up; give its shape, the ids' and then the width \(for ids of shape \[2,8\]: 2,8,16\)$/);
  // One row's sequence length alone: the example gives it a batch of one.
  const length = await runCli(['rewrite', model, '--out', path.join(dir, 'never.onnx'), '--shape', '8']);
  assert.equal([length.code, length.err.length], [1, 1]);
  assert.match(length.err[0], /has shape \[8\], expected rank 3 .*\(for ids of shape \[1,8\]: 1,8,16\)$/);
  assert.not.ok(fs.existsSync(path.join(dir, 'never.onnx')));
});

test('a decoder exported with past (generation-cache inputs, present outputs): the cache defaults to empty and the mask to the new tokens, logits are the default output; the next-token gradient equals PyTorch\'s; DeepLIFT sums to delta; integrated gradients run; info says so', async () => {
  const dir = path.join(TEXT, 'gpt2_past_op14');
  const npy = (name: string): NdArray => readNpy(path.join(dir, `${name}.npy`));
  const meta = JSON.parse(fs.readFileSync(path.join(dir, 'meta.json'), 'utf8'));
  const notes: string[] = [];
  const ex = await Explainer.load(path.join(dir, 'model.onnx'), { warn: (m) => notes.push(m) });
  assert.is(ex.tokens?.ids.name, 'input_ids');
  const ids = npy('input_ids');
  const target = meta.target.map((t: number) => [meta.position, t]);
  const g = await ex.attribute(ids, { target });
  assert.ok(relL2(g.outputs.logits.data, npy('output').data as Float32Array) <= 1e-5, `logits rel L2 ${relL2(g.outputs.logits.data, npy('output').data as Float32Array)}`);
  assert.ok(relL2(g.attributions.data, npy('grad_embedding').data as Float32Array) <= 1e-4, `gradient rel L2 ${relL2(g.attributions.data, npy('grad_embedding').data as Float32Array)}`);
  assert.ok(notes.some((m) => /4 inputs 'past_key_values\.0\.key' \[2,2,0,8\], .*'past_key_values\.1\.value' \[2,2,0,8\] not given: using an empty generation cache/.test(m)), notes.join('\n'));
  // A saved graph declares the shapes it was built for, its outputs too (logits were [N, sequence_length, 40]).
  const { model: saved } = await ex.augmented([8, 16], { target: target[0] });
  const declared = (vi: { type?: { tensor_type?: { shape?: { dim?: { dim_param?: string; dim_value?: unknown }[] } } } }) => vi.type!.tensor_type!.shape!.dim!.map((d) => d.dim_param || Number(d.dim_value));
  assert.equal(declared(saved.graph!.output!.find((o) => o.name === 'logits')!), ['N', 8, 40]);
  assert.equal(declared(saved.graph!.input!.find((i) => i.name === 'attention_mask')!), ['N', 8]);
  assert.ok(notes.some((m) => /input 'attention_mask' not given: using ones \[2,8\]/.test(m)), notes.join('\n'));
  for (const baselineToken of [undefined, 0]) {
    const d = await ex.attribute(ids, { method: 'deeplift', target, baselineToken });
    d.delta!.forEach((delta, r) => assert.ok(Math.abs(delta) <= 1e-5, `baseline token ${baselineToken}, row ${r}: delta ${delta}`));
  }
  // Integrated gradients repeat the empty cache over the path's points (it stays empty).
  const ig = await ex.attribute(ids, { method: 'integrated-gradients', target });
  ig.delta!.forEach((delta, r) => assert.ok(Math.abs(delta) <= 1e-4, `integrated gradients, row ${r}: delta ${delta}`));
  const info = await runCli(['info', path.join(dir, 'model.onnx')]);
  assert.is(info.code, 0);
  assert.ok(info.out.some((l) => /^input: past_key_values\.0\.key \[batch_size, 2, past_sequence_length, 8\] float32: generation cache: empty by default/.test(l)), info.out.join('\n'));
});

test('optimum\'s merged decoder (an If on use_cache_branch between the cached pass and the first pass) is read as its first pass: the same gradient, DeepLIFT and IG as gpt2_past_op14; info marks the switch and caches unread', async () => {
  const past = path.join(TEXT, 'gpt2_past_op14');
  const npy = (name: string): NdArray => readNpy(path.join(past, `${name}.npy`));
  const meta = JSON.parse(fs.readFileSync(path.join(past, 'meta.json'), 'utf8'));
  const model = path.join(TEXT, 'gpt2_merged_op14', 'model.onnx');
  const ex = await Explainer.load(model, { warn: () => undefined });
  assert.is(ex.tokens?.ids.name, 'input_ids', 'the word embedding is found inside the first pass');
  assert.not.ok(ex.inputs.some((i) => i.name === 'use_cache_branch'), 'the switch is no input of the reading');
  const ids = npy('input_ids');
  const target = meta.target.map((t: number) => [meta.position, t]);
  const g = await ex.attribute(ids, { target });
  assert.ok(relL2(g.attributions.data, npy('grad_embedding').data as Float32Array) <= 1e-4, `gradient rel L2 ${relL2(g.attributions.data, npy('grad_embedding').data as Float32Array)}`);
  for (const method of ['deeplift', 'integrated-gradients']) {
    const r = await ex.attribute(ids, { method, target });
    r.delta!.forEach((delta, row) => assert.ok(Math.abs(delta) <= 1e-4, `${method}, row ${row}: delta ${delta}`));
  }
  const { dims } = npy('input_ids');
  await ex.attribute(ids, { target, feeds: { 'past_key_values.0.key': { data: new Float32Array(0), dims: [dims[0], 2, 0, 8] } } }).then(
    () => assert.unreachable('a fed cache accepted'),
    (e: Error) => assert.match(e.message, /--feed past_key_values\.0\.key: the model does not read this generation cache \(an optimum merged decoder is read as its first pass\)/));
  const info = await runCli(['info', model]);
  assert.ok(info.out.some((l) => /^input: use_cache_branch \[1\] bool: not read \(an optimum merged decoder, read as its first pass/.test(l)), info.out.join('\n'));
  assert.ok(info.out.some((l) => /^input: past_key_values\.0\.key .*: not read/.test(l)), info.out.join('\n'));
});

for (const opset of [13, 17]) {
  test(`bert opset ${opset}: joint attribution to input_ids and token_type_ids (Captum's LayerIntegratedGradients over [word, segment] embeddings): gradients and integrated gradients from ids 0 and token types 0 equal PyTorch; DeepLIFT sums to delta over both`, async () => {
    const { model, npy, meta } = load(opset);
    const ex = await Explainer.load(model, { wrt: ['input_ids', 'token_type_ids'] });
    assert.equal(ex.explainedNames, ['input_ids', 'token_type_ids']);
    const given = { input_ids: npy('input_ids'), attention_mask: npy('attention_mask'), token_type_ids: npy('token_type_ids') };
    const g = await ex.attribute(given, { target: meta.target });
    assert.equal(Object.keys(g.inputAttributions!), ['input_ids', 'token_type_ids']);
    for (const [name, file] of [['input_ids', 'grad_embedding'], ['token_type_ids', 'grad_segment']]) {
      const err = relL2(g.inputAttributions![name].data, npy(file).data as Float32Array);
      assert.ok(err <= 1e-4, `${name} gradient rel L2 ${err}`);
    }
    const zeros = { data: new BigInt64Array(24), dims: [3, 8] };
    const ig = await ex.attribute(given, { method: 'integrated-gradients', steps: meta.ln_ig_steps, target: meta.target, baselines: { input_ids: zeros, token_type_ids: zeros } });
    for (const [name, file] of [['input_ids', 'ig_joint_word'], ['token_type_ids', 'ig_joint_segment']]) {
      const want = npy(file).data as Float32Array;
      const err = relL2(ig.inputAttributions![name].data, want);
      assert.ok(err <= 1e-4, `${name} IG rel L2 ${err}`);
      assert.equal(ig.inputTokenScores![name].dims, [3, 8]);
      assert.ok(relL2(ig.inputTokenScores![name].data, Array.from({ length: 24 }, (_, k) => want.subarray(k * 16, (k + 1) * 16).reduce((a, v) => a + v, 0))) <= 1e-4, `${name} token scores`);
    }
    // Token types equal to their baseline's (all but row 2's last four) get exactly zero.
    const types = npy('token_type_ids').data as BigInt64Array;
    ig.inputTokenScores!.token_type_ids.data.forEach((v, k) => types[k] === 0n && assert.is(v, 0, `token ${k}`));
    // The same baseline as --baseline-token 0 and token types given as an embedding (the segment table's row 0 at every token).
    const row0 = await ex.attribute(given, { method: 'integrated-gradients', steps: meta.ln_ig_steps, target: meta.target, baselineToken: 0, baselines: { token_type_ids: { data: new BigInt64Array(8), dims: [1, 8] } } });
    assert.ok(relL2(row0.inputAttributions!.input_ids.data, ig.inputAttributions!.input_ids.data) < 1e-6, 'baselineToken 0 = ids 0');
    const d = await ex.attribute(given, { method: 'deeplift', target: meta.target, baselines: { input_ids: zeros, token_type_ids: zeros } });
    d.delta!.forEach((delta, r) => assert.ok(Math.abs(delta) <= 1e-5, `joint DeepLIFT row ${r}: delta ${delta}`));
  });
}

test('token ids given as whole float32 values of the ids\' rank (a uint8 .npy reads so) are ids: the same gradient as int64 ids', async () => {
  const { ex, ids, feeds, meta } = await embeddingGradient(13);
  const asFloats = { data: Float32Array.from(ids.data as BigInt64Array, Number), dims: ids.dims };
  const [want, got] = [await ex.attribute(ids, { target: meta.target, feeds }), await ex.attribute(asFloats, { target: meta.target, feeds })];
  assert.equal(Array.from(got.attributions.data), Array.from(want.attributions.data));
  assert.equal(Array.from(got.tokenScores!.data), Array.from(want.tokenScores!.data));
});

test('CLI: --wrt input_ids,token_type_ids writes one file per token input and a token table for each; token ids not fed, or not in the table, fail in one line', async () => {
  const { model, npy, meta } = load(14);
  const dir = tempDir('text-joint-ids');
  const out = path.join(dir, 'a.npy');
  const inputs = (name: string) => path.join(TEXT, 'bert_op14', `${name}.npy`);
  const zeros = path.join(dir, 'zeros.json');
  fs.writeFileSync(zeros, JSON.stringify(Array.from({ length: 3 }, () => Array(8).fill(0))));
  const args = ['attribute', model, '--wrt', 'input_ids,token_type_ids', '--input', inputs('input_ids'), '--method', 'integrated-gradients', '--steps', String(meta.ln_ig_steps), '--target', meta.target.join(','), '--baseline', `input_ids=${zeros},token_type_ids=${zeros}`];
  const cli = await runCli([...args, '--feed', `attention_mask=${inputs('attention_mask')},token_type_ids=${inputs('token_type_ids')}`, '--out', out]);
  assert.is(cli.code, 0, cli.err.join('\n'));
  for (const [name, file] of [['input_ids', 'ig_joint_word'], ['token_type_ids', 'ig_joint_segment']]) {
    const err = relL2(readNpy(path.join(dir, `a.${name}.npy`)).data as Float32Array, npy(file).data as Float32Array);
    assert.ok(err <= 1e-4, `${name}: rel L2 ${err}`);
    assert.ok(cli.out.includes(`input '${name}':`), cli.out.join('\n'));
  }
  // Row 2's token types: four of type 1 after four of type 0.
  assert.ok(cli.out.some((l) => /^ +2 +7 +1 +-?\d/.test(l)), cli.out.join('\n'));
  const info = await runCli(['info', model]);
  assert.ok(info.out.includes('input: token_type_ids [batch, sequence] int64: fed with --feed token_type_ids=FILE (default zeros); or explained jointly with --wrt input_ids,token_type_ids'), info.out.join('\n'));
  assert.ok(info.out.includes('input: attention_mask [batch, sequence] int64: fed with --feed attention_mask=FILE (default ones)'), info.out.join('\n'));
  // --input NAME=FILE naming another input offers --wrt only where it could be explained (token types, not a mask).
  const maskGiven = await runCli(['attribute', model, '--input', `attention_mask=${inputs('attention_mask')}`]);
  assert.match(maskGiven.err.join('\n'), /^onnx-explain: error: --input attention_mask=.*: 'attention_mask' is not the explained input \('input_ids'\): feed it with --feed attention_mask=FILE$/);
  const typesGiven = await runCli(['attribute', model, '--input', `token_type_ids=${inputs('token_type_ids')}`]);
  assert.match(typesGiven.err.join('\n'), /feed it with --feed token_type_ids=FILE, or explain it with --wrt token_type_ids \(jointly: --wrt input_ids,token_type_ids\)$/);
  const unfed = await runCli([...args, '--feed', `attention_mask=${inputs('attention_mask')}`]);
  assert.equal([unfed.code, unfed.err.length], [1, 1]);
  assert.match(unfed.err[0], /^onnx-explain: error: .*token ids 'token_type_ids' are explained jointly: give them with --feed token_type_ids=FILE/);
  const big = path.join(dir, 'types.json');
  fs.writeFileSync(big, JSON.stringify([Array(8).fill(5)]));
  const outside = await runCli([...args, '--feed', `attention_mask=${inputs('attention_mask')},token_type_ids=${big}`]);
  assert.equal([outside.code, outside.err.length], [1, 1]);
  assert.match(outside.err[0], /^onnx-explain: error: .*token id 5 is outside the embedding table '.*' \(2 rows\)$/);
});

test('CANINE-style hashed ids (((id + 1) · prime) mod 60 into four tables, their rows concatenated) are the token ids: the gradient at the Concat equals PyTorch autograd; DeepLIFT sums to delta; token occlusion equals forwards on the occluded ids', async () => {
  const dir = path.join(TEXT, 'hashed_ids_op14');
  const npy = (file: string): NdArray => readNpy(path.join(dir, `${file}.npy`));
  const meta = JSON.parse(fs.readFileSync(path.join(dir, 'meta.json'), 'utf8'));
  const ex = await Explainer.load(path.join(dir, 'model.onnx'));
  assert.is(ex.tokens?.ids.name, 'input_ids', 'the hashed ids, not the token types');
  const [ids, feeds, target] = [npy('input_ids'), { attention_mask: npy('attention_mask'), token_type_ids: npy('token_type_ids') }, meta.target];
  const g = await ex.attribute(ids, { target, feeds });
  assert.ok(relL2(g.outputs.logits.data, npy('output').data as Float32Array) <= 1e-5, 'logits');
  assert.ok(relL2(g.attributions.data, npy('embedding').data as Float32Array) > 0.5, 'the gradient is not the embedding');
  assert.ok(relL2(g.attributions.data, npy('grad_embedding').data as Float32Array) <= 1e-4, `gradient rel L2 ${relL2(g.attributions.data, npy('grad_embedding').data as Float32Array)}`);
  const x = await ex.attribute(ids, { method: 'input-x-gradient', target, feeds });
  const xg = (npy('embedding').data as Float32Array).map((v, k) => v * (npy('grad_embedding').data as Float32Array)[k]);
  assert.ok(relL2(x.attributions.data, xg) <= 1e-4, 'input × gradient: the looked-up vectors are PyTorch\'s');
  await assertDeepliftSums(ex, ids, target, feeds);
  // A saved graph's rows are the embeddings' [L, 16]: the ids' [L] is refused naming them (was onnxruntime's rank error).
  await rejects(() => ex.augmented([8], { target: 1 }), /input '\/Concat_output_0' has shape \[1,8\], expected rank 3 \[\?, \?, 16\]: .* is the embedding that the token ids 'input_ids' look up/);
  // Occluding token t with the pad id 0 against forwards on ids with id 0 there (each of its 16 embedding values gets the difference).
  const occ = await ex.attribute(ids, { method: 'occlusion', window: [1], baselineToken: 0, target, feeds });
  const base = (await ex.attribute(ids, { target, feeds })).outputs.logits.data;
  for (const t of [0, 3, 7]) {
    const occluded = BigInt64Array.from(ids.data as BigInt64Array, (v, k) => (k % 8 === t ? 0n : v));
    const y = (await ex.attribute({ data: occluded, dims: ids.dims }, { target, feeds })).outputs.logits.data;
    [0, 1, 2].forEach((r) => {
      const want = 16 * (base[r * 3 + target[r]] - y[r * 3 + target[r]]);
      assert.ok(Math.abs(occ.tokenScores!.data[r * 8 + t] - want) <= 1e-5 * Math.max(1, Math.abs(want)), `row ${r} token ${t}: ${occ.tokenScores!.data[r * 8 + t]} vs ${want}`);
    });
  }
});

test('hashed ids\' rows: Add, Sub, Mul, Div, Mod (fmod 0 and 1), Min and Max of an int64 index with a constant give the rows onnxruntime computes (Div truncates, Mod takes the divisor\'s sign, fmod the dividend\'s)', async () => {
  const steps: [string, bigint, boolean][] = [['Add', 7n, true], ['Sub', 3n, false], ['Mul', -5n, true], ['Div', 4n, true], ['Mod', 6n, true], ['Mod', -6n, true], ['Fmod', -6n, true], ['Min', 4n, true], ['Max', 2n, false]];
  const ids = BigInt64Array.of(-13n, -1n, 0n, 5n, 17n, 1114111n);
  const initializer = steps.map(([, c], k) => ({ name: `c${k}`, dims: [], data_type: DataType.INT64, int64_data: [Number(c)] }));
  // torch.fmod(ids, V) is Mod with fmod = 1 (C's remainder, the dividend's sign).
  const node = steps.map(([op, , first], k) => ({ op_type: op === 'Fmod' ? 'Mod' : op, input: first ? ['ids', `c${k}`] : [`c${k}`, 'ids'], output: [`y${k}`], attribute: op === 'Fmod' ? [{ name: 'fmod', type: 2, i: 1 }] : [] }));
  const model = { ir_version: 8, opset_import: [{ domain: '', version: 14 }], graph: { name: 'steps', node, initializer, input: [valueInfo('ids', DataType.INT64, [6])], output: steps.map((_, k) => valueInfo(`y${k}`, DataType.INT64, [6])) } };
  const session = await ort.InferenceSession.create(encodeModel(model));
  const out = await session.run({ ids: new ort.Tensor('int64', ids, [6]) });
  steps.forEach(([op, operand, indexFirst], k) => {
    const want = Array.from((out[`y${k}`] as ort.Tensor).data as BigInt64Array, Number);
    assert.equal(Array.from(ids, (id) => indexOf([{ op, operand: [operand], indexFirst }], Number(id))), want, op);
  });
  await session.release();
});

// models/make_text.py lookups: out-of-vocabulary ids mapped to the unknown token (3) in the graph, and half-precision tables.
for (const name of ['unk_where_op14', 'unk_where_op17', 'unk_full_like_op14', 'unk_masked_fill_op17', 'half_table_op14', 'half_table_bf16_op14', 'half_rows_op17']) {
  test(`${name}: the token ids are explained at the looked-up rows: gradient, input × gradient and integrated gradients from the pad token equal PyTorch float64; DeepLIFT sums to delta`, async () => {
    const dir = path.join(TEXT, name);
    const npy = (file: string): NdArray => readNpy(path.join(dir, `${file}.npy`));
    const meta = JSON.parse(fs.readFileSync(path.join(dir, 'meta.json'), 'utf8'));
    const ex = await Explainer.load(path.join(dir, 'model.onnx'));
    assert.is(ex.tokens?.ids.name, 'input_ids');
    assert.is(ex.input.name, meta.embedding_output);
    const [ids, feeds, target] = [npy('input_ids'), { attention_mask: npy('attention_mask') }, meta.target];
    const near = (got: ArrayLike<number>, want: ArrayLike<number>, what: string) => assert.ok(relL2(got, want) <= 1e-5, `${what} rel L2 ${relL2(got, want)}`);
    const g = await ex.attribute(ids, { target, feeds });
    near(g.outputs.logits.data, npy('output').data as Float32Array, 'logits');
    near(g.attributions.data, npy('grad_embedding').data as Float32Array, 'gradient');
    // Out-of-vocabulary ids (unk_*: 47, 40, 60000) read the unknown token's row, as PyTorch's embedding.npy holds.
    const x = await ex.attribute(ids, { method: 'input-x-gradient', target, feeds });
    near(x.attributions.data, (npy('embedding').data as Float32Array).map((v, k) => v * (npy('grad_embedding').data as Float32Array)[k]), 'input × gradient');
    const ig = await ex.attribute(ids, { method: 'integrated-gradients', steps: meta.ig_steps, baselineToken: meta.pad, target, feeds });
    near(ig.attributions.data, npy('ig_embedding').data as Float32Array, 'integrated gradients');
    await assertDeepliftSums(ex, ids, target, feeds);
  });
}

test('an index kept where its comparison with a constant holds, else a constant id (Where, the condition through Not and Cast, the index either side of it, a scalar or full_like fill): the rows onnxruntime computes', async () => {
  // [comparison, index first in it, negated by a Not, index in Where's false branch, fill as ConstantOfShape]
  const forms: [string, boolean, boolean, boolean, boolean][] = [
    ['Less', true, false, false, false], ['Less', false, true, false, true], ['GreaterOrEqual', true, false, true, false], ['Greater', false, false, false, false],
    ['LessOrEqual', true, true, true, true], ['Equal', true, false, true, false], ['Equal', false, true, false, false],
  ];
  const node = forms.flatMap(([op, first, not, swapped, full], k) => [
    { op_type: op, input: first ? ['ids', 'c'] : ['c', 'ids'], output: [`cmp${k}`] },
    { op_type: not ? 'Not' : 'Cast', input: [`cmp${k}`], output: [`cond${k}`], attribute: not ? [] : [{ name: 'to', type: 2, i: DataType.BOOL }] },
    ...(full ? [{ op_type: 'ConstantOfShape', input: ['shape'], output: [`fill${k}`], attribute: [{ name: 'value', type: 4, t: { dims: [1], data_type: DataType.INT64, int64_data: [3] } }] }] : []),
    { op_type: 'Where', input: [`cond${k}`, ...(swapped ? [full ? `fill${k}` : 'unk', 'ids'] : ['ids', full ? `fill${k}` : 'unk'])], output: [`y${k}`] },
    { op_type: 'Gather', input: ['table', `y${k}`], output: [`e${k}`] },
  ]);
  const model = {
    ir_version: 8, opset_import: [{ domain: '', version: 14 }],
    graph: {
      name: 'unk', node: [{ op_type: 'Shape', input: ['ids'], output: ['shape'] }, ...node],
      initializer: [scalar('c', 5), scalar('unk', 3), { name: 'table', dims: [12, 2], data_type: DataType.FLOAT, float_data: Array.from({ length: 24 }, (_, k) => k) }],
      input: [valueInfo('ids', DataType.INT64, [6])], output: forms.flatMap((_, k) => [valueInfo(`y${k}`, DataType.INT64, [6]), valueInfo(`e${k}`, DataType.FLOAT, [6, 2])]),
    },
  };
  const lookups = new Map(embeddingsOf(new GraphView(model), 'ids').map((e) => [e.output, e.lookups[0].index]));
  const ids = BigInt64Array.of(0n, 4n, 5n, 6n, 9n, 11n);
  const session = await ort.InferenceSession.create(encodeModel(model));
  const out = await session.run({ ids: new ort.Tensor('int64', ids, [6]) });
  forms.forEach((form, k) => {
    const steps = lookups.get(`e${k}`);
    assert.ok(steps, `${form}: found`);
    assert.equal(Array.from(ids, (id) => indexOf(steps!, Number(id))), Array.from((out[`y${k}`] as ort.Tensor).data as BigInt64Array, Number), `${form}`);
  });
  await session.release();
});

test('token ids beside position ids of a larger table (a small vocabulary, optimum\'s position_ids input): the token ids are explained, the positions default to 0…L−1; ids clamped (Clip) into the table are followed; a static length named at the ids', async () => {
  // y = Σ_L (word[clip(ids, 0, 9)] + pos[position_ids]) [N, 4]: word 10 rows, positions 32 rows.
  const table = (name: string, rows: number) => ({ name, dims: [rows, 4], data_type: DataType.FLOAT, float_data: Array.from({ length: rows * 4 }, (_, k) => Math.sin(k * 0.7 + rows)) });
  const model = encodeModel({
    ir_version: 8, opset_import: [{ domain: '', version: 14 }],
    graph: {
      name: 'positions',
      node: [
        { op_type: 'Clip', input: ['input_ids', 'lo', 'hi'], output: ['clipped'] },
        { op_type: 'Gather', input: ['word', 'clipped'], output: ['words'] },
        { op_type: 'Gather', input: ['pos', 'position_ids'], output: ['positions'] },
        { op_type: 'Add', input: ['words', 'positions'], output: ['h'] },
        { op_type: 'ReduceSum', input: ['h', 'axis'], output: ['y'], attribute: [{ name: 'keepdims', type: 2, i: 0 }] },
      ],
      initializer: [table('word', 10), table('pos', 32), scalar('lo', 0), scalar('hi', 9), { name: 'axis', dims: [1], data_type: DataType.INT64, int64_data: [1] }],
      input: [valueInfo('input_ids', DataType.INT64, ['N', 6]), valueInfo('position_ids', DataType.INT64, ['N', 6])],
      output: [valueInfo('y', DataType.FLOAT, ['N', 4])],
    },
  });
  const notes: string[] = [];
  const ex = await Explainer.load(model, { warn: (m) => notes.push(m) });
  assert.is(ex.tokens?.ids.name, 'input_ids');
  const ids = { data: BigInt64Array.of(3n, 15n, 0n, 9n, 2n, 7n), dims: [1, 6] };
  const g = await ex.attribute(ids, { target: 2, method: 'input-x-gradient' });
  // The clamped id 15 reads row 9: input × gradient is that row's third value.
  assert.ok(Math.abs(g.attributions.data[1 * 4 + 2] - Math.sin(9 * 4 * 0.7 + 2 * 0.7 + 10)) < 1e-6, `${g.attributions.data[6]}`);
  assert.ok(notes.some((m) => /input 'position_ids' not given: using positions 0…5/.test(m)), notes.join('\n'));
  await rejects(() => ex.attribute({ data: new BigInt64Array(4), dims: [1, 4] }, { target: 0 }), /token ids 'input_ids' have shape \[1,4\], expected \[\?, 6\] \(the model fixes axis 1 at 6\)$/);
});

test('per-field offsets into one shared table (torchfm\'s FeaturesEmbedding: ids [N, F] + offsets [F]): each field\'s id looks up its own row; input × gradient sums to the linear logit', async () => {
  // y = Flatten(table[ids + [0, 5, 12]]) · W: three fields of 5, 7 and 4 categories in a table of 16 rows.
  const table = Array.from({ length: 16 * 4 }, (_, k) => Math.sin(k * 0.37 + 1));
  const W = Array.from({ length: 12 * 2 }, (_, k) => Math.cos(k * 0.61));
  const model = encodeModel({
    ir_version: 8, opset_import: [{ domain: '', version: 14 }],
    graph: {
      name: 'fields',
      node: [
        { op_type: 'Add', input: ['fields', 'offsets'], output: ['rows'] },
        { op_type: 'Gather', input: ['table', 'rows'], output: ['embedded'] },
        { op_type: 'Flatten', input: ['embedded'], output: ['flat'], attribute: [{ name: 'axis', type: 2, i: 1 }] },
        { op_type: 'MatMul', input: ['flat', 'W'], output: ['y'] },
      ],
      initializer: [
        { name: 'offsets', dims: [3], data_type: DataType.INT64, int64_data: [0, 5, 12] },
        { name: 'table', dims: [16, 4], data_type: DataType.FLOAT, float_data: table },
        { name: 'W', dims: [12, 2], data_type: DataType.FLOAT, float_data: W },
      ],
      input: [valueInfo('fields', DataType.INT64, ['N', 3])],
      output: [valueInfo('y', DataType.FLOAT, ['N', 2])],
    },
  });
  const ex = await Explainer.load(model);
  const ids = { data: BigInt64Array.of(4n, 0n, 3n, 1n, 6n, 0n), dims: [2, 3] };
  const r = await ex.attribute(ids, { method: 'input-x-gradient', target: 1 });
  const rows = [4, 5, 15, 1, 11, 12];
  rows.forEach((row, k) => {
    const [n, f] = [Math.floor(k / 3), k % 3];
    const want = [0, 1, 2, 3].map((e) => table[row * 4 + e] * W[(f * 4 + e) * 2 + 1]);
    assert.ok(relL2(r.attributions.data.subarray(k * 4, k * 4 + 4), want) < 1e-6, `row ${n}, field ${f}`);
  });
  [0, 1].forEach((n) => {
    const sum = r.tokenScores!.data.subarray(n * 3, n * 3 + 3).reduce((s, v) => s + v, 0);
    assert.ok(Math.abs(sum - r.outputs.y.data[n * 2 + 1]) < 1e-5, `row ${n}: Σ ${sum} vs y ${r.outputs.y.data[n * 2 + 1]}`);
  });
});

test('hash embeddings: two lookups of the same ids summed (word[ids mod 7] + word2[(3·ids + 1) mod 5]) are one embedding, explained at the Add: input × gradient sums to the linear logit; a baseline token moves both', async () => {
  const [t1, t2] = [Array.from({ length: 7 * 4 }, (_, k) => Math.sin(k * 0.53)), Array.from({ length: 5 * 4 }, (_, k) => Math.cos(k * 0.71))];
  const model = encodeModel({
    ir_version: 8, opset_import: [{ domain: '', version: 14 }],
    graph: {
      name: 'hash-sum',
      node: [
        { op_type: 'Mod', input: ['ids', 'seven'], output: ['h1'] },
        { op_type: 'Mul', input: ['ids', 'three'], output: ['m'] },
        { op_type: 'Add', input: ['m', 'one'], output: ['a'] },
        { op_type: 'Mod', input: ['a', 'five'], output: ['h2'] },
        { op_type: 'Gather', input: ['word', 'h1'], output: ['e1'] },
        { op_type: 'Gather', input: ['word2', 'h2'], output: ['e2'] },
        { op_type: 'Add', input: ['e1', 'e2'], output: ['e'] },
        { op_type: 'ReduceSum', input: ['e', 'axis'], output: ['y'], attribute: [{ name: 'keepdims', type: 2, i: 0 }] },
      ],
      initializer: [
        { name: 'word', dims: [7, 4], data_type: DataType.FLOAT, float_data: t1 }, { name: 'word2', dims: [5, 4], data_type: DataType.FLOAT, float_data: t2 },
        scalar('seven', 7), scalar('three', 3), scalar('one', 1), scalar('five', 5), { name: 'axis', dims: [1], data_type: DataType.INT64, int64_data: [1] },
      ],
      input: [valueInfo('ids', DataType.INT64, ['N', 'L'])],
      output: [valueInfo('y', DataType.FLOAT, ['N', 4])],
    },
  });
  const ex = await Explainer.load(model);
  assert.is(ex.input.name, 'e');
  const ids = [12, 40, 3];
  const r = await ex.attribute({ data: BigInt64Array.from(ids, BigInt), dims: [1, 3] }, { method: 'input-x-gradient', target: 2 });
  const want = ids.map((id) => t1[(id % 7) * 4 + 2] + t2[((3 * id + 1) % 5) * 4 + 2]);
  assert.ok(relL2(r.tokenScores!.data, want) < 1e-6, `${Array.from(r.tokenScores!.data)} vs ${want}`);
  const d = await ex.attribute({ data: BigInt64Array.from(ids, BigInt), dims: [1, 3] }, { method: 'deeplift', target: 2, baselineToken: 4 });
  const base = t1[4 * 4 + 2] + t2[((3 * 4 + 1) % 5) * 4 + 2];
  assert.ok(relL2(d.tokenScores!.data, want.map((w) => w - base)) < 1e-6, 'DeepLIFT from token 4: each token\'s difference');
});

test('lookups of the same ids that no node joins (DeepFM\'s linear table [V, 1] and factor table [V, 4] at per-field offsets, a bias table [V], a [V, 2, 2] table read through an Identity) are one vector, their rows side by side: DeepLIFT sums to f(x) − f(baseline ids) of forwards; occlusion equals forwards on the occluded ids; info names the parts', async () => {
  // y = [Σ_f lin[idx] + Σ_f bias[ids], tanh(Σ cube[ids])ᵀ·[1, −2] per field pair…, (Σ_f fac[idx])²]: every table moves with the ids (before, only the largest was explained, the others held at x).
  const V = 12;
  const values = (n: number, phase: number) => Array.from({ length: n }, (_, k) => Math.sin(k * 0.71 + phase));
  const [lin, fac, bias, cube] = [values(V, 0.3), values(V * 4, 1.1), values(V, 2.3), values(V * 4, 0.7)];
  const model = encodeModel({
    ir_version: 8, opset_import: [{ domain: '', version: 14 }],
    graph: {
      name: 'deepfm',
      node: [
        { op_type: 'Add', input: ['ids', 'offsets'], output: ['idx'] },
        { op_type: 'Gather', input: ['lin', 'idx'], output: ['l'] },
        { op_type: 'ReduceSum', input: ['l', 'a12'], output: ['ls'], attribute: [{ name: 'keepdims', type: 2, i: 0 }] },
        { op_type: 'Gather', input: ['bias', 'ids'], output: ['b'] },
        { op_type: 'ReduceSum', input: ['b', 'a1'], output: ['bs'], attribute: [{ name: 'keepdims', type: 2, i: 0 }] },
        { op_type: 'Add', input: ['ls', 'bs'], output: ['wide'] },
        { op_type: 'Unsqueeze', input: ['wide', 'a1'], output: ['wide1'] },
        { op_type: 'Gather', input: ['fac', 'idx'], output: ['e'] },
        { op_type: 'ReduceSum', input: ['e', 'a1'], output: ['es'], attribute: [{ name: 'keepdims', type: 2, i: 0 }] },
        { op_type: 'Mul', input: ['es', 'es'], output: ['fm'] },
        { op_type: 'Identity', input: ['cube'], output: ['cube_tied'] },
        { op_type: 'Gather', input: ['cube_tied', 'ids'], output: ['c'] },
        { op_type: 'ReduceSum', input: ['c', 'a13'], output: ['cs'], attribute: [{ name: 'keepdims', type: 2, i: 0 }] },
        { op_type: 'Tanh', input: ['cs'], output: ['deep'] },
        { op_type: 'Concat', input: ['wide1', 'deep', 'fm'], output: ['y'], attribute: [{ name: 'axis', type: 2, i: 1 }] },
      ],
      initializer: [
        axes('offsets', [0, 4, 8]), axes('a1', [1]), axes('a12', [1, 2]), axes('a13', [1, 3]),
        { name: 'lin', dims: [V, 1], data_type: DataType.FLOAT, float_data: lin }, { name: 'fac', dims: [V, 4], data_type: DataType.FLOAT, float_data: fac },
        { name: 'bias', dims: [V], data_type: DataType.FLOAT, float_data: bias }, { name: 'cube', dims: [V, 2, 2], data_type: DataType.FLOAT, float_data: cube },
      ],
      input: [valueInfo('ids', DataType.INT64, ['N', 3])],
      output: [valueInfo('y', DataType.FLOAT, ['N', 7])],
    },
  });
  const ex = await Explainer.load(model);
  assert.equal([ex.input.name, ex.input.dims], ['ids/embeddings', [-1, 3, 1 + 1 + 4 + 4]]);
  const ids = { data: BigInt64Array.of(3n, 0n, 2n, 1n, 3n, 0n), dims: [2, 3] };
  const forward = async (data: BigInt64Array) => (await ex.attribute({ data, dims: [2, 3] }, { target: 0 })).outputs.y.data;
  const fx = await forward(ids.data);
  for (const target of [0, 2, 5]) {
    const d = await ex.attribute(ids, { method: 'deeplift', target, baselineToken: 1 });
    const f0 = await forward(new BigInt64Array(6).fill(1n));
    [0, 1].forEach((n) => {
      const sum = d.tokenScores!.data.subarray(n * 3, n * 3 + 3).reduce((s, v) => s + v, 0);
      const want = fx[n * 7 + target] - f0[n * 7 + target];
      assert.ok(Math.abs(sum - want) <= 1e-5 * Math.max(1, Math.abs(want)), `target ${target}, row ${n}: Σ ${sum} vs f(x) − f(x⁰) ${want}`);
    });
    const occ = await ex.attribute(ids, { method: 'occlusion', window: [1], baselineToken: 1, target });
    for (const f of [0, 1, 2]) {
      const y = await forward(BigInt64Array.from(ids.data, (v, k) => (k % 3 === f ? 1n : v)));
      [0, 1].forEach((n) => {
        const want = 10 * (fx[n * 7 + target] - y[n * 7 + target]);
        assert.ok(Math.abs(occ.tokenScores!.data[n * 3 + f] - want) <= 1e-5 * Math.max(1, Math.abs(want)), `occlusion, target ${target}, row ${n}, field ${f}`);
      });
    }
  }
  const dir = tempDir('deepfm');
  const file = path.join(dir, 'deepfm.onnx');
  fs.writeFileSync(file, model);
  const info = await runCli(['info', file]);
  assert.match(info.out.join('\n'), /token ids: explained at their lookups 'l', 'b', 'e', 'c', side by side as 'ids\/embeddings'/);
});

test('token ids that reach their table in another shape (multiple choice\'s ids.view(−1, L) of [N, C, L], an unsqueeze) are explained in the ids\' own layout: the gradient equals the closed form, DeepLIFT sums to f(x) − f(baseline ids) of forwards (both failed in a later node\'s shape check)', async () => {
  // y[n, c] = w · tanh(Σ_l table[ids[n, c, l]]): the lookup reads Reshape(ids, [−1, L]); y is reshaped back to [N, C].
  const table = Array.from({ length: 6 * 2 }, (_, k) => Math.sin(k * 0.7 + 0.2));
  const w = [0.8, -1.3];
  const model = encodeModel({
    ir_version: 8, opset_import: [{ domain: '', version: 13 }],
    graph: {
      name: 'choices',
      node: [
        { op_type: 'Reshape', input: ['ids', 'rows'], output: ['flat'] },
        { op_type: 'Gather', input: ['table', 'flat'], output: ['e'] },
        { op_type: 'ReduceSum', input: ['e', 'a1'], output: ['s'], attribute: [{ name: 'keepdims', type: 2, i: 0 }] },
        { op_type: 'Tanh', input: ['s'], output: ['t'] },
        { op_type: 'MatMul', input: ['t', 'w'], output: ['score'] },
        { op_type: 'Reshape', input: ['score', 'choices'], output: ['y'] },
      ],
      initializer: [axes('rows', [-1, 3]), axes('a1', [1]), axes('choices', [-1, 2]), { name: 'table', dims: [6, 2], data_type: DataType.FLOAT, float_data: table }, { name: 'w', dims: [2, 1], data_type: DataType.FLOAT, float_data: w }],
      input: [valueInfo('ids', DataType.INT64, ['N', 2, 3])],
      output: [valueInfo('y', DataType.FLOAT, ['N', 2])],
    },
  });
  const ex = await Explainer.load(model);
  assert.equal([ex.input.name, ex.input.dims], ['ids/embeddings', [-1, 2, 3, 2]]);
  const idList = [1, 4, 2, 0, 5, 5, 3, 3, 1, 2, 0, 4];
  const ids = { data: BigInt64Array.from(idList, BigInt), dims: [2, 2, 3] };
  const g = await ex.attribute(ids, { target: [1, 0] });
  const want = idList.flatMap((_, k) => {
    const [n, c] = [Math.floor(k / 6), Math.floor(k / 3) % 2];
    if (c !== [1, 0][n]) return [0, 0];
    const sum = [0, 1].map((d) => [0, 1, 2].reduce((acc, l) => acc + table[idList[n * 6 + c * 3 + l] * 2 + d], 0));
    return [0, 1].map((d) => w[d] * (1 - Math.tanh(sum[d]) ** 2));
  });
  assert.ok(relL2(g.attributions.data, want) < 1e-6, `gradient rel L2 ${relL2(g.attributions.data, want)}`);
  const forward = async (data: BigInt64Array) => (await ex.attribute({ data, dims: [2, 2, 3] }, { target: 0 })).outputs.y.data;
  const [fx, f0] = [await forward(ids.data), await forward(new BigInt64Array(12).fill(5n))];
  const d = await ex.attribute(ids, { method: 'deeplift', target: [1, 0], baselineToken: 5 });
  [0, 1].forEach((n) => {
    const sum = d.tokenScores!.data.subarray(n * 6, n * 6 + 6).reduce((acc, v) => acc + v, 0);
    const t = [1, 0][n];
    assert.ok(Math.abs(sum - (fx[n * 2 + t] - f0[n * 2 + t])) < 1e-5, `row ${n}: Σ ${sum} vs ${fx[n * 2 + t] - f0[n * 2 + t]}`);
  });
  // An unsqueezed lookup ([N, 1, L, 2]) summed over its positions: each token's input × gradient is its row's value.
  const unsq = await Explainer.load(encodeModel({
    ir_version: 8, opset_import: [{ domain: '', version: 13 }],
    graph: {
      name: 'unsqueezed',
      node: [
        { op_type: 'Unsqueeze', input: ['ids', 'a1'], output: ['u'] },
        { op_type: 'Gather', input: ['table', 'u'], output: ['e'] },
        { op_type: 'ReduceSum', input: ['e', 'a12'], output: ['y'], attribute: [{ name: 'keepdims', type: 2, i: 0 }] },
      ],
      initializer: [axes('a1', [1]), axes('a12', [1, 2]), { name: 'table', dims: [6, 2], data_type: DataType.FLOAT, float_data: table }],
      input: [valueInfo('ids', DataType.INT64, ['N', 3])],
      output: [valueInfo('y', DataType.FLOAT, ['N', 2])],
    },
  }));
  const x = await unsq.attribute({ data: BigInt64Array.of(1n, 4n, 2n), dims: [1, 3] }, { method: 'input-x-gradient', target: 1 });
  assert.ok(relL2(x.tokenScores!.data, [1, 4, 2].map((id) => table[id * 2 + 1])) < 1e-6, `${Array.from(x.tokenScores!.data)}`);
});

test.run();
