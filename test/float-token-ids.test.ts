import * as fs from 'fs';
import * as path from 'path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Emitter, float } from '../rewriter/emitter';
import { DataType, encodeModel, makeTensor, valueInfo } from '../rewriter/proto';
import { Explainer } from '../runtime';
import { writeNpy } from '../runtime/node/npy-file';
import { runCli, tempDir } from './support/cli-harness';
import { rejects } from './support/rejects';

const [V, D, C, L] = [12, 4, 3, 5];
const E = Array.from({ length: V * D }, (_, i) => Math.sin(i * 0.9));
const W = Array.from({ length: D * C }, (_, i) => Math.cos(i * 1.3));

/**
 * tf2onnx's Keras Embedding → GlobalAveragePooling1D → Dense: the ids come in as float32 and are
 * Cast to int32; with `masked`, mask_zero's mask (ids ≠ 0) multiplies the embeddings.
 */
function model(masked = false): Uint8Array {
  const em = new Emitter(13, DataType.FLOAT, 'k');
  const ids = em.cast('input_1', DataType.INT32);
  const looked = em.op('Gather', [em.constFloat(E, [V, D]), ids], { axis: 0 });
  const e = masked ? em.mul(looked, em.unsqueeze(em.cast(em.op('Not', [em.compare('Equal', 'input_1', em.scalar(0))]), DataType.FLOAT), [2])) : looked;
  em.rename(em.matmul(em.reduceMean(e, [1], false), em.constFloat(W, [D, C])), 'dense');
  return encodeModel({
    ir_version: 8, opset_import: [{ domain: '', version: 13 }], producer_name: 'tf2onnx',
    graph: { name: 'keras', node: em.nodes, initializer: em.initializers, input: [valueInfo('input_1', DataType.FLOAT, ['unk__6', L])], output: [valueInfo('dense', DataType.FLOAT, ['unk__7', C])] },
  });
}

const ids = [[3, 7, 1, 0, 11], [5, 5, 9, 2, 0]];
const x = { data: Float32Array.from(ids.flat()), dims: [2, L] };
const target = 1;

test('a float input that is only Cast to integers and indexes an embedding is explained as token ids: gradient W[:, t]/L, IG E[id]·W[:, t]/L per position', async () => {
  const ex = await Explainer.load(model());
  assert.is(ex.tokens?.ids.name, 'input_1');
  const g = await ex.attribute(x, { method: 'gradient', target });
  assert.equal(g.attributions.dims, [2, L, D]);
  g.attributions.data.forEach((v, k) => assert.ok(Math.abs(v - W[(k % D) * C + target] / L) < 1e-6, `gradient ${k}`));
  const ig = await ex.attribute(x, { method: 'integrated-gradients', target });
  ig.attributions.data.forEach((v, k) => {
    const id = ids.flat()[Math.floor(k / D)];
    assert.ok(Math.abs(v - E[id * D + (k % D)] * W[(k % D) * C + target] / L) < 1e-6, `IG ${k}`);
  });
  // From the pad token's embedding: DeepLIFT on this linear model sums to f(x) − f(x⁰) exactly.
  const d = await ex.attribute(x, { method: 'deeplift', target, baselineToken: 0 });
  d.delta!.forEach((v) => assert.ok(Math.abs(v) < 1e-6));
  assert.equal(d.tokenScores!.dims, [2, L]);
  await rejects(() => ex.attribute({ data: Float32Array.from([1.5, 2, 3, 4, 5]), dims: [1, L] }, { target }), /input 'input_1' takes token ids \(integers\); got fractional values/);
  // Joint attribution takes them as token ids too (by the input's name).
  const joint = await (await Explainer.load(model(), { wrt: ['input_1'] })).attribute(x, { target });
  assert.equal(Object.keys(joint.inputAttributions!), ['input_1']);
  assert.equal(Array.from(joint.inputAttributions!.input_1.data), Array.from(g.attributions.data));
  assert.equal(joint.inputTokenScores!.input_1.dims, [2, L]);
});

// Float ids clipped before their Cast were refused as a float input the Cast cuts off ("no gradient … through node 'Cast'").
test('float ids clipped before their Cast (Clip(ids, 0, V − 1) → Cast → Gather; bounds as inputs, or as opset 9\'s attributes) are token ids: IG E[clip(id)]·W[:, t]/L per position', async () => {
  for (const opset of [13, 9]) {
    const em = new Emitter(opset, DataType.FLOAT, 'k');
    const clipped = opset >= 11 ? em.op('Clip', ['input_1', em.scalar(0), em.scalar(V - 1)]) : em.op('Clip', ['input_1'], { min: float(0), max: float(V - 1) });
    const looked = em.op('Gather', [em.constFloat(E, [V, D]), em.cast(clipped, DataType.INT32)], { axis: 0 });
    em.rename(em.matmul(em.reduceMean(looked, [1], false), em.constFloat(W, [D, C])), 'dense');
    const ex = await Explainer.load(encodeModel({ ir_version: 8, opset_import: [{ domain: '', version: opset }], graph: { name: 'k', node: em.nodes, initializer: em.initializers, input: [valueInfo('input_1', DataType.FLOAT, ['N', L])], output: [valueInfo('dense', DataType.FLOAT, ['N', C])] } }));
    assert.is(ex.tokens?.ids.name, 'input_1', `opset ${opset}`);
    const beyond = [[3, 7, 14, 0, 11], [5, 5, 9, 2, 0]];
    const ig = await ex.attribute({ data: Float32Array.from(beyond.flat()), dims: [2, L] }, { method: 'integrated-gradients', target });
    ig.attributions.data.forEach((v, k) => {
      const id = Math.min(beyond.flat()[Math.floor(k / D)], V - 1);
      assert.ok(Math.abs(v - E[id * D + (k % D)] * W[(k % D) * C + target] / L) < 1e-6, `opset ${opset}: IG ${k}`);
    });
  }
});

// Keras 3's Embedding wraps negative ids (`where(ids < 0, ids + V, ids)`), which tf2onnx writes as
// Add(Mul(Cast(c), ids + V), Mul(Cast(Not(c)), ids)): the ids were read as a float input and refused.
test('Keras 3 through tf2onnx: the negative-id wrap written as arithmetic on a Cast comparison is read as token ids (a negative id reads row V + id)', async () => {
  const em = new Emitter(13, DataType.FLOAT, 'k3');
  const ids32 = em.cast('input_1', DataType.INT32);
  const negative = em.compare('Less', em.cast(ids32, DataType.FLOAT), em.scalar(0));
  em.initializers.push(makeTensor('k3/rows', [], [V], DataType.INT32));
  const wrapped = em.add(em.mul(em.cast(negative, DataType.INT32), em.add(ids32, 'k3/rows')), em.mul(ids32, em.cast(em.op('Not', [negative]), DataType.INT32)));
  em.rename(em.matmul(em.reduceMean(em.op('Gather', [em.constFloat(E, [V, D]), wrapped], { axis: 0 }), [1], false), em.constFloat(W, [D, C])), 'dense');
  const keras3 = encodeModel({
    ir_version: 8, opset_import: [{ domain: '', version: 13 }], producer_name: 'tf2onnx',
    graph: { name: 'keras3', node: em.nodes, initializer: em.initializers, input: [valueInfo('input_1', DataType.FLOAT, ['unk__6', L])], output: [valueInfo('dense', DataType.FLOAT, ['unk__7', C])] },
  });
  const ex = await Explainer.load(keras3);
  assert.is(ex.tokens?.ids.name, 'input_1');
  const withNegative = [[3, 7, 1, 0, 11], [5, -1, 9, 2, 0]];
  const xs = { data: Float32Array.from(withNegative.flat()), dims: [2, L] };
  const ig = await ex.attribute(xs, { method: 'integrated-gradients', target });
  ig.attributions.data.forEach((v, k) => {
    const id = withNegative.flat()[Math.floor(k / D)];
    const row = id < 0 ? V + id : id;
    assert.ok(Math.abs(v - E[row * D + (k % D)] * W[(k % D) * C + target] / L) < 1e-6, `IG ${k}`);
  });
});

// HF Funnel casts its int64 attention_mask to float at the input (type_as): read as a float input, the mask
// was explained in place of the ids.
test('int64 token ids beside an int64 mask the model only casts to float: the ids are explained, the mask fed (masked positions get 0)', async () => {
  const em = new Emitter(13, DataType.FLOAT, 'funnel');
  const looked = em.op('Gather', [em.constFloat(E, [V, D]), 'input_ids'], { axis: 0 });
  const masked = em.mul(looked, em.unsqueeze(em.cast('attention_mask', DataType.FLOAT), [2]));
  em.rename(em.matmul(em.reduceMean(masked, [1], false), em.constFloat(W, [D, C])), 'logits');
  const funnel = encodeModel({
    ir_version: 8, opset_import: [{ domain: '', version: 13 }], producer_name: 'pytorch',
    graph: { name: 'funnel', node: em.nodes, initializer: em.initializers, input: [valueInfo('input_ids', DataType.INT64, ['N', L]), valueInfo('attention_mask', DataType.INT64, ['N', L])], output: [valueInfo('logits', DataType.FLOAT, ['N', C])] },
  });
  const ex = await Explainer.load(funnel);
  assert.is(ex.tokens?.ids.name, 'input_ids');
  const mask = [[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]];
  const g = await ex.attribute({ data: BigInt64Array.from(ids.flat().map(BigInt)), dims: [2, L] }, { target, feeds: { attention_mask: { data: BigInt64Array.from(mask.flat().map(BigInt)), dims: [2, L] } } });
  // ∂logit_t/∂e[p, j] = mask[p] · W[j, t] / L
  g.attributions.data.forEach((v, k) => assert.ok(Math.abs(v - mask.flat()[Math.floor(k / D)] * W[(k % D) * C + target] / L) < 1e-6, `gradient ${k}`));
});

test('with a padding mask computed from the float ids (mask_zero) they are still token ids; masked positions get 0', async () => {
  const ex = await Explainer.load(model(true));
  assert.is(ex.tokens?.ids.name, 'input_1');
  const g = await ex.attribute(x, { method: 'gradient', target });
  g.attributions.data.forEach((v, k) => assert.ok(Math.abs(v - (ids.flat()[Math.floor(k / D)] === 0 ? 0 : W[(k % D) * C + target] / L)) < 1e-6, `gradient ${k}`));
});

test('CLI: info calls it token ids; attribute reads float32 ids from .npy', async () => {
  const dir = tempDir('float-ids');
  const file = path.join(dir, 'keras.onnx');
  fs.writeFileSync(file, model());
  const info = await runCli(['info', file]);
  assert.ok(info.out.some((l) => /^input: input_1 \[unk__6, 5\] float32: token ids: explained at the embedding output/.test(l)), info.out.join('\n'));
  writeNpy(path.join(dir, 'ids.npy'), x.data, x.dims);
  const r = await runCli(['attribute', file, '--input', path.join(dir, 'ids.npy'), '--method', 'integrated-gradients', '--target', String(target)]);
  assert.is(r.code, 0, r.err.join('\n'));
  assert.ok(r.out.some((l) => /^row {2}position {2}token id {2}score$/.test(l)), r.out.join('\n'));
});

test.run();
