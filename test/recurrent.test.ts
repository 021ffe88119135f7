import * as fs from 'fs';
import * as path from 'path';
import * as ort from 'onnxruntime-node';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { deeplift } from '../rules/methods/deeplift';
import { float, floats, strings } from '../rewriter/emitter';
import { GraphView } from '../rewriter/graph-view';
import { AttrType, DataType, decodeModel, encodeModel, ModelProto, NodeProto, tensorValues, valueInfo } from '../rewriter/proto';
import { canonicalForm } from '../rewriter/canonical-form';
import { unrollRecurrent } from '../rewriter/recurrent/unroll';
import { nonNativeOps } from '../rewriter/webgpu-ops';
import { Explainer } from '../runtime';
import { NdArray } from '../runtime/npy';
import { readNpy } from '../runtime/node/npy-file';
import { InputSpec, probeFacts } from '../runtime/probe';
import { runCli, tempDir } from './support/cli-harness';
import { relL2 } from './support/fixtures';
import { gradcheckModel, OpCase, rng, singleOpModel } from './support/gradcheck';
import { sumcheckModel } from './support/sumcheck';

/** Token classifiers whose Embedding feeds torch's LSTM / GRU / RNN (models/make_recurrent.py). */
const ROOT = path.resolve(__dirname, '../../models/recurrent');
const FIXTURES = ['lstm_op13', 'lstm2_op9', 'gru_bi_op14', 'rnn_relu_op11'];
const load = (name: string) => {
  const dir = path.join(ROOT, name);
  const npy = (file: string): NdArray => readNpy(path.join(dir, `${file}.npy`));
  return { model: path.join(dir, 'model.onnx'), npy, meta: JSON.parse(fs.readFileSync(path.join(dir, 'meta.json'), 'utf8')) };
};

for (const name of FIXTURES) {
  test(`${name}: gradient at the embedding equals PyTorch autograd; DeepLIFT and integrated gradients sum to f(x) − f(x⁰)`, async () => {
    const { model, npy, meta } = load(name);
    const ex = await Explainer.load(model);
    const ids = npy('input');
    const g = await ex.attribute(ids, { target: meta.target });
    const want = npy('grad_embedding').data as Float32Array;
    assert.ok(relL2(g.attributions.data, want) <= 1e-5, `rel L2 ${relL2(g.attributions.data, want)}`);
    assert.ok(relL2(g.outputs.logits.data, npy('output').data as Float32Array) <= 1e-5, 'logits');
    for (const baselineToken of [undefined, 0]) {
      const d = await ex.attribute(ids, { method: 'deeplift', target: meta.target, baselineToken });
      d.delta!.forEach((delta, r) => assert.ok(Math.abs(delta) <= 1e-5, `DeepLIFT, baseline token ${baselineToken}, row ${r}: delta ${delta}`));
    }
    const ig = await ex.attribute(ids, { method: 'integrated-gradients', steps: 64, target: meta.target, baselineToken: 0 });
    // Gauss–Legendre converges slowly across the ReLU RNN's kinks: a looser bound there.
    ig.delta!.forEach((delta, r) => assert.ok(Math.abs(delta) <= (meta.cell === 'RNN' ? 5e-3 : 1e-4), `IG row ${r}: delta ${delta}`));
  });
}

test('a recurrent model at another sequence length: the cells are unrolled for the input given', async () => {
  const { model, npy, meta } = load('lstm_op13');
  const ex = await Explainer.load(model);
  const ids = npy('input');
  const short = { data: (ids.data as BigInt64Array).filter((_, k) => k % 6 < 4), dims: [3, 4] };
  const g = await ex.attribute(short, { target: meta.target });
  assert.equal(g.attributions.dims, [3, 4, 8]);
  // The last step's output at length 4 only depends on those 4 tokens; the full-length gradient differs.
  const full = await ex.attribute(ids, { target: meta.target });
  assert.equal(full.attributions.dims, [3, 6, 8]);
  assert.ok(g.attributions.data.every(Number.isFinite));
});

test('a saved graph declares the sequence length its cells were unrolled for: onnxruntime refuses another one naming the input', async () => {
  const { model, meta } = load('lstm_op13');
  const ex = await Explainer.load(model);
  const { model: aug } = await ex.augmented([6, 8], { target: meta.target });
  const declared = (name: string) => aug.graph!.input!.find((i) => i.name === name)!.type!.tensor_type!.shape!.dim!.map((d) => d.dim_param || Number(d.dim_value));
  assert.equal(declared(ex.input.name), ['N', 6, 8]);
  assert.equal(declared('input_ids'), ['N', 6]);
  const session = await ort.InferenceSession.create(encodeModel(aug), { logSeverityLevel: 3 });
  const run = (length: number) => session.run({
    [ex.input.name]: new ort.Tensor('float32', new Float32Array(length * 8), [1, length, 8]), input_ids: new ort.Tensor('int64', new BigInt64Array(length), [1, length]),
    seed: new ort.Tensor('float32', Float32Array.of(1, 0, 0), [1, 3]),
  });
  assert.equal(((await run(6)).attribution as ort.Tensor).dims, [1, 6, 8]);
  const refused = await run(4).then(() => '', (e: Error) => e.message);
  assert.match(refused, /invalid dimensions for input/);
  await session.release();
});

test('a graph declaring a one-row baseline (large graphs: shapes onnxruntime can plan) gives the attributions of the graph taking one or N rows', async () => {
  const { model, npy, meta } = load('lstm_op13');
  const ex = await Explainer.load(model);
  const x = npy('embedding');
  const rowDims = x.dims.slice(1);
  const results = [];
  for (const sharedBaseline of [false, true]) {
    const { model: aug } = await ex.augmented(rowDims, { method: 'deeplift', target: meta.target }, { sharedBaseline });
    const baseline = aug.graph!.input!.find((i) => i.name === 'baseline')!;
    assert.equal(baseline.type!.tensor_type!.shape!.dim!.map((d) => (d.dim_param ? d.dim_param : Number(d.dim_value))), [sharedBaseline ? 1 : 'B', ...rowDims]);
    const session = await ort.InferenceSession.create(encodeModel(aug), { logSeverityLevel: 3 });
    const row = Float32Array.from({ length: 48 }, (_, k) => Math.sin(k));
    const seed = new Float32Array(9);
    meta.target.forEach((t: number, r: number) => { seed[r * 3 + t] = 1; });
    const out = await session.run({
      [ex.input.name]: new ort.Tensor('float32', x.data as Float32Array, x.dims), input_ids: new ort.Tensor('int64', npy('input').data as BigInt64Array, [3, 6]),
      baseline: new ort.Tensor('float32', row, [1, ...rowDims]), seed: new ort.Tensor('float32', seed, [3, 3]),
    });
    results.push((out.attribution as ort.Tensor).data as Float32Array);
    ((out.delta as ort.Tensor).data as Float32Array).forEach((d, r) => assert.ok(Math.abs(d) <= 1e-5, `row ${r}: delta ${d}`));
    await session.release();
  }
  assert.equal(Array.from(results[1]), Array.from(results[0]));
});

test('CLI: info lists no unsupported op for an LSTM model; attribute writes per-token scores', async () => {
  const { model, npy } = load('gru_bi_op14');
  const info = await runCli(['info', model]);
  assert.is(info.code, 0, info.err.join('\n'));
  assert.ok(info.out.some((l) => l === 'unsupported ops: none'), info.out.join('\n'));
  assert.ok(info.out.includes("recurrent cells, unrolled over the input's sequence length before the walk: GRU ×2"), info.out.join('\n'));
  const dir = tempDir('recurrent');
  const out = path.join(dir, 'attr.npy');
  const run = await runCli(['attribute', model, '--input', path.join(ROOT, 'gru_bi_op14', 'input.npy'), '--method', 'deeplift', '--target', '0', '--out', out]);
  assert.is(run.code, 0, run.err.join('\n'));
  assert.equal(readNpy(out).dims, npy('embedding').dims);
});

// Single-node models with the attributes torch.onnx never writes: their unrolled form must give
// onnxruntime's own outputs, its gradient must match central differences, DeepLIFT must sum to delta.
const H = 3;
const I = 2;
const L = 4;
const N = 2;
const weights = (seed: number, n: number, scale = 0.8) => { const r = rng(seed); return Array.from({ length: n }, () => (r() * 2 - 1) * scale); };
interface Variant { op: 'LSTM' | 'GRU' | 'RNN'; opset: number; what: string; attrs?: OpCase['attrs']; dirs?: number; lens?: number[]; initial?: boolean; peepholes?: boolean; noBias?: boolean }
const GATES = { LSTM: 4, GRU: 3, RNN: 1 };
const variants: Variant[] = [
  { op: 'LSTM', opset: 14, what: 'peepholes, initial h and c as graph inputs' , peepholes: true, initial: true },
  { op: 'LSTM', opset: 14, what: 'reverse', attrs: { direction: 'reverse' } },
  { op: 'LSTM', opset: 14, what: 'bidirectional, initial h and c', dirs: 2, initial: true, attrs: { direction: 'bidirectional' } },
  { op: 'LSTM', opset: 9, what: 'bidirectional, per-row sequence lengths', dirs: 2, lens: [4, 2], attrs: { direction: 'bidirectional' } },
  { op: 'LSTM', opset: 13, what: 'HardSigmoid / LeakyRelu / Softsign activations with alpha and beta', attrs: { activations: strings(['HardSigmoid', 'LeakyRelu', 'Softsign']), activation_alpha: floats([0.3, 0.1]), activation_beta: floats([0.4]) } },
  { op: 'GRU', opset: 14, what: 'linear_before_reset 0, initial h', initial: true },
  { op: 'GRU', opset: 14, what: 'linear_before_reset 1, bidirectional', dirs: 2, attrs: { direction: 'bidirectional', linear_before_reset: 1 } },
  { op: 'GRU', opset: 11, what: 'linear_before_reset 1 without bias, sequence lengths, reverse', noBias: true, lens: [3, 4], attrs: { direction: 'reverse', linear_before_reset: 1 } },
  { op: 'RNN', opset: 14, what: 'Affine / ScaledTanh activations, bidirectional', dirs: 2, attrs: { direction: 'bidirectional', activations: strings(['ScaledTanh', 'Affine']), activation_alpha: floats([1.5, 0.7]), activation_beta: floats([0.8, 0.1]) } },
  { op: 'RNN', opset: 14, what: 'Relu, Elu (default alpha)', dirs: 2, attrs: { direction: 'bidirectional', activations: strings(['Relu', 'Elu']) } },
  { op: 'LSTM', opset: 14, what: 'clip 0.9 (TF1 cell_clip), peepholes', peepholes: true, attrs: { clip: float(0.9) } },
  { op: 'GRU', opset: 14, what: 'clip 0.5, linear_before_reset 1', attrs: { clip: float(0.5), linear_before_reset: 1 } },
  { op: 'RNN', opset: 14, what: 'ThresholdedRelu, Softplus', dirs: 2, attrs: { direction: 'bidirectional', activations: strings(['ThresholdedRelu', 'Softplus']), activation_alpha: floats([0.2]) } },
  { op: 'LSTM', opset: 14, what: 'input_forget 1 (coupled gates, f = 1 − i), peepholes, bidirectional', dirs: 2, peepholes: true, attrs: { direction: 'bidirectional', input_forget: 1 } },
];

function variantCase(v: Variant): OpCase {
  const dirs = v.dirs ?? 1;
  const G = GATES[v.op];
  const state = [dirs, N, H];
  const inputs: OpCase['inputs'] = [
    { shape: [L, N, I], range: [-1.5, 1.5] },
    { shape: [dirs, G * H, I], value: weights(1, dirs * G * H * I) },
    { shape: [dirs, G * H, H], value: weights(2, dirs * G * H * H) },
    v.noBias ? { shape: [], omitted: true } : { shape: [dirs, 2 * G * H], value: weights(3, dirs * 2 * G * H, 0.5) },
    v.lens ? { shape: [N], value: v.lens, int32: true } : { shape: [], omitted: true },
  ];
  if (v.initial || v.peepholes) inputs.push(v.initial ? { shape: state, range: [-0.8, 0.8] } : { shape: [], omitted: true });
  if (v.op === 'LSTM' && (v.initial || v.peepholes)) inputs.push(v.initial ? { shape: state, range: [-0.8, 0.8] } : { shape: [], omitted: true });
  if (v.peepholes) inputs.push({ shape: [dirs, 3 * H], value: weights(4, dirs * 3 * H, 0.5) });
  return { op: v.op, opset: v.opset, inputs, attrs: { hidden_size: H, ...v.attrs }, outputs: v.op === 'LSTM' ? 3 : 2, tol: 2e-3, h: 1e-3 };
}

/** The one-node model with its sequence input and outputs batch-first ([N, L, I] in; Y, Y_h, Y_c transposed), as exporters wrap the cell. */
function batchFirst(c: OpCase): { model: ModelProto; xs: InputSpec[]; ys: string[] } {
  const base = singleOpModel(c);
  const g = base.model.graph!;
  const perms = [[2, 0, 1, 3], [1, 0, 2], [1, 0, 2]];
  const nodes: NodeProto[] = [
    { op_type: 'Transpose', input: ['x'], output: ['x0'], name: 'to_time_major', attribute: [{ name: 'perm', type: AttrType.INTS, ints: [1, 0, 2] }] },
    ...g.node!,
    ...base.ys.map((y, k) => ({ op_type: 'Transpose', input: [y], output: [`out${k}`], name: `out${k}`, attribute: [{ name: 'perm', type: AttrType.INTS, ints: perms[k] }] })),
  ];
  const xs = base.xs.map((x) => (x.name === 'x0' ? { ...x, name: 'x', dims: [N, L, I] } : x));
  const ys = base.ys.map((_, k) => `out${k}`);
  return { xs, ys, model: { ...base.model, graph: { ...g, node: nodes, input: xs.map((x) => valueInfo(x.name, DataType.FLOAT, x.dims)), output: ys.map((name) => ({ name })) } } };
}

async function unrolled(base: { model: ModelProto; xs: InputSpec[] }): Promise<ModelProto> {
  const view = new GraphView(base.model, 'variant');
  const { facts } = await probeFacts(base.model, base.xs, 'variant');
  return unrollRecurrent(view, facts)!;
}

for (const v of variants) {
  test(`${v.op} opset ${v.opset}, ${v.what}: unrolled outputs equal onnxruntime's ${v.op}; gradient vs central differences; DeepLIFT sums to delta`, async () => {
    const c = variantCase(v);
    const base = batchFirst(c);
    const flat = await unrolled(base);
    assert.ok(!flat.graph!.node!.some((n) => n.op_type === v.op), 'the cell is unrolled');
    assert.ok(!flat.graph!.initializer!.some((t) => t.name === 'c1'), 'the cell\'s W is dropped');
    const custom = v.attrs?.activations !== undefined;
    if (!custom) assert.equal(nonNativeOps(flat.graph!.node!, 0, v.opset), [], 'unrolled ops run on WebGPU');
    const rand = rng(5);
    const feeds = Object.fromEntries(base.xs.map((x) => [x.name, new ort.Tensor('float32', Float32Array.from({ length: x.dims.reduce((a, b) => a * b, 1) }, () => rand() * 2 - 1), x.dims)]));
    const [want, got] = await Promise.all([base.model, flat].map(async (m) => {
      const s = await ort.InferenceSession.create(encodeModel(m), { logSeverityLevel: 3 });
      const out = await s.run(feeds);
      await s.release();
      return out;
    }));
    for (const y of base.ys) {
      assert.equal((got[y] as ort.Tensor).dims, (want[y] as ort.Tensor).dims, `${y} dims`);
      const err = relL2((got[y] as ort.Tensor).data as Float32Array, (want[y] as ort.Tensor).data as Float32Array);
      assert.ok(err <= 2e-6, `${y}: rel L2 ${err} against onnxruntime's ${v.op}`);
    }
    await gradcheckModel({ ...base, model: flat }, c);
    if (base.xs.length === 1) {
      await sumcheckModel(deeplift, { model: flat, input: base.xs[0], output: base.ys[0], label: `${v.op} ${v.what}` }, 1e-5);
      await sumcheckModel(deeplift, { model: flat, input: base.xs[0], output: base.ys[1], label: `${v.op} ${v.what}, last state` }, 1e-5);
    }
  });
}

test('a cell whose weights are computed (W a graph input) is refused naming the node and the cause', async () => {
  const base = batchFirst(variantCase({ op: 'LSTM', opset: 14, what: 'W fed' }));
  const g = base.model.graph!;
  const w = g.node!.find((n) => n.op_type === 'LSTM')!.input![1];
  const dims = g.initializer!.find((t) => t.name === w)!.dims!.map(Number);
  const fed = { ...base, xs: [...base.xs, { name: w, elemType: DataType.FLOAT, dims }], model: { ...base.model, graph: { ...g, initializer: g.initializer!.filter((t) => t.name !== w), input: [...g.input!, valueInfo(w, DataType.FLOAT, dims)] } } };
  const error = await unrolled(fed).then(() => undefined, (e: Error) => e.message);
  assert.match(error ?? 'no error', new RegExp(`node 'LSTM' \\(LSTM, opset 14\\): W '${w}' must be a constant \\(an initializer, or made from initializers by Slice, Concat, Reshape, Transpose, Squeeze or Unsqueeze\\) to unroll the cell`));
});

// torch.onnx without constant folding (Silero VAD's If branches) writes nn.LSTM's W and R as its gates' Slices of the
// [4H, I] parameter, reordered (i, f, g, o → i, o, f, g) by a Concat and given their direction axis by an Unsqueeze:
// such a cell was refused as having computed weights.
test('a cell whose W and R are Slices, Concat and Unsqueeze of initializers (torch.onnx unfolded) is unrolled to the folded cell\'s numbers', async () => {
  const base = batchFirst(variantCase({ op: 'LSTM', opset: 14, what: 'W built' }));
  const g = base.model.graph!;
  const lstm = g.node!.find((n) => n.op_type === 'LSTM')!;
  const nodes: NodeProto[] = [];
  const initializer = g.initializer!.filter((t) => t.name !== lstm.input![1] && t.name !== lstm.input![2]);
  const int64 = (name: string, values: number[]) => initializer.push({ name, data_type: DataType.INT64, dims: [values.length], int64_data: values });
  int64('axis0', [0]);
  for (const [k, cols] of [[1, I], [2, H]]) {
    const folded = g.initializer!.find((t) => t.name === lstm.input![k])!;
    const values = tensorValues(folded);
    const rows = Array.from({ length: 4 }, (_, gate) => values.slice(gate * H * cols, (gate + 1) * H * cols));
    // The parameter in torch's gate order (i, f, g, o); ONNX's is (i, o, f, c).
    initializer.push({ name: `param${k}`, data_type: DataType.FLOAT, dims: [4 * H, cols], float_data: [rows[0], rows[2], rows[3], rows[1]].flat() });
    for (const [j, gate] of [0, 3, 1, 2].entries()) {
      int64(`start${k}_${j}`, [gate * H]);
      int64(`end${k}_${j}`, [(gate + 1) * H]);
      nodes.push({ op_type: 'Slice', input: [`param${k}`, `start${k}_${j}`, `end${k}_${j}`, 'axis0'], output: [`gate${k}_${j}`], name: `slice${k}_${j}` });
    }
    nodes.push({ op_type: 'Concat', input: [0, 1, 2, 3].map((j) => `gate${k}_${j}`), output: [`cat${k}`], name: `cat${k}`, attribute: [{ name: 'axis', type: AttrType.INT, i: 0 }] });
    nodes.push({ op_type: 'Unsqueeze', input: [`cat${k}`, 'axis0'], output: [lstm.input![k]], name: `unsqueeze${k}` });
  }
  const built = { ...base, model: { ...base.model, graph: { ...g, node: [...nodes, ...g.node!], initializer } } };
  const flat = await unrolled(built);
  assert.ok(!flat.graph!.node!.some((n) => n.op_type === 'LSTM'), 'the cell is unrolled');
  const x = { data: Float32Array.from({ length: N * L * I }, (_, k) => Math.sin(k * 0.7)), dims: [N, L, I] };
  const [want, got] = await Promise.all([base.model, built.model].map(async (m) => (await Explainer.load(encodeModel(m))).attribute(x, { output: base.ys[0], target: [[L - 1, 0, 1]] })));
  assert.ok(relL2(got.attributions.data, want.attributions.data) < 1e-6, `rel L2 ${relL2(got.attributions.data, want.attributions.data)}`);
  assert.ok(relL2(got.outputs[base.ys[0]].data, want.outputs[base.ys[0]].data) < 1e-6);
});

// tf2onnx writes a Keras LSTM's zero state at a static batch as an initializer [1, 8, H]: the model was tied to batch 8.
test('a cell whose initial states are constant zeros at the export\'s batch is read without them (the spec\'s default): explained at another batch', async () => {
  const base = batchFirst(variantCase({ op: 'LSTM', opset: 14, what: 'zero states' }));
  const g = base.model.graph!;
  const zeros = [{ name: 'h0', data_type: DataType.FLOAT, dims: [1, N, H], float_data: new Array(N * H).fill(0) }, { name: 'c0', data_type: DataType.FLOAT, dims: [1, N, H], float_data: new Array(N * H).fill(0) }];
  const node = g.node!.map((n) => (n.op_type === 'LSTM' ? { ...n, input: [...n.input!.slice(0, 5), 'h0', 'c0'] } : n));
  const stated = encodeModel({ ...base.model, graph: { ...g, node, initializer: [...g.initializer!, ...zeros] } });
  const x = { data: Float32Array.from({ length: N * L * I }, (_, k) => Math.cos(k * 0.9)), dims: [N, L, I] };
  const want = await (await Explainer.load(encodeModel(base.model))).attribute(x, { output: base.ys[0], target: [[L - 1, 0, 2]] });
  const row = { data: x.data.slice(0, L * I), dims: [1, L, I] };
  const got = await (await Explainer.load(stated)).attribute(row, { output: base.ys[0], target: [[L - 1, 0, 2]] });
  assert.ok(relL2(got.attributions.data, want.attributions.data.slice(0, L * I)) < 1e-6, `rel L2 ${relL2(got.attributions.data, want.attributions.data.slice(0, L * I))}`);
});

// A 200-token bidirectional LSTM's DeepLIFT graph had 53,205 nodes and took minutes to open in onnxruntime,
// whose session setup grows faster than the graph: both directions now take each step in one node per
// operation, and the gates through the same activation are activated as one block.
for (const op of ['LSTM', 'GRU'] as const) {
  test(`a bidirectional ${op}'s directions step together, its sigmoid gates activated as one block: one Sigmoid per step, one recurrent MatMul per step after the first`, async () => {
    const flat = await unrolled(batchFirst(variantCase({ op, opset: 14, what: 'bidirectional', dirs: 2, attrs: { direction: 'bidirectional' } })));
    const count = (type: string) => flat.graph!.node!.filter((n) => n.op_type === type).length;
    assert.is(count('Sigmoid'), L);
    // The input projections of the two directions, then h·Rᵀ from the second step on (GRU without linear_before_reset: also (r ⊙ h)·Rhᵀ).
    assert.is(count('MatMul'), 2 + (L - 1) * (op === 'GRU' ? 2 : 1));
  });
}

// torch's zero state (Shape, Gather, Concat, ConstantOfShape of the batch), sliced per layer in a stacked LSTM, stayed
// in the graph: onnxruntime-web's WebGPU EP ran those int64 nodes on the CPU in every session.
test('torch\'s zero initial state, whole or sliced per layer and direction, is read as zeros, and the nodes building it go', async () => {
  for (const name of ['lstm_op13', 'lstm2_op9', 'gru_bi_op14', 'rnn_relu_op11']) {
    const read = canonicalForm(decodeModel(fs.readFileSync(load(name).model)), name);
    const ops = read.graph!.node!.map((n) => n.op_type);
    assert.not.ok(ops.includes('ConstantOfShape') || ops.includes('Shape'), `${name}: ${ops.join(' ')}`);
    for (const cell of read.graph!.node!.filter((n) => ['LSTM', 'GRU', 'RNN'].includes(n.op_type!))) assert.ok(!cell.input![5] && !cell.input![6], `${name}: ${cell.name} keeps an initial state`);
  }
});

test.run();
