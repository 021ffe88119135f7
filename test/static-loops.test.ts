import * as fs from 'fs';
import * as ort from 'onnxruntime-node';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Emitter } from '../rewriter/emitter';
import { AttrType, DataType, encodeModel, GraphProto, valueInfo } from '../rewriter/proto';
import { Explainer } from '../runtime';
import { centralDifferences } from './support/central';
import { loadFixture, relL2 } from './support/fixtures';
import { rng } from './support/gradcheck';
import { rejects } from './support/rejects';
import { runCli, tempDir } from './support/cli-harness';
import { loadModel, saveModel } from '../runtime/node/model-file';
import * as path from 'path';

const W = Array.from({ length: 3 * 2 }, (_, k) => Math.sin(2 * k + 1));
const random = (n: number, seed: number) => { const r = rng(seed); return Float32Array.from({ length: n }, () => r() * 2 - 1); };

/**
 * x [N, 5, 3] → a Loop over the token axis (trip count Gather(Shape(x), 1), computed from the
 * shape) carrying s = Tanh(s·w + x[:, i]) from s₀ = Tanh(x[:, 0]) and scanning every s; then
 * (Σ of the scans + the final s) · W [N, 2]. With `stop`, the body's condition is ReduceSum(s) > 0
 * (from the input's values): that Loop cannot be unrolled.
 */
function recurrence(stop = false): Uint8Array {
  const body = new Emitter(13, DataType.FLOAT, 'body');
  const xi = body.op('Gather', ['x', 'i'], { axis: 1 });
  const next = body.op('Tanh', [body.add(body.mul('s', body.constFloat([0.5, -1, 2], [3])), xi)]);
  const cond = stop ? body.op('Greater', [body.reduceSum(next, [0, 1], false), body.scalar(0)]) : body.op('Identity', ['cond']);
  body.rename(cond, 'cond_out');
  body.rename(next, 's_out');
  body.rename(next, 'scan_out');
  const loopBody: GraphProto = {
    name: 'body', node: body.nodes, initializer: body.initializers,
    input: [valueInfo('i', DataType.INT64, []), valueInfo('cond', DataType.BOOL, []), valueInfo('s', DataType.FLOAT, ['N', 3])],
    output: [{ name: 'cond_out' }, { name: 's_out' }, { name: 'scan_out' }],
  };
  const em = new Emitter(13, DataType.FLOAT, 'outer');
  const trips = em.op('Squeeze', [em.op('Gather', [em.op('Shape', ['x']), em.constInt([1], [1])], { axis: 0 }), em.constInt([0])]);
  const s0 = em.op('Tanh', [em.squeeze(em.slice('x', [0], [1], [1]), [1])]);
  const yes = 'outer/true';
  em.nodes.push({ op_type: 'Loop', input: [trips, yes, s0], output: ['s_final', 'scans'], name: 'recurrence', attribute: [{ name: 'body', type: AttrType.GRAPH, g: loopBody }] });
  em.rename(em.matmul(em.add(em.reduceSum('scans', [0], false), 's_final'), em.constFloat(W, [3, 2])), 'y');
  return encodeModel({
    ir_version: 8, opset_import: [{ domain: '', version: 13 }], producer_name: 'onnx-explain tests',
    graph: {
      name: 'loop', node: em.nodes, output: [{ name: 'y' }], input: [valueInfo('x', DataType.FLOAT, ['N', 5, 3])],
      initializer: [...em.initializers, { name: yes, dims: [], data_type: DataType.BOOL, raw_data: Uint8Array.of(1) }],
    },
  });
}

/**
 * The recurrence as TF2's while loop through tf2onnx (Keras RNNs it does not fuse): no trip count;
 * a carried counter t from 0 and a carried limit T (the input's length, from its shape) decide the
 * condition Less(t + 1, T), first computed outside as Less(0, T); the body gathers x at t.
 */
function whileLoop(): Uint8Array {
  const body = new Emitter(13, DataType.FLOAT, 'body');
  const xi = body.op('Gather', ['x', 't'], { axis: 1 });
  const next = body.op('Tanh', [body.add(body.mul('s', body.constFloat([0.5, -1, 2], [3])), xi)]);
  const t1 = body.add('t', body.constInt([1], []));
  body.rename(body.op('Less', [body.op('Cast', [t1], { to: DataType.INT32 }), body.op('Cast', ['limit'], { to: DataType.INT32 })]), 'cond_out');
  body.rename(t1, 't_out');
  body.rename(body.op('Identity', ['limit']), 'limit_out');
  body.rename(next, 's_out');
  body.rename(body.op('Identity', [next]), 'scan_out');
  const loopBody: GraphProto = {
    name: 'body', node: body.nodes, initializer: body.initializers,
    input: [valueInfo('iter', DataType.INT64, []), valueInfo('cond', DataType.BOOL, []), valueInfo('t', DataType.INT64, []), valueInfo('limit', DataType.INT64, []), valueInfo('s', DataType.FLOAT, ['N', 3])],
    output: [{ name: 'cond_out' }, { name: 't_out' }, { name: 'limit_out' }, { name: 's_out' }, { name: 'scan_out' }],
  };
  const em = new Emitter(13, DataType.FLOAT, 'outer');
  const limit = em.op('Squeeze', [em.op('Gather', [em.op('Shape', ['x']), em.constInt([1], [1])], { axis: 0 }), em.constInt([0])]);
  const start = em.constInt([0], []);
  const s0 = em.op('Tanh', [em.squeeze(em.slice('x', [0], [1], [1]), [1])]);
  em.nodes.push({ op_type: 'Loop', input: ['', em.op('Less', [start, limit]), start, limit, s0], output: ['t_final', 'limit_final', 's_final', 'scans'], name: 'while', attribute: [{ name: 'body', type: AttrType.GRAPH, g: loopBody }] });
  em.rename(em.matmul(em.add(em.reduceSum('scans', [0], false), 's_final'), em.constFloat(W, [3, 2])), 'y');
  return encodeModel({
    ir_version: 8, opset_import: [{ domain: '', version: 13 }], producer_name: 'onnx-explain tests',
    graph: { name: 'while', node: em.nodes, output: [{ name: 'y' }], input: [valueInfo('x', DataType.FLOAT, ['N', 5, 3])], initializer: em.initializers },
  });
}

/**
 * x [N, 5, 3] → a Scan over the token axis backwards (scan_input_axes 1, directions 1) carrying
 * s = Tanh(s·w + x_t) from s₀ = Tanh(x[:, 0]), its states stacked on axis 1 → mean over it + the
 * final s → · W [N, 2] (tf2onnx's and skl2onnx's form of a loop over a tensor's axis).
 */
function scan(): Uint8Array {
  const body = new Emitter(13, DataType.FLOAT, 'body');
  const next = body.op('Tanh', [body.add(body.mul('s', body.constFloat([0.5, -1, 2], [3])), 'x_t')]);
  body.rename(next, 's_out');
  body.rename(next, 'scan_out');
  const scanBody: GraphProto = {
    name: 'body', node: body.nodes, initializer: body.initializers,
    input: [valueInfo('s', DataType.FLOAT, ['N', 3]), valueInfo('x_t', DataType.FLOAT, ['N', 3])],
    output: [{ name: 's_out' }, { name: 'scan_out' }],
  };
  const em = new Emitter(13, DataType.FLOAT, 'outer');
  const s0 = em.op('Tanh', [em.squeeze(em.slice('x', [0], [1], [1]), [1])]);
  em.nodes.push({
    op_type: 'Scan', input: [s0, 'x'], output: ['s_final', 'states'], name: 'recurrence',
    attribute: [{ name: 'body', type: AttrType.GRAPH, g: scanBody }, { name: 'num_scan_inputs', type: AttrType.INT, i: 1 }, { name: 'scan_input_axes', type: AttrType.INTS, ints: [1] }, { name: 'scan_input_directions', type: AttrType.INTS, ints: [1] }, { name: 'scan_output_axes', type: AttrType.INTS, ints: [1] }],
  });
  em.rename(em.matmul(em.add(em.reduceMean('states', [1], false), 's_final'), em.constFloat(W, [3, 2])), 'y');
  return encodeModel({
    ir_version: 8, opset_import: [{ domain: '', version: 13 }], producer_name: 'onnx-explain tests',
    graph: { name: 'scan', node: em.nodes, output: [{ name: 'y' }], input: [valueInfo('x', DataType.FLOAT, ['N', 5, 3])], initializer: em.initializers },
  });
}

/**
 * x [N, 6, 4] → SplitToSequence at [2, 4] on axis 1, Tanh(x[:, :1]) inserted at position 0, the
 * last piece erased, ConcatFromSequence on axis 1 [N, 3, 4]; SplitToSequence of that into its 4
 * columns (keepdims 0), stacked on a new axis 1 by ConcatFromSequence [N, 4, 3], times
 * SequenceLength, plus Σ Sigmoid of SequenceAt(−1) of the first sequence → · W' [N, 2].
 */
function sequences(): Uint8Array {
  const em = new Emitter(13, DataType.FLOAT, 'seq');
  const pieces = em.op('SplitToSequence', ['x', em.constInt([2, 4])], { axis: 1 });
  const withFirst = em.op('SequenceInsert', [pieces, em.op('Tanh', [em.slice('x', [0], [1], [1])]), em.constInt([0], [])]);
  const two = em.op('SequenceErase', [withFirst, em.constInt([-1], [])]);
  const joined = em.op('ConcatFromSequence', [two], { axis: 1 });
  const columns = em.op('SplitToSequence', [joined], { axis: 2, keepdims: 0 });
  const stacked = em.op('ConcatFromSequence', [columns], { axis: 1, new_axis: 1 });
  const count = em.cast(em.op('SequenceLength', [columns]), DataType.FLOAT);
  const last = em.op('SequenceAt', [withFirst, em.constInt([-1], [])]);
  const mixed = em.add(em.mul(em.reduceSum(stacked, [1], false), count), em.reduceSum(em.reduceSum(em.op('Sigmoid', [last]), [2], false), [1]));
  em.rename(em.matmul(mixed, em.constFloat([0.25, -0.5, 1.5, 0.75, -1, 0.5], [3, 2])), 'y');
  return encodeModel({
    ir_version: 8, opset_import: [{ domain: '', version: 13 }], producer_name: 'onnx-explain tests',
    graph: { name: 'sequences', node: em.nodes, initializer: em.initializers, output: [{ name: 'y' }], input: [valueInfo('x', DataType.FLOAT, ['N', 6, 4])] },
  });
}

/** The model's output 'y' by plain onnxruntime (the Loop and sequences as written). */
async function plainOutput(model: Uint8Array, x: Float32Array, dims: number[]): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(model);
  return (await s.run({ x: new ort.Tensor('float32', x, dims) })).y.data as Float32Array;
}

for (const [label, model, row] of [['a Loop of known trip count with a carried state and a scan output', recurrence(), [5, 3]], ['a while loop without a trip count whose condition compares a carried counter with its limit (TF2 through tf2onnx)', whileLoop(), [5, 3]], ['sequences of known positions', sequences(), [6, 4]], ['a Scan over a known length, backwards, with a stacked output', scan(), [5, 3]]] as const) {
  test(`${label}: read in standard ops; gradient = central differences of the model run by onnxruntime as written; DeepLIFT sums to delta`, async () => {
    const ex = await Explainer.load(model);
    const n = 3;
    const dims = [n, ...row];
    const per = row[0] * row[1];
    const x = random(n * per, 31);
    const target = [1, 0, 1];
    const g = await ex.attribute({ data: x, dims }, { target });
    assert.ok(relL2(g.outputs.y.data, await plainOutput(model, x, dims)) < 1e-6, 'outputs equal the model\'s');
    const fd = await centralDifferences(x, 1e-3, (v) => plainOutput(model, v, dims), (i) => Math.floor(i / per) * 2 + target[Math.floor(i / per)]);
    assert.ok(relL2(g.attributions.data, fd) < 2e-3, `gradient vs central differences: rel L2 ${relL2(g.attributions.data, fd)}`);
    const d = await ex.attribute({ data: x, dims }, { target, method: 'deeplift' });
    for (const delta of d.delta!) assert.ok(Math.abs(delta) < 1e-5, `delta ${delta}`);
  });
}

test('a Loop\'s and a Scan\'s final carried state, read by later nodes, keeps its name once written out: --output and --layer name it (gradient = central differences)', async () => {
  for (const model of [recurrence(), whileLoop(), scan()]) {
    const proto = loadModel(Buffer.from(model));
    proto.graph!.output!.push({ name: 's_final' });
    const session = await ort.InferenceSession.create(encodeModel(proto));
    const x = random(2 * 15, 7);
    const finalState = async (v: Float32Array) => (await session.run({ x: new ort.Tensor('float32', v, [2, 5, 3]) })).s_final.data as Float32Array;
    const ex = await Explainer.load(model);
    const g = await ex.attribute({ data: x, dims: [2, 5, 3] }, { output: 's_final', target: [2, 0] });
    const fd = await centralDifferences(x, 1e-3, finalState, (i) => Math.floor(i / 15) * 3 + [2, 0][Math.floor(i / 15)]);
    assert.ok(relL2(g.attributions.data, fd) < 2e-3, `gradient of s_final vs central differences: rel L2 ${relL2(g.attributions.data, fd)}`);
    const layer = await ex.attribute({ data: x, dims: [2, 5, 3] }, { method: 'layer-activation', layer: 's_final' });
    assert.ok(relL2(layer.attributions.data, await finalState(x)) < 1e-6);
  }
});

test('a Loop whose condition follows the input\'s values stays a Loop, and is refused in one line naming it', async () => {
  const ex = await Explainer.load(recurrence(true));
  await rejects(() => ex.attribute({ data: random(15, 3), dims: [1, 5, 3] }, { target: 0 }), /node 'recurrence' \(Loop, opset 13\) reads the input inside its subgraphs, which are not differentiated \(a Loop is unrolled only when its iterations are known \(a known trip count and a condition that stays true, or a condition computed from counters and constants\) and the graph written out stays within 200,000 nodes\); export the model with the loop written out$/);
});

test('nested Loops whose iterations multiply past 200,000 nodes (1,000 × 1,000 Relus) stay Loops: refused in one line at once (they were written out level by level, info and attribute ran for minutes); a nest within the bound is written out', async () => {
  // y = Loop_M(Loop_M(Relu)) of x·W, M a constant: the inner Loop is the outer body's carried value.
  const loops = (trips: number) => {
    const body = (depth: number): GraphProto => ({
      name: `b${depth}`,
      node: [
        { op_type: 'Identity', input: [`c${depth}`], output: [`co${depth}`] },
        depth === 0 ? { op_type: 'Relu', input: [`v${depth}`], output: [`vo${depth}`] }
          : { op_type: 'Loop', input: ['trips', '', `v${depth}`], output: [`vo${depth}`], attribute: [{ name: 'body', type: AttrType.GRAPH, g: body(depth - 1) }] },
      ],
      input: [valueInfo(`i${depth}`, DataType.INT64, []), valueInfo(`c${depth}`, DataType.BOOL, []), { name: `v${depth}`, type: { tensor_type: { elem_type: DataType.FLOAT } } }],
      output: [valueInfo(`co${depth}`, DataType.BOOL, []), { name: `vo${depth}`, type: { tensor_type: { elem_type: DataType.FLOAT } } }],
    });
    return encodeModel({
      ir_version: 8, opset_import: [{ domain: '', version: 13 }],
      graph: {
        name: 'nest',
        node: [{ op_type: 'MatMul', input: ['x', 'W'], output: ['m'] }, { op_type: 'Loop', input: ['trips', '', 'm'], output: ['y'], name: 'outer', attribute: [{ name: 'body', type: AttrType.GRAPH, g: body(1) }] }],
        initializer: [{ name: 'W', dims: [3, 2], data_type: DataType.FLOAT, float_data: W }, { name: 'trips', dims: [], data_type: DataType.INT64, int64_data: [trips] }],
        input: [valueInfo('x', DataType.FLOAT, ['N', 3])], output: [valueInfo('y', DataType.FLOAT, ['N', 2])],
      },
    });
  };
  const x = { data: Float32Array.of(1, -2, 0.5), dims: [1, 3] };
  const started = Date.now();
  await rejects(async () => (await Explainer.load(loops(1000))).attribute(x, { target: 0 }), /node 'outer' \(Loop, opset 13\) is on the path and stays in the graph, which is not differentiated \(a Loop is unrolled only when .* the graph written out stays within 200,000 nodes\); export the model with the loop written out, or use a method that only runs the model forward/);
  assert.ok(Date.now() - started < 30000, `${Date.now() - started} ms`);
  const g = await (await Explainer.load(loops(3))).attribute(x, { target: 0 });
  const m = W[0] * 1 - 2 * W[2] + 0.5 * W[4];
  assert.equal(Array.from(g.attributions.data), m > 0 ? [W[0], W[2], W[4]].map(Math.fround) : [0, 0, 0]);
});

test('a SplitToSequence along the batch axis, written out at the probe\'s batch, fixes the batch: rows run one at a time, each with its own gradient', async () => {
  const em = new Emitter(13, DataType.FLOAT, 'rows');
  em.rename(em.op('Tanh', [em.op('ConcatFromSequence', [em.op('SplitToSequence', ['x'], { axis: 0 })], { axis: 0 })]), 'y');
  const model = encodeModel({
    ir_version: 8, opset_import: [{ domain: '', version: 13 }], producer_name: 'onnx-explain tests',
    graph: { name: 'rows', node: em.nodes, initializer: em.initializers, output: [{ name: 'y' }], input: [valueInfo('x', DataType.FLOAT, ['N', 4])] },
  });
  const x = random(12, 5);
  const g = await (await Explainer.load(model)).attribute({ data: x, dims: [3, 4] }, { target: 0 });
  assert.ok(relL2(g.attributions.data, x.map((v, i) => (i % 4 === 0 ? 1 - Math.tanh(v) ** 2 : 0))) < 1e-6);
});

const EXPORTS: [string, string, string][] = [
  ['tensor_split', 'torch.tensor_split (two Loops into sequences)', 'SequenceEmpty ×2, Loop ×2, SequenceInsert ×2, SequenceAt ×5'],
  ['scripted_loop', 'a scripted Python loop (a Loop carrying a list, stacked by ConcatFromSequence)', 'SequenceEmpty ×1, Loop ×1, ConcatFromSequence ×1'],
];
for (const [name, what, written] of EXPORTS) {
  test(`${what}, fixture ${name}: info names them written out; rewrite saves a graph without Loop or sequence ops that plain onnxruntime runs to the autograd gradient`, async () => {
    const fx = loadFixture(name);
    const ops = new Set(loadModel(fx.model).graph!.node!.map((n) => n.op_type));
    assert.ok(ops.has('Loop'), 'the export has its Loop');
    const info = await runCli(['info', fx.model]);
    assert.ok(info.out.includes('unsupported ops: none'), info.out.join('\n'));
    assert.ok(info.out.includes(`loops and sequences, written out before the walk (trip counts and positions known at this input shape): ${written}`), info.out.join('\n'));
    // The explainable tensors go on past the Loop (helper sweep: a Keras LSTM's while Loop ended the list), by their own ops.
    assert.ok(info.out.some((l) => /^  output \[N, \d+\] \(Gemm\)$/.test(l)), info.out.join('\n'));
    const out = path.join(tempDir('static-loops'), `${name}.onnx`);
    const r = await runCli(['rewrite', fx.model, '--out', out]);
    assert.is(r.code, 0, r.err.join('|'));
    const saved = loadModel(out).graph!.node!.map((n) => n.op_type ?? '');
    assert.equal(saved.filter((op) => op === 'Loop' || op.startsWith('Sequence') || op.endsWith('Sequence')), []);
    const session = await ort.InferenceSession.create(out);
    const [n, classes] = [fx.input.dims[0], fx.ref('output.npy')!.length / fx.input.dims[0]];
    const seed = new Float32Array(n * classes);
    fx.meta.target.forEach((t: number, row: number) => { seed[row * classes + t] = 1; });
    const got = await session.run({ input: new ort.Tensor('float32', fx.input.data, fx.input.dims), seed: new ort.Tensor('float32', seed, [n, classes]) });
    assert.ok(relL2(got.attribution.data as Float32Array, fx.ref('grad.npy')!) < 1e-4);
  });
}

test('info on a Loop whose trip count follows from a dynamic sequence axis: written out at --shape, which lists what follows the Loop; without it the Loop is unsupported unless a shape writes it out', async () => {
  const fx = loadFixture('scripted_loop');
  const model = loadModel(fx.model);
  model.graph!.input![0].type!.tensor_type!.shape!.dim![1] = { dim_param: 'T' };
  const file = path.join(tempDir('static-loops'), 'dynamic-t.onnx');
  saveModel(model, file);
  const bare = await runCli(['info', file]);
  assert.ok(bare.out.some((l) => l.startsWith('unsupported ops: ') && l.includes('Loop (unless written out at a --shape that gives its trip count or positions)')), bare.out.join('\n'));
  const sized = await runCli(['info', file, '--shape', '1,6,8']);
  assert.ok(sized.out.includes('  output [N, 3] (Gemm)'), sized.out.join('\n'));
  assert.ok(sized.out.includes('loops and sequences, written out before the walk (trip counts and positions known at this input shape): SequenceEmpty ×1, Loop ×1, ConcatFromSequence ×1'), sized.out.join('\n'));
});

test('an If on the iteration number inside a Loop of known trip count (a scripted `if i % 2 == 0:`) becomes its branch in each written-out iteration: gradient = the closed form', async () => {
  // h₀ = x; h ← 2h on even i, tanh(h) on odd i, three times: y = 2·tanh(2x), ∂y/∂x = 4·(1 − tanh²(2x)).
  const branch = (name: string, op: (em: Emitter) => string): GraphProto => {
    const em = new Emitter(13, DataType.FLOAT, name);
    em.rename(op(em), `${name}_h`);
    return { name, node: em.nodes, initializer: em.initializers, output: [valueInfo(`${name}_h`, DataType.FLOAT, ['N', 2])] };
  };
  const body = new Emitter(13, DataType.FLOAT, 'body');
  const even = body.op('Equal', [body.op('Mod', ['i', body.constInt([2], [])]), body.constInt([0], [])]);
  body.nodes.push({ op_type: 'If', input: [even], output: ['h_out'], name: 'parity', attribute: [
    { name: 'then_branch', type: AttrType.GRAPH, g: branch('double', (em) => em.mul('h', em.scalar(2))) },
    { name: 'else_branch', type: AttrType.GRAPH, g: branch('squash', (em) => em.op('Tanh', ['h'])) },
  ] });
  body.rename(body.op('Identity', ['cond']), 'cond_out');
  const loopBody: GraphProto = {
    name: 'body', node: body.nodes, initializer: body.initializers,
    input: [valueInfo('i', DataType.INT64, []), valueInfo('cond', DataType.BOOL, []), valueInfo('h', DataType.FLOAT, ['N', 2])],
    output: [{ name: 'cond_out' }, { name: 'h_out' }],
  };
  const model = encodeModel({
    ir_version: 8, opset_import: [{ domain: '', version: 13 }],
    graph: {
      name: 'loop-if', input: [valueInfo('x', DataType.FLOAT, ['N', 2])], output: [{ name: 'y' }],
      node: [{ op_type: 'Loop', input: ['trips', 'yes', 'x'], output: ['y'], name: 'steps', attribute: [{ name: 'body', type: AttrType.GRAPH, g: loopBody }] }],
      initializer: [{ name: 'trips', dims: [], data_type: DataType.INT64, int64_data: [3] }, { name: 'yes', dims: [], data_type: DataType.BOOL, raw_data: Uint8Array.of(1) }],
    },
  });
  const x = Float32Array.from([0.3, -0.2, 0.1, 0.4]);
  const r = await (await Explainer.load(model)).attribute({ data: x, dims: [2, 2] }, { target: [1, 0] });
  // info: neither the Loop nor its If is unsupported (both are written out).
  const file = path.join(tempDir('loop-if'), 'model.onnx');
  fs.writeFileSync(file, model);
  const info = await runCli(['info', file]);
  assert.ok(info.out.includes('unsupported ops: none'), info.out.join('\n'));
  // Nor an If on a constant condition in the main graph.
  fs.writeFileSync(file, encodeModel({
    ir_version: 8, opset_import: [{ domain: '', version: 13 }],
    graph: {
      name: 'if', input: [valueInfo('h', DataType.FLOAT, ['N', 2])], output: [{ name: 'y' }],
      node: [{ op_type: 'If', input: ['yes'], output: ['y'], name: 'constant', attribute: [
        { name: 'then_branch', type: AttrType.GRAPH, g: branch('double', (em) => em.mul('h', em.scalar(2))) },
        { name: 'else_branch', type: AttrType.GRAPH, g: branch('squash', (em) => em.op('Tanh', ['h'])) },
      ] }],
      initializer: [{ name: 'yes', dims: [], data_type: DataType.BOOL, raw_data: Uint8Array.of(1) }],
    },
  }));
  const constant = await runCli(['info', file]);
  assert.ok(constant.out.includes('unsupported ops: none'), constant.out.join('\n'));
  const want = [0, 0, 0, 0];
  for (const [row, t] of [[0, 1], [1, 0]]) want[row * 2 + t] = 4 * (1 - Math.tanh(2 * x[row * 2 + t]) ** 2);
  assert.ok(relL2(r.attributions.data, want) < 1e-6, `${Array.from(r.attributions.data)} vs ${want}`);
});

test.run();
