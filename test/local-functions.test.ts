import * as ort from 'onnxruntime-node';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { inlineLocalFunctions } from '../rewriter/local-functions';
import { AttrType, AttributeProto, DataType, decodeModel, encodeModel, GraphProto, makeTensor, ModelProto, NodeProto, tensorArray, valueInfo } from '../rewriter/proto';
import { Explainer } from '../runtime';
import { centralDifferences } from './support/central';
import { relL2 } from './support/fixtures';
import { rng } from './support/gradcheck';
import { rejects } from './support/rejects';

/**
 * Model-local functions as torch.onnx's export_modules_as_functions and onnxscript write them:
 * a Block(x, w, [bias]) → (y, pre) function computing pre = Gemm(x, w, bias; alpha from the
 * caller or its default 0.8) and y = Act(pre; kind from the caller), where Act picks Tanh or
 * x·Sigmoid(x) by an If on its attribute (default SiLU). Block is called twice: with a bias, alpha
 * 0.5 and kind 1, then without bias, alpha, kind or its second output.
 */
const [N, D, H, C] = [2, 4, 6, 3];
const rand = rng(11);
const values = (n: number, scale = 1) => Array.from({ length: n }, () => (rand() * 2 - 1) * scale);
const x = Float32Array.from(values(N * D, 1.5));
const MOD = 'pkg.mod';
const ref = (name: string, type: number, refName = name): AttributeProto => ({ name, type, ref_attr_name: refName });
const branch = (name: string, nodes: NodeProto[], out: string): GraphProto => ({ name, node: nodes, output: [{ name: out, type: { tensor_type: { elem_type: DataType.FLOAT } } }] });

const act = {
  name: 'Act', domain: MOD, input: ['a'], output: ['b'], attribute_proto: [{ name: 'kind', type: AttrType.INT, i: 0 }],
  opset_import: [{ domain: '', version: 17 }],
  node: [
    { op_type: 'Constant', output: ['k'], attribute: [ref('value_int', AttrType.INT, 'kind')] },
    { op_type: 'Cast', input: ['k'], output: ['flag'], attribute: [{ name: 'to', type: AttrType.INT, i: DataType.BOOL }] },
    {
      op_type: 'If', input: ['flag'], output: ['b'], attribute: [
        { name: 'then_branch', type: AttrType.GRAPH, g: branch('tanh', [{ op_type: 'Tanh', input: ['a'], output: ['t'] }], 't') },
        { name: 'else_branch', type: AttrType.GRAPH, g: branch('silu', [{ op_type: 'Sigmoid', input: ['a'], output: ['s'] }, { op_type: 'Mul', input: ['a', 's'], output: ['t'] }], 't') },
      ],
    },
  ],
};
const block = {
  name: 'Block', domain: MOD, input: ['x', 'w', 'bias'], output: ['y', 'pre'], attribute: ['kind'], attribute_proto: [{ name: 'alpha', type: AttrType.FLOAT, f: 0.8 }],
  opset_import: [{ domain: '', version: 17 }, { domain: MOD, version: 1 }],
  node: [
    { op_type: 'Gemm', input: ['x', 'w', 'bias'], output: ['pre'], attribute: [ref('alpha', AttrType.FLOAT)] },
    { op_type: 'Act', domain: MOD, input: ['pre'], output: ['y'], attribute: [ref('kind', AttrType.INT)] },
  ],
};

function model(functions: object[] = [act, block], nodes?: NodeProto[]): Uint8Array {
  const m: ModelProto = {
    ir_version: 10, opset_import: [{ domain: '', version: 17 }, { domain: MOD, version: 1 }], producer_name: 'functions', functions,
    graph: {
      name: 'g',
      node: nodes ?? [
        { op_type: 'Block', domain: MOD, name: 'block1', input: ['x', 'block1/pre', 'b1'], output: ['h', 'p'], attribute: [{ name: 'alpha', type: AttrType.FLOAT, f: 0.5 }, { name: 'kind', type: AttrType.INT, i: 1 }] },
        { op_type: 'Block', domain: MOD, name: 'block2', input: ['h', 'w2'], output: ['logits', ''] },
      ],
      // An initializer named as block1's inner tensor would be: inlined names must not collide.
      initializer: [makeTensor('block1/pre', [D, H], values(D * H), DataType.FLOAT), makeTensor('b1', [H], values(H, 0.5), DataType.FLOAT), makeTensor('w2', [H, C], values(H * C), DataType.FLOAT)],
      input: [valueInfo('x', DataType.FLOAT, ['N', D])], output: [valueInfo('logits', DataType.FLOAT, ['N', C])],
    },
  };
  return encodeModel(m);
}

async function kernelLogits(bytes: Uint8Array, input: Float32Array): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(bytes, { logSeverityLevel: 3 });
  const out = await s.run({ x: new ort.Tensor('float32', input, [N, D]) });
  await s.release();
  return out.logits.data as Float32Array;
}

test('local functions inline to standard ops: no function call, attribute or import of their domain left, inner names fresh', () => {
  const read = inlineLocalFunctions(decodeModel(model()), 'functions.onnx');
  const all = (g: GraphProto): NodeProto[] => (g.node ?? []).flatMap((n) => [n, ...(n.attribute ?? []).flatMap((a) => (a.g ? all(a.g) : []))]);
  const nodes = all(read.graph!);
  assert.equal(nodes.filter((n) => n.domain).length, 0);
  assert.equal((read.functions as unknown[]).length, 0);
  assert.equal(read.opset_import!.map((o) => o.domain), ['']);
  assert.ok(nodes.every((n) => (n.attribute ?? []).every((a) => !a.ref_attr_name)));
  const outputs = nodes.flatMap((n) => n.output ?? []);
  assert.equal(new Set(outputs).size, outputs.length, 'every tensor is written once');
  assert.not.ok(outputs.includes('block1/pre'), 'the initializer keeps its name');
  // Two Gemms, with the caller's alpha and the function's default; one without its bias input.
  const gemms = nodes.filter((n) => n.op_type === 'Gemm');
  assert.equal(gemms.map((g) => g.attribute![0].f).map((f) => Math.fround(f!)), [0.5, Math.fround(0.8)]);
  assert.equal(gemms.map((g) => g.input![2]), ['b1', '']);
});

test('a model calling nested local functions (attributes from the caller, defaults, an absent input, an If on an attribute): outputs equal onnxruntime\'s, the gradient its central differences, DeepLIFT sums to delta', async () => {
  const bytes = model();
  const ex = await Explainer.load(bytes);
  const targets = [2, 0];
  const r = await ex.attribute({ data: x, dims: [N, D] }, { target: targets });
  const want = await kernelLogits(bytes, x);
  assert.ok(relL2(r.outputs.logits.data, want) < 1e-6, `outputs: rel L2 ${relL2(r.outputs.logits.data, want)}`);
  const fd = await centralDifferences(x, 1e-3, (v) => kernelLogits(bytes, v), (i) => Math.floor(i / D) * C + targets[Math.floor(i / D)]);
  assert.ok(relL2(r.attributions.data, fd) < 1e-3, `gradient vs central differences: rel L2 ${relL2(r.attributions.data, fd)}`);
  const d = await ex.attribute({ data: x, dims: [N, D] }, { target: targets, method: 'deeplift', baseline: { data: x.map((v) => 0.3 - v), dims: [N, D] } });
  for (const delta of d.delta!) assert.ok(Math.abs(delta) < 1e-5, `delta ${delta}`);
});

test('a function output that is one of its inputs is passed on; one that no node writes (torch 1.13\'s broken Swin export) is refused in one line naming the function', async () => {
  const tee = { name: 'Tee', domain: MOD, input: ['a'], output: ['a', 'b'], opset_import: [{ domain: '', version: 17 }], node: [{ op_type: 'Tanh', input: ['a'], output: ['b'] }] };
  const calls: NodeProto[] = [
    { op_type: 'Tee', domain: MOD, name: 'tee', input: ['x'], output: ['same', 'squashed'] },
    { op_type: 'Concat', input: ['same', 'squashed'], output: ['both'], name: 'both', attribute: [{ name: 'axis', type: AttrType.INT, i: 1 }] },
    { op_type: 'MatMul', input: ['both', 'w'], output: ['logits'], name: 'head' },
  ];
  const withHead = (fns: object[]) => {
    const m = decodeModel(model(fns, calls));
    m.graph!.initializer = [makeTensor('w', [2 * D, C], values(2 * D * C), DataType.FLOAT)];
    return encodeModel(m);
  };
  const bytes = withHead([tee]);
  const ex = await Explainer.load(bytes);
  const r = await ex.attribute({ data: x, dims: [N, D] }, { target: [0, 1] });
  const weights = Array.from(tensorArray(decodeModel(bytes).graph!.initializer!.find((t) => t.name === 'w')!));
  // y_t = Σ_d x_d·w[d, t] + tanh(x_d)·w[D + d, t].
  const want = Array.from(x, (v, i) => { const t = [0, 1][Math.floor(i / D)]; const d = i % D; return weights[d * C + t] + (1 - Math.tanh(v) ** 2) * weights[(D + d) * C + t]; });
  assert.ok(relL2(r.attributions.data, Float32Array.from(want)) < 1e-6, `gradient vs closed form: ${relL2(r.attributions.data, Float32Array.from(want))}`);
  const broken = { ...tee, output: ['a', 'b', 'never'] };
  const m = decodeModel(withHead([broken]));
  m.graph!.node![0].output = ['same', 'squashed', 'lost'];
  await rejects(() => Explainer.load(encodeModel(m)), /function pkg\.mod\.Tee declares output 'never', which no node of its body writes \(a broken export\)$/);
});

test('a recursive local function is refused in one line naming the function', async () => {
  const loop = { ...act, node: [{ op_type: 'Act', domain: MOD, input: ['a'], output: ['b'] }] };
  await rejects(() => Explainer.load(model([loop], [{ op_type: 'Act', domain: MOD, input: ['x'], output: ['logits'] }])), /function pkg\.mod\.Act calls itself \(through pkg\.mod\.Act\)/);
});

// They were refused (skl2onnx 1.20 writes its KNNImputer functions at opset 21 in a model at 22).
test('functions that import the default domain at another opset than the model (older, newer) are read at the model\'s, as onnxruntime reads them: outputs equal its own, Softmax(axis 1) over [N, 1, C] of a body at opset 11 included (all ones, where opset 11 would flatten)', async () => {
  const softmaxHead = {
    name: 'Head', domain: MOD, input: ['a'], output: ['b'], opset_import: [{ domain: '', version: 11 }],
    node: [{ op_type: 'Softmax', input: ['a'], output: ['p'], attribute: [{ name: 'axis', type: AttrType.INT, i: 1 }] }, { op_type: 'Mul', input: ['p', 'a'], output: ['b'] }],
  };
  const head = (m: ModelProto) => {
    m.graph!.node!.push({ op_type: 'Reshape', input: ['logits', 'rows'], output: ['grid'], name: 'grid' }, { op_type: 'Head', domain: MOD, input: ['grid'], output: ['scores'], name: 'head' });
    m.graph!.initializer!.push(makeTensor('rows', [3], [0, 1, C], DataType.INT64));
    m.graph!.output = [valueInfo('scores', DataType.FLOAT, ['N', 1, C])];
    return encodeModel(m);
  };
  for (const [version, functions] of [[13, [{ ...act, opset_import: [{ domain: '', version: 13 }] }, block, softmaxHead]], [18, [act, { ...block, opset_import: [{ domain: '', version: 18 }, { domain: MOD, version: 1 }] }, softmaxHead]]] as const) {
    const bytes = head(decodeModel(model([...functions])));
    const s = await ort.InferenceSession.create(bytes, { logSeverityLevel: 3 });
    const want = (await s.run({ x: new ort.Tensor('float32', x, [N, D]) })).scores.data as Float32Array;
    await s.release();
    const r = await (await Explainer.load(bytes)).attribute({ data: x, dims: [N, D] }, { target: [1, 2] });
    assert.ok(relL2(r.outputs.scores.data, want) < 1e-6, `body at ${version}: outputs vs onnxruntime: rel L2 ${relL2(r.outputs.scores.data, want)}`);
  }
});

test.run();
