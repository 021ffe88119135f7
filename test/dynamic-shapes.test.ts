import * as fs from 'fs';
import * as path from 'path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { main } from '../cli/main';
import { Emitter } from '../rewriter/emitter';
import { DataType, encodeModel, ModelProto, valueInfo, ValueInfoProto } from '../rewriter/proto';
import { Explainer } from '../runtime';
import { loadModel } from '../runtime/node/model-file';
import { runCli, tempDir } from './support/cli-harness';
import { loadFixture, relL2 } from './support/fixtures';
import { rejects } from './support/rejects';

const W = Array.from({ length: 4 * 3 * 9 }, (_, i) => Math.sin(i * 0.7) * 0.4);
const F = Array.from({ length: 4 * 5 }, (_, i) => Math.cos(i * 0.3));
const T4 = Array.from({ length: 5 * 4 }, (_, i) => Math.sin(i * 1.3) * 0.5);

/** Conv(3→4, 3×3, stride 2, pad 1) → Relu → GlobalAveragePool → Flatten → Gemm(4→5), input [N,3,H,W]. */
function model(spatial: (number | string)[]): Uint8Array {
  const em = new Emitter(13, DataType.FLOAT, 'dyn');
  const conv = em.op('Conv', ['x', em.constFloat(W, [4, 3, 3, 3])], { strides: [2, 2], pads: [1, 1, 1, 1] });
  const pooled = em.op('Flatten', [em.op('GlobalAveragePool', [em.op('Relu', [conv])])]);
  em.rename(em.op('Gemm', [pooled, em.constFloat(F, [4, 5])]), 'y');
  const m: ModelProto = {
    ir_version: 8, opset_import: [{ domain: '', version: 13 }], producer_name: 'test',
    graph: { name: 'dyn', node: em.nodes, initializer: em.initializers, input: [valueInfo('x', DataType.FLOAT, ['N', 3, ...spatial])], output: [{ name: 'y' }] },
  };
  return encodeModel(m);
}

const input = (h: number, w: number) => ({ data: Float32Array.from({ length: 2 * 3 * h * w }, (_, i) => Math.sin(i * 1.7)), dims: [2, 3, h, w] });

// tf2onnx writes a Keras model's unknown batch as dim_value 0 (an LSTM's zero initial states then
// [1, 0, H] constants): onnxruntime ran it on no rows only, and every command failed naming our own
// embedding cut ("Got invalid dimensions").
test('a batch axis declared of size 0 (tf2onnx) is free: an RNN with [1, 0, H] zero initial states is explained at any batch, against central differences', async () => {
  const W = [0.5, -0.4, 0.3, 0.8, -0.6, 0.2], R = [0.1, -0.2, 0.3, 0.4, 0.05, -0.3, -0.1, 0.2, 0.15], V = [1, -1, 0.5];
  const em = new Emitter(13, DataType.FLOAT, 'keras');
  const rnn = em.opN('RNN', [em.transpose('x', [1, 0, 2]), em.constFloat(W, [1, 3, 2]), em.constFloat(R, [1, 3, 3]), '', '', em.constFloat([], [1, 0, 3])], 2, { hidden_size: 3 });
  em.rename(em.matmul(em.op('Squeeze', [rnn[1], em.constInt([0])]), em.constFloat(V, [3, 1])), 'y');
  const model = encodeModel({
    ir_version: 8, opset_import: [{ domain: '', version: 13 }],
    graph: { name: 'zero batch', node: em.nodes, initializer: em.initializers, input: [valueInfo('x', DataType.FLOAT, [0, 4, 2])], output: [valueInfo('y', DataType.FLOAT, [0, 1])] },
  });
  const f = (z: number[]) => {
    let h = [0, 0, 0];
    for (let t = 0; t < 4; t++) h = [0, 1, 2].map((k) => Math.tanh(W[k * 2] * z[t * 2] + W[k * 2 + 1] * z[t * 2 + 1] + [0, 1, 2].reduce((a, j) => a + R[k * 3 + j] * h[j], 0)));
    return h.reduce((a, v, k) => a + v * V[k], 0);
  };
  const x = Array.from({ length: 3 * 8 }, (_, i) => Math.sin(1.3 * i + 0.2));
  const r = await (await Explainer.load(model)).attribute({ data: Float32Array.from(x), dims: [3, 4, 2] }, { target: 0 });
  const want = x.map((_, i) => {
    const row = Math.floor(i / 8), z = x.slice(row * 8, row * 8 + 8), k = i % 8, e = 1e-6;
    const up = z.slice(), down = z.slice();
    up[k] += e; down[k] -= e;
    return (f(up) - f(down)) / (2 * e);
  });
  assert.ok(relL2(r.attributions.data as Float32Array, Float32Array.from(want)) < 1e-5, `${Array.from(r.attributions.data)} vs ${want}`);
});

test('a model with dynamic H and W is explained per input shape, as the static model of that shape', async () => {
  const dynamic = await Explainer.load(model(['H', 'W']));
  for (const [h, w] of [[8, 8], [11, 6]]) {
    const fixed = await Explainer.load(model([h, w]));
    const a = await dynamic.attribute(input(h, w), { method: 'gradient', target: [1, 3] });
    const b = await fixed.attribute(input(h, w), { method: 'gradient', target: [1, 3] });
    assert.equal(a.attributions.dims, [2, 3, h, w]);
    assert.ok(relL2(a.attributions.data, b.attributions.data) < 1e-6, `${h}×${w}`);
    const d = await dynamic.attribute(input(h, w), { method: 'deeplift', target: [1, 3] });
    assert.ok(d.delta!.every((v) => Math.abs(v) < 1e-5));
  }
});

test('rewrite needs --shape for dynamic sizes and names the axes; with --shape it writes the graph', async () => {
  const dir = tempDir('dynamic-shapes');
  const file = path.join(dir, 'm.onnx');
  fs.writeFileSync(file, model(['H', 'W']));
  const errors: string[] = [];
  const error = console.error;
  console.error = (m: string) => errors.push(m);
  const log = console.log;
  console.log = () => undefined;
  try {
    assert.is(await main(['rewrite', file, '--method', 'gradient', '--out', path.join(dir, 'a.onnx')]), 1);
    assert.match(errors[0], /dynamic sizes on axes 2, 3; pass --shape/);
    assert.is(await main(['rewrite', file, '--method', 'gradient', '--out', path.join(dir, 'a.onnx'), '--shape', '1,3,9,7']), 0);
    assert.ok(fs.statSync(path.join(dir, 'a.onnx')).size > 0);
  } finally {
    console.error = error;
    console.log = log;
  }
});

// info printed its whole report, then the error line: a failed command printed more than one line.
test('info --layers on dynamic sizes without --shape prints only the error line; with --shape the layers', async () => {
  const dir = tempDir('dynamic-layers');
  const file = path.join(dir, 'm.onnx');
  fs.writeFileSync(file, model(['H', 'W']));
  const bare = await runCli(['info', file, '--layers']);
  assert.equal([bare.code, bare.out], [1, []]);
  assert.equal(bare.err.length, 1);
  assert.match(bare.err[0], /^onnx-explain: error: .*input 'x' has dynamic sizes on axes 2, 3; pass --shape/);
  const shaped = await runCli(['info', file, '--layers', '--shape', '1,3,9,7']);
  assert.is(shaped.code, 0, shaped.err.join('|'));
  assert.ok(shaped.out.some((l) => /\[N, 4, 5, 4\]\s+\(Conv\)/.test(l)), shaped.out.join('\n'));
  assert.ok((await runCli(['info', file])).code === 0, 'without --layers no shape is needed');
});

// onnxruntime's allocation failure (a path of 10,000 points of a 1024×1024 image in one run: 117 GiB)
// reached the CLI as an internal error (exit 2) quoting onnxruntime's arena.
test('a run onnxruntime cannot allocate memory for is refused in one line saying how much and what to lower', async () => {
  const ex = await Explainer.load(model(['H', 'W']));
  const x = { data: new Float32Array(3 * 1024 * 1024).fill(0.5), dims: [1, 3, 1024, 1024] };
  await rejects(() => ex.attribute(x, { method: 'integrated-gradients', steps: 10000, internalBatchSize: 10000, target: 1 }), /: onnxruntime cannot allocate the 117 GiB one run needs: give fewer rows per run \(internalBatchSize, --internal-batch-size\) or fewer input rows$/);
});

test('a model whose input fixes batch 1 gets a dynamic batch in its augmented graph', async () => {
  const fx = loadFixture('resnet_bn');
  const m = loadModel(fx.model);
  for (const vi of [m.graph!.input![0], m.graph!.output![0]]) vi.type!.tensor_type!.shape!.dim![0] = { dim_value: 1 };
  const ex = await Explainer.load(encodeModel(m));
  const r = await ex.attribute(fx.input, { method: 'gradient', target: fx.meta.target });
  assert.ok(relL2(r.attributions.data, fx.ref('grad.npy')!) < 1e-4);
  const { model } = await ex.augmented(fx.input.dims.slice(1));
  assert.is(model.graph!.input![0].type!.tensor_type!.shape!.dim![0].dim_param, 'N');
});

const rowsOf = (data: Float32Array, per: number, r0: number, r1: number) => data.slice(r0 * per, r1 * per);

test('an export that fixes batch 4 (input and Reshape [4,-1]) is explained at batch 4 and at any other batch', async () => {
  const fx = loadFixture('batch4_reshape');
  assert.equal(fx.input.dims[0], 4);
  const per = fx.input.data.length / 4;
  const grad = fx.ref('grad.npy')!;
  const ex = await Explainer.load(fx.model);
  const all = await ex.attribute(fx.input, { method: 'gradient', target: fx.meta.target });
  assert.ok(relL2(all.attributions.data, grad) < 1e-4, `batch 4: ${relL2(all.attributions.data, grad)}`);
  for (const [r0, r1] of [[2, 3], [0, 3]]) {
    const x = { data: rowsOf(fx.input.data, per, r0, r1), dims: [r1 - r0, ...fx.input.dims.slice(1)] };
    const r = await ex.attribute(x, { method: 'gradient', target: fx.meta.target.slice(r0, r1) });
    const want = rowsOf(grad, per, r0, r1);
    assert.ok(relL2(r.attributions.data, want) < 1e-4, `rows ${r0}..${r1}: ${relL2(r.attributions.data, want)}`);
    const out = (await ex.forward(x)).output.data as Float32Array;
    assert.ok(relL2(out, rowsOf(fx.ref('output.npy')!, 5, r0, r1)) < 1e-5, `forward rows ${r0}..${r1}`);
  }
  const { model } = await ex.augmented(fx.input.dims.slice(1));
  assert.is(model.graph!.input![0].type!.tensor_type!.shape!.dim![0].dim_param, 'N');
});

test('a deep residual export that fixes batch 1 and flattens through a computed shape: the shape and ranks are read in one pass (2⁴⁰ paths through the residual Adds)', async () => {
  const em = new Emitter(13, DataType.FLOAT, 'deep');
  const depth = 40;
  const w = em.constFloat([0.01, -0.02, 0.015, 0.005], [4]);
  let h = 'x';
  for (let k = 0; k < depth; k++) h = em.add(h, em.mul(h, w));
  const rows = em.unsqueeze(em.op('Gather', [em.op('Shape', [h]), em.constInt([0], [])], { axis: 0 }), [0]);
  const flat = em.op('Reshape', [h, em.concat([rows, em.constInt([-1])], 0)]);
  const cls = [0.3, -0.5, 0.8, 0.1, 0.2, -0.4, 0.6, 0.7, -0.9, 0.25, 0.5, -0.1];
  em.rename(em.matmul(flat, em.constFloat(cls, [4, 3])), 'y');
  const model: ModelProto = {
    ir_version: 8, opset_import: [{ domain: '', version: 13 }],
    graph: { name: 'deep', node: em.nodes, initializer: em.initializers, input: [valueInfo('x', DataType.FLOAT, [1, 4])], output: [valueInfo('y', DataType.FLOAT, [1, 3])] },
  };
  const { GraphView } = await import('../rewriter/graph-view');
  assert.is(new GraphView(model).rank(h), 2);
  const ex = await Explainer.load(encodeModel(model));
  const x = { data: Float32Array.of(0.5, -1, 2, 0.25, 1, 1, -1, 3), dims: [2, 4] };
  const r = await ex.attribute(x, { target: [2, 0] });
  // y = x·(1 + w)^depth · cls: ∂y_t/∂x_i = (1 + w_i)^depth · cls[i, t]
  const want = [0, 1].flatMap((row) => [0.01, -0.02, 0.015, 0.005].map((wi, i) => (1 + wi) ** depth * cls[i * 3 + [2, 0][row]]));
  assert.ok(relL2(r.attributions.data, want) < 1e-5, `gradient rel L2 ${relL2(r.attributions.data, want)}`);
});

test('an export that fixes batch 2 and mixes its rows is refused in one line naming the fix', async () => {
  const em = new Emitter(13, DataType.FLOAT, 'mix');
  const centred = em.op('Sub', ['x', em.op('ReduceMean', ['x'], { axes: [0], keepdims: 1 })]);
  em.rename(em.op('Gemm', [centred, em.constFloat(F, [4, 5])]), 'y');
  const m: ModelProto = {
    ir_version: 8, opset_import: [{ domain: '', version: 13 }], producer_name: 'test',
    graph: { name: 'mix', node: em.nodes, initializer: em.initializers, input: [valueInfo('x', DataType.FLOAT, [2, 4])], output: [{ name: 'y' }] },
  };
  const ex = await Explainer.load(encodeModel(m));
  try {
    await ex.attribute({ data: Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]), dims: [2, 4] }, { target: 0 });
    assert.unreachable('explained a row-mixing fixed-batch model');
  } catch (e) {
    assert.match((e as Error).message, /fixes batch 2 and the graph does not give the same rows at another batch; export it with a dynamic batch axis .*, or with a leading batch axis if its first axis is not one.*; --unbatched \(API unbatched: true\) explains the whole tensor as one row/);
  }
});

test('an export that fixes batch 2 in folded constants of two equal rows (a zeros(N, …) state, an index expanded to the batch) or of integer rows stepping by a constant (an arange over the batch into the flattened rows) is batch-freed at any batch; with a float constant of two other rows the refusal names the constants', async () => {
  const S = [0.5, -1, 2, 0.25];
  const model = (rows: number[][]) => {
    const em = new Emitter(13, DataType.FLOAT, 'state');
    // x's rows picked back from x flattened, at arange(N)·4 + 0…3; y = Tanh(x ⊙ S + zeros) · F, S and
    // the zeros given as [2, 4] constants, then a per-row offset [2, 1].
    const picked = em.op('Gather', [em.reshape('x', [-1]), em.add(em.constInt([0, 4], [2, 1]), em.constInt([0, 1, 2, 3], [4]))], { axis: 0 });
    const h = em.add(em.mul(picked, em.constFloat([...S, ...S], [2, 4])), em.constFloat(new Array(8).fill(0), [2, 4]));
    em.rename(em.add(em.op('Gemm', [em.op('Tanh', [h]), em.constFloat(F, [4, 5])]), em.constFloat(rows.flat(), [2, rows[0].length])), 'y');
    return encodeModel({
      ir_version: 8, opset_import: [{ domain: '', version: 13 }], producer_name: 'test',
      graph: { name: 'state', node: em.nodes, initializer: em.initializers, input: [valueInfo('x', DataType.FLOAT, [2, 4])], output: [{ name: 'y' }] },
    });
  };
  const ex = await Explainer.load(model([[0], [0]]));
  const x = Float32Array.from({ length: 12 }, (_, i) => Math.sin(i + 0.5));
  const g = await ex.attribute({ data: x, dims: [3, 4] }, { target: [0, 3, 1] });
  // ∂y_t/∂x_j = S_j · (1 − tanh²(x_j S_j)) · F[j, t]
  const want = [0, 3, 1].flatMap((t, r) => S.map((s, j) => s * (1 - Math.tanh(x[r * 4 + j] * s) ** 2) * F[j * 5 + t]));
  assert.ok(relL2(g.attributions.data, want) < 1e-6, `rel L2 ${relL2(g.attributions.data, want)}`);
  const d = await ex.attribute({ data: x, dims: [3, 4] }, { target: 2, method: 'deeplift' });
  d.delta!.forEach((v, r) => assert.ok(Math.abs(v) < 1e-6, `row ${r}: delta ${v}`));
  await rejects(async () => (await Explainer.load(model([[0], [5]]))).attribute({ data: x.subarray(0, 8), dims: [2, 4] }, { target: 0 }), /fixes batch 2 and the graph does not give the same rows at another batch \(constants of 2 rows: '[^']+' \[2,1\], '[^']+' \[2,4\], '[^']+' \[2,4\]\); export it/);
});

// A static-batch MPNet export was refused: torch writes expand(B, −1, L, L) of its relative-position bias as an
// Expand to Where(Equal(shape, −1 · ones), ones, shape) with the shape [B, −1, L, L] a constant.
test('an export that fixes batch 2 in an Expand of a computed tensor to the batch (torch\'s expand(B, −1) through Where and Equal) is batch-freed: the Expand follows the input\'s batch', async () => {
  const T = [0.3, -0.2, 0.5, 0.1, -0.4, 0.6, 0.2, -0.1, 0.7, 0.05, -0.3, 0.4];
  const em = new Emitter(13, DataType.FLOAT, 'expand');
  const bias = em.op('Gather', [em.constFloat(T, [3, 4]), em.constInt([1], [1])], { axis: 0 });
  const given = em.constInt([2, -1], [2]);
  const ones = em.constInt([1, 1], [2]);
  const shape = em.op('Where', [em.op('Equal', [given, em.mul(ones, em.constInt([-1], [1]))]), ones, given]);
  em.rename(em.op('Gemm', [em.op('Tanh', [em.add('x', em.op('Expand', [bias, shape]))]), em.constFloat(F, [4, 5])]), 'y');
  const model = encodeModel({
    ir_version: 8, opset_import: [{ domain: '', version: 13 }], producer_name: 'test',
    graph: { name: 'expand', node: em.nodes, initializer: em.initializers, input: [valueInfo('x', DataType.FLOAT, [2, 4])], output: [{ name: 'y' }] },
  });
  const x = Float32Array.from({ length: 12 }, (_, i) => Math.sin(i + 0.5));
  const g = await (await Explainer.load(model)).attribute({ data: x, dims: [3, 4] }, { target: [0, 3, 1] });
  // ∂y_t/∂x_j = (1 − tanh²(x_j + T[1, j])) · F[j, t]
  const want = [0, 3, 1].flatMap((t, r) => [0, 1, 2, 3].map((j) => (1 - Math.tanh(x[r * 4 + j] + T[4 + j]) ** 2) * F[j * 5 + t]));
  assert.ok(relL2(g.attributions.data, want) < 1e-6, `rel L2 ${relL2(g.attributions.data, want)}`);
});

test('a text model that fixes batch 2 in a constant of two other rows is refused naming its token ids, not the embedding they look up', async () => {
  const em = new Emitter(13, DataType.FLOAT, 'text');
  const looked = em.op('Gather', [em.constFloat(T4, [5, 4]), 'ids'], { axis: 0 });
  em.rename(em.op('Gemm', [em.add(em.op('ReduceMean', [looked], { axes: [1], keepdims: 0 }), em.constFloat([0, 1, 2, 3, 4, 5, 6, 7], [2, 4])), em.constFloat(F, [4, 5])]), 'y');
  const model = encodeModel({
    ir_version: 8, opset_import: [{ domain: '', version: 13 }], producer_name: 'test',
    graph: { name: 'text', node: em.nodes, initializer: em.initializers, input: [valueInfo('ids', DataType.INT64, [2, 3])], output: [{ name: 'y' }] },
  });
  await rejects(async () => (await Explainer.load(model)).attribute({ data: BigInt64Array.from([1n, 2n, 3n, 4n, 0n, 1n]), dims: [2, 3] }, { target: 0 }), /: token ids input 'ids' fixes batch 2 and the graph does not give the same rows at another batch/);
});

test('a batch that holds the rows of two inputs (torch.cat then torch.chunk on dim 0, as RAFT writes) is refused in one line naming the Slice, not as a missing constant', async () => {
  const em = new Emitter(13, DataType.FLOAT, 'halves');
  const both = em.concat(['x', em.op('Tanh', ['x'])], 0);
  const n = em.op('Gather', [em.op('Shape', ['x']), em.constInt([0], [1])], { axis: 0 });
  const half = (from: string, to: string) => em.op('Slice', [both, from, to, em.constInt([0], [1])]);
  em.rename(em.matmul(em.add(half(em.constInt([0], [1]), n), half(n, em.mul(n, em.constInt([2], [1])))), em.constFloat(F, [4, 5])), 'y');
  const model = encodeModel({
    ir_version: 8, opset_import: [{ domain: '', version: 13 }], producer_name: 'test',
    graph: { name: 'halves', node: em.nodes, initializer: em.initializers, input: [valueInfo('x', DataType.FLOAT, ['N', 4])], output: [{ name: 'y' }] },
  });
  const x = { data: Float32Array.from({ length: 8 }, (_, i) => Math.sin(i)), dims: [2, 4] };
  await rejects(async () => (await Explainer.load(model)).attribute(x, { target: 0 }), /\(Slice, opset 13\): slices the batch axis at positions computed from the batch's size \(a batch that holds the rows of two inputs, as torch\.cat then torch\.chunk on dim 0 write\), which is not supported; export the model with a static batch of 1/);
});

test('an export that fixes batch 2 inside If branches too (their outputs declared [2, 3]) is batch-freed: the If on a shape condition is inlined and the gradient is right', async () => {
  const em = new Emitter(13, DataType.FLOAT, 'cond');
  const y = em.op('Relu', ['x']);
  const wide = em.op('Greater', [em.op('Gather', [em.op('Shape', ['x']), em.constInt([1], [])], { axis: 0 }), em.constInt([2], [])]);
  const declared = (name: string) => valueInfo(name, DataType.FLOAT, [2, 3]);
  const branch = (name: string, factor: number) => ({ name, node: [{ op_type: 'Mul', input: [y, `${name}_factor`], output: [`${name}_out`] }], initializer: [{ name: `${name}_factor`, dims: [1], data_type: DataType.FLOAT, raw_data: new Uint8Array(Float32Array.of(factor).buffer) }], output: [declared(`${name}_out`)] });
  em.nodes.push({ op_type: 'If', input: [wide], output: ['out'], name: 'if', attribute: [{ name: 'then_branch', type: 5, g: branch('then', 2) }, { name: 'else_branch', type: 5, g: branch('else', -1) }] });
  const m: ModelProto = {
    ir_version: 8, opset_import: [{ domain: '', version: 13 }], producer_name: 'test',
    graph: { name: 'cond', node: em.nodes, initializer: em.initializers, input: [declared('x')], output: [declared('out')] },
  };
  const ex = await Explainer.load(encodeModel(m));
  const x = Float32Array.of(1, -2, 3, -4, 5, 6);
  const g = await ex.attribute({ data: x, dims: [2, 3] }, { target: [0, 2] });
  assert.equal(Array.from(g.attributions.data), [2, 0, 0, 0, 0, 2]);
  assert.equal(Array.from(g.outputs.out.data), Array.from(x, (v) => 2 * Math.max(v, 0)));
});

test('a static-batch attention export (torch dynamo at batch 4: Reshape to [B·heads, L, d] and back to [B, heads, L, d]) is batch-freed: the same gradients as its dynamic-batch twin, at batch 4 and for one row', async () => {
  const attention = (batch: number | string): ModelProto => {
    const em = new Emitter(13, DataType.FLOAT, 'sdpa');
    const merged = em.reshape('x', [typeof batch === 'number' ? batch * 2 : -1, 3, 5]);
    const scores = em.op('Softmax', [em.matmul(merged, em.op('Transpose', [merged], { perm: [0, 2, 1] }))], { axis: -1 });
    const context = em.reshape(em.matmul(scores, merged), [typeof batch === 'number' ? batch : -1, 2, 3, 5]);
    em.rename(em.reduceSum(em.mul(context, em.constFloat(Array.from({ length: 30 }, (_, k) => Math.sin(k)), [2, 3, 5])), [2, 3], false), 'y');
    return {
      ir_version: 8, opset_import: [{ domain: '', version: 13 }], producer_name: 'test',
      graph: { name: 'sdpa', node: em.nodes, initializer: em.initializers, input: [valueInfo('x', DataType.FLOAT, [batch, 2, 3, 5])], output: [valueInfo('y', DataType.FLOAT, [batch, 2])] },
    };
  };
  const [fixed, dynamic] = await Promise.all([attention(4), attention('N')].map((m) => Explainer.load(encodeModel(m))));
  const x = { data: Float32Array.from({ length: 120 }, (_, k) => Math.cos(k * 0.37)), dims: [4, 2, 3, 5] };
  const target = [0, 1, 1, 0];
  const [a, b] = [await fixed.attribute(x, { target }), await dynamic.attribute(x, { target })];
  assert.ok(relL2(a.attributions.data, b.attributions.data) < 1e-6, `batch 4: rel L2 ${relL2(a.attributions.data, b.attributions.data)}`);
  const row = { data: x.data.slice(30, 60), dims: [1, 2, 3, 5] };
  const one = await fixed.attribute(row, { target: 1 });
  assert.ok(relL2(one.attributions.data, b.attributions.data.slice(30, 60)) < 1e-6, 'one row');
});

test('a static-batch channel-independent export (PatchTST: [B, C, L] → [B·C, −1, P] → [B, C, −1]) is batch-freed: the same gradients as its dynamic twin, at batch 2 and for one row', async () => {
  const patches = (batch: number | string): ModelProto => {
    const em = new Emitter(13, DataType.FLOAT, 'patches');
    const dynamic = typeof batch !== 'number';
    const perChannel = em.reshape('x', dynamic ? [-1, 2, 4] : [batch * 3, -1, 4]);
    const mixed = em.op('Relu', [em.matmul(perChannel, em.constFloat(Array.from({ length: 16 }, (_, k) => Math.sin(k * 0.9)), [4, 4]))]);
    const back = em.reshape(mixed, dynamic ? [-1, 3, 8] : [batch, 3, -1]);
    em.rename(em.reduceSum(em.mul(back, back), [2], false), 'y');
    return {
      ir_version: 8, opset_import: [{ domain: '', version: 13 }], producer_name: 'test',
      graph: { name: 'patches', node: em.nodes, initializer: em.initializers, input: [valueInfo('x', DataType.FLOAT, [batch, 3, 8])], output: [valueInfo('y', DataType.FLOAT, [batch, 3])] },
    };
  };
  const [fixed, dynamic] = await Promise.all([patches(2), patches('N')].map((m) => Explainer.load(encodeModel(m))));
  const x = { data: Float32Array.from({ length: 48 }, (_, k) => Math.cos(k * 0.53)), dims: [2, 3, 8] };
  const target = [2, 0];
  const [a, b] = [await fixed.attribute(x, { target }), await dynamic.attribute(x, { target })];
  assert.ok(relL2(a.attributions.data, b.attributions.data) < 1e-6, `batch 2: rel L2 ${relL2(a.attributions.data, b.attributions.data)}`);
  const one = await fixed.attribute({ data: x.data.slice(24), dims: [1, 3, 8] }, { target: 0 });
  assert.ok(relL2(one.attributions.data, b.attributions.data.slice(24)) < 1e-6, 'one row');
});

test('a fixed-batch export whose outputs are NaN at some inputs (Sqrt) is batch-freed; NaN on the explained input is named', async () => {
  const em = new Emitter(13, DataType.FLOAT, 'sqrt');
  em.rename(em.op('Gemm', [em.op('Sqrt', ['x']), em.constFloat(F, [4, 5])]), 'y');
  const m: ModelProto = {
    ir_version: 8, opset_import: [{ domain: '', version: 13 }], producer_name: 'test',
    graph: { name: 'sqrt', node: em.nodes, initializer: em.initializers, input: [valueInfo('x', DataType.FLOAT, [3, 4])], output: [{ name: 'y' }] },
  };
  const ex = await Explainer.load(encodeModel(m));
  const x = Float32Array.from({ length: 12 }, (_, i) => 0.5 + i);
  const r = await ex.attribute({ data: x.subarray(0, 8), dims: [2, 4] }, { target: [1, 3] });
  r.attributions.data.forEach((g, i) => {
    const want = F[(i % 4) * 5 + [1, 3][Math.floor(i / 4)]] / (2 * Math.sqrt(x[i]));
    assert.ok(Math.abs(g - want) <= 1e-6 * (1 + Math.abs(want)), `d y / d x[${i}]: ${g} vs ${want}`);
  });
  x[5] = -1;
  await rejects(() => ex.attribute({ data: x, dims: [3, 4] }, { target: 0 }), /the model's node '.*' \(Sqrt\) gives NaN/);
});

/**
 * torch.onnx's keep_initializers_as_inputs: every weight is also a graph input, here with the
 * batch fixed at 1 as torch writes it without dynamic axes; the shapes declared as torch does, or
 * not at all. Freeing the batch dropped those inputs' shapes, and onnxruntime reports a tensor of
 * unknown rank as [] (a scalar): MaxPool was refused for an input of shape [].
 */
for (const shapes of ['declared', 'undeclared']) {
  test(`weights that are also graph inputs (shapes ${shapes}) explain as the model without them`, async () => {
    const fx = loadFixture('cnn_maxpool');
    const original = loadModel(fx.model);
    const g = original.graph!;
    const weights = (g.initializer ?? []).map((t) => valueInfo(t.name!, t.data_type!, shapes === 'declared' ? (t.dims ?? []).map(Number) : undefined));
    const fixed = (vi: ValueInfoProto) => ({ ...vi, type: { tensor_type: { ...vi.type!.tensor_type!, shape: { dim: [{ dim_value: 1 }, ...vi.type!.tensor_type!.shape!.dim!.slice(1)] } } } });
    const asInputs: ModelProto = { ...original, graph: { ...g, input: [...(g.input ?? []).map(fixed), ...weights], output: (g.output ?? []).map(fixed) } };
    const row = { data: (fx.input.data as Float32Array).slice(0, fx.input.data.length / fx.input.dims[0]), dims: [1, ...fx.input.dims.slice(1)] };
    for (const method of ['gradient', 'deeplift'] as const) {
      const a = await (await Explainer.load(encodeModel(asInputs))).attribute(row, { method, target: 4 });
      const b = await (await Explainer.load(encodeModel(original))).attribute(row, { method, target: 4 });
      assert.ok(relL2(a.attributions.data, b.attributions.data) < 1e-6, method);
    }
    // Such a weight given to --wrt or --feed is said to be one (it was "the model has no input named …", which the file lists).
    const weight = weights[0].name!;
    await rejects(() => Explainer.load(encodeModel(asInputs), { wrt: weight }), new RegExp(`--wrt ${weight}: '${weight}' is a weight \\(an initializer the model also lists as a graph input\\), not an input \\(inputs: '${g.input![0].name}'\\)`));
    await rejects(() => Explainer.load(encodeModel(asInputs), { fed: [weight] }), new RegExp(`--feed ${weight}: '${weight}' is a weight`));
  });
}

test('a tensor whose shape follows from the input\'s values (NonZero → GatherND) is refused by backward methods, not explained from the probe\'s empty shape; occlusion runs', async () => {
  // y = Σ x_i² over x_i > 0: the probe's zero input selects nothing, which the walk took for an empty path (zeros).
  const em = new Emitter(13, DataType.FLOAT, 'nz');
  const picks = em.transpose(em.op('NonZero', [em.compare('Greater', 'x', em.scalar(0))]), [1, 0]);
  const g = em.op('GatherND', ['x', picks]);
  em.rename(em.reshape(em.op('ReduceSum', [em.mul(g, g)], { keepdims: 1 }), [1, 1]), 'y');
  const m: ModelProto = {
    ir_version: 8, opset_import: [{ domain: '', version: 13 }], producer_name: 'test',
    graph: { name: 'nz', node: em.nodes, initializer: em.initializers, input: [valueInfo('x', DataType.FLOAT, [1, 6])], output: [{ name: 'y' }] },
  };
  const ex = await Explainer.load(encodeModel(m));
  const x = { data: Float32Array.from([0.5, -1, 2, 0.3, -0.2, 1.5]), dims: [1, 6] };
  for (const method of ['gradient', 'deeplift', 'integrated-gradients'] as const) {
    await rejects(() => ex.attribute(x, { method, target: 0 }), /the shape of '.*GatherND.*', an output of node .*GatherND.*, follows from the input's values \(through node .*NonZero.*\)/);
  }
  assert.equal(await ex.explainableTensors(), []);
  const occluded = await ex.attribute(x, { method: 'occlusion', target: 0, window: [1] });
  assert.equal([...occluded.attributions.data].map((v) => +v.toFixed(5)), [0.25, 0, 4, 0.09, 0, 2.25]);
});

test.run();
