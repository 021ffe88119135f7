import * as fs from 'fs';
import ndarray from 'ndarray';
import * as ort from 'onnxruntime-node';
import * as path from 'path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runCli, tempDir } from './support/cli-harness';
import { rejects } from './support/rejects';
import { DataType, decodeModel, encodeModel, makeTensor, valueInfo } from '../rewriter/proto';
import { Explainer, filterSensitivity, maximize } from '../runtime';
import { Emitter } from '../rewriter/emitter';
import { readNpy, writeNpy } from '../runtime/node/npy-file';

/** y[n, k] = Σ_j W[k, j]·(a[n, j]·b[n, j] + a[n, j]): two float inputs. */
const W = [0.5, -1, 2, 1.5, 0.25, -0.75];
const model = encodeModel({
  ir_version: 8,
  opset_import: [{ domain: '', version: 13 }],
  graph: {
    name: 'two-inputs',
    node: [
      { op_type: 'Mul', input: ['a', 'b'], output: ['ab'] },
      { op_type: 'Add', input: ['ab', 'a'], output: ['h'] },
      { op_type: 'Gemm', input: ['h', 'W'], output: ['y'], attribute: [{ name: 'transB', type: 2, i: 1 }] },
    ],
    initializer: [makeTensor('W', [2, 3], W, DataType.FLOAT)],
    input: [valueInfo('a', DataType.FLOAT, ['N', 3]), valueInfo('b', DataType.FLOAT, ['N', 3])],
    output: [valueInfo('y', DataType.FLOAT, ['N', 2])],
  },
});
const a = [1, -2, 0.5, 3, 1, -1];

const b = [0.2, 1, -3, -1, 2, 0.5];

test('several float inputs: --wrt picks one, --feed gives the others (per row or one row), gradients exact', async () => {
  const exA = await Explainer.load(model, { wrt: 'a' });
  const ga = await exA.attribute({ data: Float32Array.from(a), dims: [2, 3] }, { target: [0, 1], feeds: { b: { data: Float32Array.from(b), dims: [2, 3] } } });
  // ∂y_k/∂a_j = W[k, j]·(b_j + 1), ∂y_k/∂b_j = W[k, j]·a_j
  assert.equal(Array.from(ga.attributions.data), [0, 1].flatMap((r) => [0, 1, 2].map((j) => Math.fround(W[r * 3 + j] * (b[r * 3 + j] + 1)))));
  const exB = await Explainer.load(model, { wrt: 'b' });
  const gb = await exB.attribute({ data: Float32Array.from(b), dims: [2, 3] }, { target: [1, 1], feeds: { a: { data: Float32Array.from(a.slice(0, 3)), dims: [1, 3] } } });
  assert.equal(Array.from(gb.attributions.data), [0, 1].flatMap(() => [0, 1, 2].map((j) => Math.fround(W[3 + j] * a[j]))));
  const d = await exB.attribute({ data: Float32Array.from(b), dims: [2, 3] }, { method: 'deeplift', target: [0, 1], feeds: { a: { data: Float32Array.from(a), dims: [2, 3] } } });
  assert.ok(d.delta!.every((v) => Math.abs(v) < 1e-5), `delta ${Array.from(d.delta!)}`);
});

test('layer-activation reads the fed inputs (it computed the layer from zeros, with a note, whatever was fed)', async () => {
  const notes: string[] = [];
  const ex = await Explainer.load(model, { wrt: 'a', warn: (m) => notes.push(m) });
  const r = await ex.attribute({ data: Float32Array.from(a), dims: [2, 3] }, { method: 'layer-activation', layer: 'h', feeds: { b: { data: Float32Array.from(b), dims: [2, 3] } } });
  assert.equal(Array.from(r.attributions.data), a.map((v, i) => Math.fround(Math.fround(v * b[i]) + v)));
  assert.equal(notes, []);
});

/** x [N, 3] ⊙ the last state of an RNN (tanh, H = 3, no bias) over a fed sequence z [N, T, 2] ('h'), then · V: prepared graphs unroll the RNN to z's length. */
const RW = [0.5, -0.4, 0.3, 0.8, -0.6, 0.2];
const RR = [0.1, -0.2, 0.3, 0.4, 0.05, -0.3, -0.1, 0.2, 0.15];
function sideRnn(): Uint8Array {
  const em = new Emitter(13, DataType.FLOAT, 'rnn');
  const rnn = em.opN('RNN', [em.transpose('z', [1, 0, 2]), em.constFloat(RW, [1, 3, 2]), em.constFloat(RR, [1, 3, 3])], 2, { hidden_size: 3 });
  const h = em.rename(em.mul('x', em.op('Squeeze', [rnn[1], em.constInt([0])])), 'h');
  em.rename(em.matmul(h, em.constFloat([1, -1, 0.5, 2, -0.5, 1], [3, 2])), 'y');
  return encodeModel({
    ir_version: 8, opset_import: [{ domain: '', version: 13 }],
    graph: { name: 'side rnn', node: em.nodes, initializer: em.initializers, input: [valueInfo('x', DataType.FLOAT, ['N', 3]), valueInfo('z', DataType.FLOAT, ['N', 'T', 2])], output: [{ name: 'y' }] },
  });
}

test('one Explainer, a fed sequence of two lengths: the forward-only sessions (layer-activation, occlusion) are built per prepared graph (they were keyed by the explained input\'s shape, and the second length ran the first length\'s unrolled graph)', async () => {
  const ex = await Explainer.load(sideRnn(), { wrt: 'x' });
  const x = { data: Float32Array.from([0.7, -1.2, 0.4]), dims: [1, 3] };
  for (const T of [3, 5]) {
    const z = Array.from({ length: T * 2 }, (_, i) => Math.sin(i * 0.8 + T));
    const feeds = { z: { data: Float32Array.from(z), dims: [1, T, 2] } };
    let state = [0, 0, 0];
    for (let t = 0; t < T; t++) state = [0, 1, 2].map((k) => Math.tanh(RW[k * 2] * z[t * 2] + RW[k * 2 + 1] * z[t * 2 + 1] + [0, 1, 2].reduce((a, j) => a + RR[k * 3 + j] * state[j], 0)));
    const layer = await ex.attribute(x, { method: 'layer-activation', layer: 'h', feeds });
    const want = state.map((v, k) => x.data[k] * v);
    assert.ok(layer.attributions.data.every((v, k) => Math.abs(v - want[k]) < 1e-6), `T = ${T}: ${Array.from(layer.attributions.data)} vs ${want}`);
    const occluded = await ex.attribute(x, { method: 'occlusion', target: 0, window: [1], feeds });
    const fresh = await (await Explainer.load(sideRnn(), { wrt: 'x' })).attribute(x, { method: 'occlusion', target: 0, window: [1], feeds });
    assert.equal(Array.from(occluded.attributions.data), Array.from(fresh.attributions.data), `T = ${T}`);
  }
});

test('several float inputs: no --wrt, an unknown --wrt or --feed name, a feed with other rows: one-line errors', async () => {
  await rejects(() => Explainer.load(model), /several float inputs \('a', 'b'\); choose the one to explain with --wrt NAME/);
  await rejects(() => Explainer.load(model, { wrt: 'c' }), /--wrt c: the model has no input named 'c' \(inputs: 'a', 'b'\)/);
  const ex = await Explainer.load(model, { wrt: 'a', warn: () => undefined });
  const x = { data: Float32Array.from(a), dims: [2, 3] };
  await rejects(() => ex.attribute(x, { target: 0, feeds: { c: x } }), /--feed c: the model has no input named 'c'/);
  await rejects(() => ex.attribute(x, { target: 0, feeds: { b: { data: new Float32Array(9), dims: [3, 3] } } }), /--feed b has 3 rows; give one row or one per input row \(2\)/);
  // onnxruntime refused these naming the probe's one row ("input shape [1,3], [1,4]: Got invalid dimensions").
  await rejects(() => ex.attribute(x, { target: 0, feeds: { b: { data: new Float32Array(8), dims: [2, 4] } } }), /: --feed b has shape \[2,4\]; input 'b' takes \[N,3\]$/);
  await rejects(() => ex.forward(x, { b: { data: new Float32Array(6), dims: [2, 3, 1] } }), /: --feed b has shape \[2,3,1\]; input 'b' takes \[N,3\]$/);
});

test('feeds may be ndarrays (as inputs and baselines), in every call that takes feeds; a feed that is not a tensor is refused in one line naming it (attribute, forward, maximize, filterSensitivity and explainableTensors threw a TypeError on reading its dims)', async () => {
  const ex = await Explainer.load(model, { wrt: 'a', warn: () => undefined });
  const x = { data: Float32Array.from(a), dims: [2, 3] };
  const dense = { b: { data: Float32Array.from(b), dims: [2, 3] } };
  const nd = { b: ndarray(Float32Array.from(b), [2, 3]) };
  const want = await ex.attribute(x, { target: 0, feeds: dense });
  assert.equal(Array.from((await ex.attribute(x, { target: 0, feeds: nd })).attributions.data), Array.from(want.attributions.data));
  assert.equal(Array.from((await ex.forward(x, nd)).y.data), Array.from((await ex.forward(x, dense)).y.data));
  const row = { b: ndarray(Float32Array.from(b.slice(0, 3)), [1, 3]) };
  const m = await maximize(ex, { target: 0, stages: 1, steps: 2, feeds: row });
  assert.equal(m.image.dims, [1, 3]);
  const f = await filterSensitivity(ex, x, { layer: 'h', top: 2, feeds: nd });
  assert.equal(f.rows.length, 2);
  for (const bad of [2, Float32Array.from(b), { data: Float32Array.from(b) }, { data: Float32Array.from(b), dims: 'x' }, null]) {
    const feeds = { b: bad } as never;
    const says = /input 'b'( must be a tensor with data and dims|: dims must be a list of integers)/;
    await rejects(() => ex.attribute(x, { target: 0, feeds }), says);
    await rejects(() => ex.forward(x, feeds), says);
    await rejects(() => maximize(ex, { target: 0, stages: 1, steps: 2, feeds }), says);
    await rejects(() => filterSensitivity(ex, x, { layer: 'h', feeds }), says);
    await rejects(() => ex.explainableTensors([3], feeds), says);
  }
});

test('several float inputs, all but one fed (CLI --feed, API fed): the one left is explained without --wrt', async () => {
  const ex = await Explainer.load(model, { fed: ['b'] });
  assert.equal(ex.input.name, 'a');
  await rejects(() => Explainer.load(model, { fed: ['c'] }), /--feed c: the model has no input named 'c' \(inputs: a, b\)/);
  const dir = tempDir('fed');
  const file = path.join(dir, 'two.onnx');
  fs.writeFileSync(file, model);
  fs.writeFileSync(path.join(dir, 'a.json'), JSON.stringify([a.slice(0, 3)]));
  fs.writeFileSync(path.join(dir, 'b.json'), JSON.stringify([b.slice(0, 3)]));
  const r = await runCli(['attribute', file, '--input', path.join(dir, 'b.json'), '--feed', `a=${path.join(dir, 'a.json')}`, '--target', '1', '--out', path.join(dir, 'g.npy')]);
  assert.is(r.code, 0, r.err.join('\n'));
  // ∂y_1/∂b_j = W[1, j]·a_j
  assert.equal(Array.from(readNpy(path.join(dir, 'g.npy')).data as Float32Array), [0, 1, 2].map((j) => Math.fround(W[3 + j] * a[j])));
});

test('--wrt all with a float input without a batch axis (a policy\'s observation vector beside per-move rows): explained without it, with a note saying so', async () => {
  const em = new Emitter(13, DataType.FLOAT, 'moves');
  em.rename(em.op('Gemm', [em.add('a', 'c'), em.constFloat(W, [2, 3])], { transB: 1 }), 'y');
  const withObs = encodeModel({
    ir_version: 8, opset_import: [{ domain: '', version: 13 }],
    graph: { name: 'moves', node: em.nodes, initializer: em.initializers, input: [valueInfo('a', DataType.FLOAT, ['N', 3]), valueInfo('c', DataType.FLOAT, [3])], output: [{ name: 'y' }] },
  });
  const notes: string[] = [];
  const ex = await Explainer.load(withObs, { wrt: 'all', warn: (m) => notes.push(m) });
  assert.equal(ex.explained.map((i) => i.name), ['a']);
  assert.equal(notes, ["<bytes>: --wrt all: input 'c' [3] has no batch axis: it is fed as it is for every row, not explained (--unbatched explains the model as one sample)"]);
  const g = await ex.attribute({ data: Float32Array.from(a), dims: [2, 3] }, { target: 1, feeds: { c: { data: Float32Array.from(b.slice(0, 3)), dims: [3] } } });
  assert.equal(Array.from(g.attributions.data), [0, 1].flatMap(() => W.slice(3).map(Math.fround)));
  // Named as the model declares it, not as the library views it (with a row axis: 'c_rows,3').
  await rejects(() => ex.attribute({ data: Float32Array.from(a), dims: [2, 3] }, { target: 1, feeds: { c: { data: new Float32Array(4), dims: [4] } } }), /: --feed c has shape \[4\]; input 'c' takes \[3\]$/);
});

test('an input not fed gets zeros (floats) with a note naming it', async () => {
  const notes: string[] = [];
  const ex = await Explainer.load(model, { wrt: 'a', warn: (m) => notes.push(m) });
  const g = await ex.attribute({ data: Float32Array.from(a), dims: [2, 3] }, { target: 0 });
  assert.equal(Array.from(g.attributions.data), [0, 1].flatMap(() => [0, 1, 2].map((j) => W[j])));
  assert.equal(notes, ["<bytes>: input 'b' not given: using zeros [2,3] (give it with --feed b=FILE.npy)"]);
  // An input no node reads (a skl2onnx pipeline's dropped columns) is fed zeros without asking for it.
  const em = new Emitter(13, DataType.FLOAT, 'dropped');
  em.rename(em.op('Gemm', ['a', em.constFloat(W, [2, 3])], { transB: 1 }), 'y');
  const dropped = encodeModel({
    ir_version: 8, opset_import: [{ domain: '', version: 13 }],
    graph: { name: 'dropped', node: em.nodes, initializer: em.initializers, input: [valueInfo('a', DataType.FLOAT, ['N', 3]), valueInfo('unused', DataType.FLOAT, ['N', 1])], output: [{ name: 'y' }] },
  });
  const quiet: string[] = [];
  const r = await (await Explainer.load(dropped, { wrt: 'a', warn: (m) => quiet.push(m) })).attribute({ data: Float32Array.from(a), dims: [2, 3] }, { target: 0 });
  assert.equal(Array.from(r.attributions.data), [0, 1].flatMap(() => [0, 1, 2].map((j) => Math.fround(W[j]))));
  assert.equal(quiet, []);
  // Names beyond six are counted, not listed (a TF-Lattice model's 85 inputs made a line of 1,889 characters).
  const many = encodeModel({
    ir_version: 8, opset_import: [{ domain: '', version: 13 }],
    graph: { name: 'many', node: [{ op_type: 'Sum', input: Array.from({ length: 9 }, (_, k) => `in${k}`), output: ['y'] }], input: Array.from({ length: 9 }, (_, k) => valueInfo(`in${k}`, DataType.FLOAT, ['N', 2])), output: [{ name: 'y' }] },
  });
  await rejects(() => Explainer.load(many), /several float inputs \('in0', 'in1', 'in2', 'in3', 'in4', 'in5' and 3 more\); choose/);
});

test('integer position ids not fed get 0…L−1 per row (transformers\' default) with a note; given ones are used as they are', async () => {
  // y = x · (position_ids + 1) over the sequence [N, 4].
  const positional = encodeModel({
    ir_version: 8,
    opset_import: [{ domain: '', version: 13 }],
    graph: {
      name: 'positions',
      node: [
        { op_type: 'Cast', input: ['position_ids'], output: ['p'], attribute: [{ name: 'to', type: 2, i: DataType.FLOAT }] },
        { op_type: 'Add', input: ['p', 'one'], output: ['p1'] },
        { op_type: 'Mul', input: ['x', 'p1'], output: ['y'] },
      ],
      initializer: [makeTensor('one', [], [1], DataType.FLOAT)],
      input: [valueInfo('x', DataType.FLOAT, ['N', 'L']), valueInfo('position_ids', DataType.INT64, ['N', 'L'])],
      output: [valueInfo('y', DataType.FLOAT, ['N', 'L'])],
    },
  });
  const notes: string[] = [];
  const ex = await Explainer.load(positional, { warn: (m) => notes.push(m) });
  const x = { data: Float32Array.from([1, 1, 1, 1, 2, 2, 2, 2]), dims: [2, 4] };
  assert.equal(Array.from((await ex.forward(x)).y.data), [1, 2, 3, 4, 2, 4, 6, 8]);
  assert.equal(notes, ["<bytes>: input 'position_ids' not given: using positions 0…3 [2,4] (give it with --feed position_ids=FILE.npy)"]);
  const given = { position_ids: { data: BigInt64Array.from([3n, 2n, 1n, 0n]), dims: [1, 4] } };
  assert.equal(Array.from((await ex.forward(x, given)).y.data), [4, 3, 2, 1, 8, 6, 4, 2]);
});

// A packed LSTM's `lengths` [N] (torch's pack_padded_sequence, exported with its lengths input) was fed zeros: empty sequences.
test('integer per-row lengths [N] not fed are the explained input\'s length on axis 1 (every row whole), with a note; info says so', async () => {
  // y = Σ_t x[n, t, :] · lengths[n] over [N, 5, 2].
  const packed = encodeModel({
    ir_version: 8,
    opset_import: [{ domain: '', version: 13 }],
    graph: {
      name: 'packed',
      node: [
        { op_type: 'ReduceSum', input: ['x', 'axes'], output: ['s'], attribute: [{ name: 'keepdims', type: 2, i: 0 }] },
        { op_type: 'Cast', input: ['lengths'], output: ['l'], attribute: [{ name: 'to', type: 2, i: DataType.FLOAT }] },
        { op_type: 'Mul', input: ['s', 'l'], output: ['y'] },
      ],
      initializer: [makeTensor('axes', [2], [1, 2], DataType.INT64)],
      input: [valueInfo('x', DataType.FLOAT, ['N', 'T', 2]), valueInfo('lengths', DataType.INT64, ['N'])],
      output: [valueInfo('y', DataType.FLOAT, ['N'])],
    },
  });
  const notes: string[] = [];
  const ex = await Explainer.load(packed, { warn: (m) => notes.push(m) });
  const r = await ex.attribute({ data: new Float32Array(20).fill(1), dims: [2, 5, 2] }, { target: 0 });
  assert.equal(Array.from(r.attributions.data), new Array(20).fill(5));
  assert.equal(notes, ["<bytes>: input 'lengths' not given: using whole sequences, length 5, [2] (give it with --feed lengths=FILE.npy)"]);
  const dir = tempDir('lengths');
  fs.writeFileSync(path.join(dir, 'packed.onnx'), packed);
  const info = await runCli(['info', path.join(dir, 'packed.onnx')]);
  assert.ok(info.out.includes('input: lengths [N] int64: fed with --feed lengths=FILE (default whole sequences)'), info.out.join('\n'));
});

test('M-RoPE position ids [3, batch, L] (Qwen2-VL and Qwen3.5 decoders as onnxruntime-genai writes them) not fed get 0…L−1 in each section, one batch row the model broadcasts; outputs equal onnxruntime\'s with the ids of every row, the gradient its closed form', async () => {
  // logits = (x · Σ_sections table[position_ids]) · W over [N, L, 2] → [N, L, 3].
  const table = Array.from({ length: 16 }, (_, i) => Math.cos(0.7 * i) + 0.5);
  const w = [0.5, -1, 2, 1.5, 0.25, -0.75];
  const rope = encodeModel({
    ir_version: 8,
    opset_import: [{ domain: '', version: 13 }],
    graph: {
      name: 'mrope',
      node: [
        { op_type: 'Gather', input: ['table', 'position_ids'], output: ['pe'] },
        { op_type: 'ReduceSum', input: ['pe', 'axis0'], output: ['pe_sum'], attribute: [{ name: 'keepdims', type: 2, i: 0 }] },
        { op_type: 'Mul', input: ['inputs_embeds', 'pe_sum'], output: ['h'] },
        { op_type: 'MatMul', input: ['h', 'w'], output: ['logits'] },
      ],
      initializer: [makeTensor('table', [8, 2], table, DataType.FLOAT), makeTensor('axis0', [1], [0], DataType.INT64), makeTensor('w', [2, 3], w, DataType.FLOAT)],
      input: [valueInfo('inputs_embeds', DataType.FLOAT, ['batch', 'sequence_len', 2]), valueInfo('position_ids', DataType.INT64, [3, 'batch', 'sequence_len'])],
      output: [valueInfo('logits', DataType.FLOAT, ['batch', 'sequence_len', 3])],
    },
  });
  const notes: string[] = [];
  const ex = await Explainer.load(rope, { warn: (m) => notes.push(m) });
  const x = Float32Array.from({ length: 2 * 4 * 2 }, (_, i) => Math.sin(i + 0.3));
  const r = await ex.attribute({ data: x, dims: [2, 4, 2] }, { target: [[3, 1], [2, 0]] });
  assert.equal(notes, ["<bytes>: input 'position_ids' not given: using positions 0…3 [3,1,4] (give it with --feed position_ids=FILE.npy)"]);
  const ids = BigInt64Array.from({ length: 3 * 2 * 4 }, (_, k) => BigInt(k % 4));
  const s = await ort.InferenceSession.create(rope, { logSeverityLevel: 3 });
  const want = (await s.run({ inputs_embeds: new ort.Tensor('float32', x, [2, 4, 2]), position_ids: new ort.Tensor('int64', ids, [3, 2, 4]) })).logits.data as Float32Array;
  assert.equal(Array.from(r.outputs.logits.data), Array.from(want));
  // ∂logits[n, t, c]/∂x[n, t, j] = 3·table[t, j]·w[j, c], zero at other positions.
  const grad = [[3, 1], [2, 0]].flatMap(([t, c]) => Array.from({ length: 8 }, (_, k) => (Math.floor(k / 2) === t ? 3 * table[t * 2 + (k % 2)] * w[(k % 2) * 3 + c] : 0)));
  assert.ok(Array.from(r.attributions.data).every((v, k) => Math.abs(v - grad[k]) < 1e-5), `${Array.from(r.attributions.data)} vs ${grad}`);
});

test('fixed-size convolution and recurrent states (LFM2\'s past_conv.0, Qwen3.5\'s past_key_values.0.conv_state) and static KV caches are caches, zeros by default with a note, not explained beside the token ids', async () => {
  // logits = embedding[input_ids] · W + Σ past_conv.0 over its middle axis (a state that reaches the output).
  const hybrid = encodeModel({
    ir_version: 8,
    opset_import: [{ domain: '', version: 13 }],
    graph: {
      name: 'hybrid',
      node: [
        { op_type: 'Gather', input: ['embed', 'input_ids'], output: ['embeddings'] },
        { op_type: 'MatMul', input: ['embeddings', 'w'], output: ['mixed'] },
        { op_type: 'ReduceSum', input: ['past_conv.0', 'axes'], output: ['state'], attribute: [{ name: 'keepdims', type: 2, i: 1 }] },
        { op_type: 'Add', input: ['mixed', 'state'], output: ['logits'] },
        { op_type: 'Identity', input: ['past_conv.0'], output: ['present_conv.0'] },
        // Written back (a copy alone would mark the input as copied only, fed without a note).
        { op_type: 'Mul', input: ['past_key_values.0.key', 'one'], output: ['present.0.key'] },
      ],
      initializer: [makeTensor('embed', [5, 2], Array.from({ length: 10 }, (_, i) => 0.1 * i - 0.3), DataType.FLOAT), makeTensor('w', [2, 3], [0.5, -1, 2, 1.5, 0.25, -0.75], DataType.FLOAT), makeTensor('axes', [1], [1], DataType.INT64), makeTensor('one', [], [1], DataType.FLOAT)],
      input: [valueInfo('input_ids', DataType.INT64, ['batch', 'sequence_length']), valueInfo('past_conv.0', DataType.FLOAT, ['batch', 'sequence_length_state', 3]), valueInfo('past_key_values.0.key', DataType.FLOAT, ['batch', 1, 6, 2])],
      output: [valueInfo('logits', DataType.FLOAT, ['batch', 'sequence_length', 3]), valueInfo('present_conv.0', DataType.FLOAT, ['batch', 'sequence_length_state', 3]), valueInfo('present.0.key', DataType.FLOAT, ['batch', 1, 6, 2])],
    },
  });
  // The state's middle dim is fixed in real exports ([batch, hidden, kernel]).
  const fixed = decodeModel(hybrid);
  fixed.graph!.input![1] = valueInfo('past_conv.0', DataType.FLOAT, ['batch', 4, 3]);
  fixed.graph!.output![1] = valueInfo('present_conv.0', DataType.FLOAT, ['batch', 4, 3]);
  const notes: string[] = [];
  const ex = await Explainer.load(encodeModel(fixed), { warn: (m) => notes.push(m) });
  assert.equal(ex.tokens?.ids.name, 'input_ids');
  const r = await ex.attribute({ data: BigInt64Array.from([1n, 3n, 4n]), dims: [1, 3] }, { output: 'logits', target: [[2, 1]] });
  assert.equal(notes, [
    "<bytes>: input 'past_conv.0' not given: using zeros, a fixed-size cache before the first token, [1,4,3] (give it with --feed past_conv.0=FILE.npy)",
    "<bytes>: input 'past_key_values.0.key' not given: using zeros, a fixed-size cache before the first token, [1,1,6,2] (give it with --feed past_key_values.0.key=FILE.npy)",
  ]);
  assert.equal(r.attributions.dims, [1, 3, 2]);
});

test('a time-series model\'s past_values [batch, seq, 3] (its outputs: a prediction and last_hidden_state, no caches) is its explained input, not a generation cache (it was refused: "no float input")', async () => {
  const series = encodeModel({
    ir_version: 8,
    opset_import: [{ domain: '', version: 13 }],
    graph: {
      name: 'series',
      node: [
        { op_type: 'MatMul', input: ['past_values', 'w'], output: ['m'] },
        { op_type: 'ReduceMean', input: ['m'], output: ['prediction'], attribute: [{ name: 'axes', type: 7, ints: [1] }, { name: 'keepdims', type: 2, i: 0 }] },
        { op_type: 'Identity', input: ['m'], output: ['last_hidden_state'] },
      ],
      initializer: [makeTensor('w', [3, 2], [0.5, -1, 2, 1.5, 0.25, -0.75], DataType.FLOAT)],
      input: [valueInfo('past_values', DataType.FLOAT, ['batch', 'seq', 3])],
      output: [valueInfo('prediction', DataType.FLOAT, ['batch', 2]), valueInfo('last_hidden_state', DataType.FLOAT, ['batch', 'seq', 2])],
    },
  });
  const ex = await Explainer.load(series);
  const r = await ex.attribute({ data: Float32Array.from({ length: 10 * 3 }, (_, i) => Math.sin(i)), dims: [2, 5, 3] }, { output: 'prediction', target: [1, 0] });
  // ∂prediction[n, t]/∂x[n, s, j] = w[j, t] / 5.
  const want = [1, 0].flatMap((t) => Array.from({ length: 15 }, (_, k) => [0.5, -1, 2, 1.5, 0.25, -0.75][(k % 3) * 2 + t] / 5));
  assert.ok(Array.from(r.attributions.data).every((v, k) => Math.abs(v - want[k]) < 1e-6), `${Array.from(r.attributions.data)}`);
});

/**
 * HF T5's attention in miniature: x [N, 4, 2] (explained) and a fed int64 mask m [N, 4]; scores
 * x·xᵀ plus (1 − m)·(−10⁴) [N, 1, 4], softmax, times x, then reshaped to [batch, 8] with the batch
 * read from x's shape (T5's `unshape` with batch_size from the hidden states), · V → y [N, 2].
 * On a reference pass of one shared row the scores take the mask's N rows, while x's shape says 1.
 */
function maskedAttention(): Uint8Array {
  const em = new Emitter(13, DataType.FLOAT, 't5');
  const bias = em.unsqueeze(em.mul(em.sub(em.scalar(1), em.cast('m', DataType.FLOAT)), em.scalar(-1e4)), [1]);
  const scores = em.add(em.matmul('x', em.transpose('x', [0, 2, 1])), bias);
  const mixed = em.matmul(em.op('Softmax', [scores], { axis: 2 }), 'x');
  const batch = em.op('Slice', [em.op('Shape', ['x']), em.constInt([0]), em.constInt([1]), em.constInt([0])]);
  const flat = em.op('Reshape', [mixed, em.concat([batch, em.constInt([8])], 0)]);
  em.rename(em.matmul(em.op('Tanh', [flat]), em.constFloat(Array.from({ length: 16 }, (_, i) => Math.sin(i * 0.9)), [8, 2])), 'y');
  return encodeModel({
    ir_version: 8, opset_import: [{ domain: '', version: 13 }],
    graph: { name: 't5', node: em.nodes, initializer: em.initializers, input: [valueInfo('x', DataType.FLOAT, ['N', 4, 2]), valueInfo('m', DataType.INT64, ['N', 4])], output: [{ name: 'y' }] },
  });
}

test('DeepLIFT from the default baseline (one zero row) where a fed mask gives the scores N rows and a Reshape reads the batch from the explained input (T5): the reference pass runs on N rows; sums to f(x) − f(x⁰)', async () => {
  const ex = await Explainer.load(maskedAttention());
  const x = { data: Float32Array.from({ length: 24 }, (_, i) => Math.sin(i * 1.3) * 1.5), dims: [3, 4, 2] };
  const m = { data: BigInt64Array.from([1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 0].map(BigInt)), dims: [3, 4] };
  const target = [0, 1, 1];
  // The default baseline (zeros) is one row built into the graph.
  const shared = await ex.attribute(x, { method: 'deeplift', target, feeds: { m } });
  const zeros = { data: new Float32Array(24), dims: [3, 4, 2] };
  const perRow = await ex.attribute(x, { method: 'deeplift', target, feeds: { m }, baseline: zeros });
  const y = (await ex.forward(x, { m })).y.data;
  const y0 = (await ex.forward(zeros, { m })).y.data;
  for (let r = 0; r < 3; r++) {
    const sum = shared.attributions.data.subarray(r * 8, (r + 1) * 8).reduce((s, v) => s + v, 0);
    const want = y[r * 2 + target[r]] - y0[r * 2 + target[r]];
    assert.ok(Math.abs(sum - want) < 1e-5, `row ${r}: Σ attribution ${sum} vs f(x) − f(x⁰) ${want}`);
  }
  assert.equal(Array.from(shared.attributions.data), Array.from(perRow.attributions.data));
});

test('maximize and filters read --feed NAME=FILE as attribute does: the fed input is not the one to choose with --wrt', async () => {
  const two = path.resolve(__dirname, '../../models/multi/two_inputs');
  const tab = readNpy(path.join(two, 'tabular.npy'));
  const dir = tempDir('fed-commands');
  const row = path.join(dir, 'tab1.npy');
  writeNpy(row, (tab.data as Float32Array).slice(0, tab.data.length / tab.dims[0]), [1, ...tab.dims.slice(1)]);
  const m = await runCli(['maximize', path.join(two, 'model.onnx'), '--target', '0', '--stages', '1', '--steps', '2', '--feed', `tabular=${row}`, '--out', path.join(dir, 'm.npy')]);
  assert.is(m.code, 0, m.err.join('|'));
  const f = await runCli(['filters', path.join(two, 'model.onnx'), '--input', path.join(two, 'signal.npy'), '--feed', `tabular=${path.join(two, 'tabular.npy')}`, '--layer', '/conv/Conv_output_0']);
  assert.is(f.code, 0, f.err.join('|'));
});

test.run();
