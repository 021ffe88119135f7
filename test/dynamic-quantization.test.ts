import * as ort from 'onnxruntime-node';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { canonicalForm } from '../rewriter/canonical-form';
import { AttrType, DataType, decodeModel, encodeModel, makeTensor, ModelProto, NodeProto, valueInfo } from '../rewriter/proto';
import { Explainer } from '../runtime';
import { relL2 } from './support/fixtures';
import { rng } from './support/gradcheck';
import { rejects } from './support/rejects';

/**
 * Dynamic quantization of a MatMul of two activations (quantize_dynamic without MatMulConstBOnly):
 * y = ReduceSum_j (fq(x) · fq(xᵀ))[i, j] for x [N, 3, 4], each operand through its own
 * DynamicQuantizeLinear, MatMulInteger of the two, Cast, Mul by Mul(s_a, s_b).
 */
const [N, R, C] = [3, 3, 4];
const rand = rng(3);
const x = Float32Array.from({ length: N * R * C }, () => (rand() * 2 - 1) * 2);

function model(opset = 13, after: NodeProto[] = []): Uint8Array {
  const node = (op_type: string, input: string[], output: string[], attribute: NodeProto['attribute'] = []): NodeProto => ({ op_type, input, output, name: output[0], attribute });
  const m: ModelProto = {
    ir_version: 8, opset_import: [{ domain: '', version: opset }], producer_name: 'quantize_dynamic-style',
    graph: {
      name: 'two-activations',
      node: [
        node('Transpose', ['x'], ['xt'], [{ name: 'perm', type: AttrType.INTS, ints: [0, 2, 1] }]),
        node('DynamicQuantizeLinear', ['x'], ['a_q', 'a_s', 'a_z']),
        node('DynamicQuantizeLinear', ['xt'], ['b_q', 'b_s', 'b_z']),
        node('MatMulInteger', ['a_q', 'b_q', 'a_z', 'b_z'], ['acc']),
        ...(after.length ? after : [
          node('Cast', ['acc'], ['acc_f'], [{ name: 'to', type: AttrType.INT, i: DataType.FLOAT }]),
          node('Mul', ['a_s', 'b_s'], ['scales']),
          node('Mul', ['acc_f', 'scales'], ['gram']),
        ]),
        node('ReduceSum', ['gram', 'axes'], ['y'], [{ name: 'keepdims', type: AttrType.INT, i: 0 }]),
      ],
      initializer: [{ name: 'axes', dims: [1], data_type: DataType.INT64, int64_data: [2] }],
      input: [valueInfo('x', DataType.FLOAT, ['N', R, C])],
      output: [valueInfo('y', DataType.FLOAT, ['N', R])],
    },
  };
  if (opset < 13) m.graph!.node![m.graph!.node!.length - 1] = { ...node('ReduceSum', ['gram'], ['y'], [{ name: 'axes', type: AttrType.INTS, ints: [2] }, { name: 'keepdims', type: AttrType.INT, i: 0 }]) };
  return encodeModel(m);
}

/** fq(row) = (q − zp)·s with DynamicQuantizeLinear's statistics of the row (round half to even). */
function fakeQuantize(row: number[]): number[] {
  const f = Math.fround;
  const even = (v: number) => (Math.abs(v % 1) === 0.5 ? 2 * Math.round(v / 2) : Math.round(v));
  const lo = Math.min(0, ...row);
  const hi = Math.max(0, ...row);
  const s = hi === lo ? 1 : f(f(hi - lo) / 255);
  const zp = even(Math.min(255, Math.max(0, f(-lo / s))));
  return row.map((v) => (Math.min(255, Math.max(0, even(f(v / s)) + zp)) - zp) * s);
}

test('MatMulInteger of two dynamically quantized activations: onnxruntime row by row gives its outputs; the gradient is the straight-through estimator\'s; DeepLIFT sums to delta', async () => {
  const ex = await Explainer.load(model());
  const targets = [0, 2, 1];
  const r = await ex.attribute({ data: x, dims: [N, R, C] }, { target: targets });
  const kernels = await ort.InferenceSession.create(model(), { logSeverityLevel: 3 });
  const alone: number[] = [];
  for (let n = 0; n < N; n++) alone.push(...(await kernels.run({ x: new ort.Tensor('float32', x.slice(n * R * C, (n + 1) * R * C), [1, R, C]) })).y.data as Float32Array);
  await kernels.release();
  assert.ok(relL2(r.outputs.y.data, alone) < 1e-6, `outputs vs onnxruntime row by row: ${relL2(r.outputs.y.data, alone)}`);
  // y_t = Σ_j Σ_m u[t, m]·u[j, m] with u = fq(x): ∂/∂x[i, m] = [i = t]·Σ_j u[j, m] + u[t, m] (STE).
  const want: number[] = [];
  for (let n = 0; n < N; n++) {
    const u = fakeQuantize(Array.from(x.subarray(n * R * C, (n + 1) * R * C)));
    const t = targets[n];
    for (let i = 0; i < R; i++) for (let m = 0; m < C; m++) want.push((i === t ? [0, 1, 2].reduce((s, j) => s + u[j * C + m], 0) : 0) + u[t * C + m]);
  }
  assert.ok(relL2(r.attributions.data, want) < 1e-5, `gradient vs the closed form: ${relL2(r.attributions.data, want)}`);
  const d = await ex.attribute({ data: x, dims: [N, R, C] }, { target: targets, method: 'deeplift', baseline: { data: x.map((v) => v * 0.3 - 0.1), dims: [N, R, C] } });
  for (const delta of d.delta!) assert.ok(Math.abs(delta) < 1e-5, `delta ${delta}`);
});

/**
 * A Keras Dense → ReLU → BatchNormalization head through quantize_dynamic: a unit dead on both passes
 * holds BatchNormalization's constant, and the next DynamicQuantizeLinear requantizes that unmoved
 * value with each pass's own scale, so its dequantized value moves where its input does not.
 */
function batchNormHead(): Uint8Array {
  const node = (op_type: string, input: string[], output: string[]): NodeProto => ({ op_type, input, output, name: output[0] });
  const w1 = [0.9, -0.4, 0.3, -1.2, 0.5, 0.8, -0.7, 0.2, 0.6, -0.3, 1.1, -0.9];
  const w2 = [0.7, -0.5, 1.3, 0.2, -0.8, 0.4, 0.9, -1.1];
  return encodeModel({
    ir_version: 8, opset_import: [{ domain: '', version: 13 }], producer_name: 'tf2onnx + quantize_dynamic-style',
    graph: {
      name: 'bn-head',
      initializer: [makeTensor('w1', [3, 4], w1, DataType.FLOAT), makeTensor('bn', [4], [0.35, -0.2, 0.6, 0.15], DataType.FLOAT), makeTensor('w2', [4, 2], w2, DataType.FLOAT)],
      node: [
        node('MatMul', ['x', 'w1'], ['h']), node('Relu', ['h'], ['a']), node('Add', ['a', 'bn'], ['b']),
        node('DynamicQuantizeLinear', ['b'], ['b_q', 'b_s', 'b_z']), node('DequantizeLinear', ['b_q', 'b_s', 'b_z'], ['b_dq']),
        node('MatMul', ['b_dq', 'w2'], ['y']),
      ],
      input: [valueInfo('x', DataType.FLOAT, ['N', 3])],
      output: [valueInfo('y', DataType.FLOAT, ['N', 2])],
    },
  });
}

// Summation lost 13–25 % on such an export (a tf2onnx Keras CNN through quantize_dynamic): δu of the
// unmoved units was dropped, and where only the zero point moved (a mirrored baseline), all of it.
test('DeepLIFT through dynamic quantization whose scale moves where the input does not (a dead unit\'s BatchNormalization constant, a mirrored baseline): summation holds; the scale\'s share goes to the row\'s extremes', async () => {
  const ex = await Explainer.load(batchNormHead());
  const x = { data: Float32Array.from([1.2, -0.7, 0.4, -0.3, 0.9, 1.5, 0.8, 0.2, -1.1]), dims: [3, 3] };
  // Row 0's units 1 and 3 are dead on both passes (h < 0), so b holds bn there on both.
  const baselines = [x.data.map((v) => 0.6 * v), x.data.map((v, i) => (i % 3 === 0 ? v : 0.5 - v)), new Float32Array(9)];
  for (const data of baselines) {
    const d = await ex.attribute(x, { method: 'deeplift', target: [0, 1, 1], baseline: { data, dims: [3, 3] } });
    const y = d.outputs.y.data;
    for (let r = 0; r < 3; r++) assert.ok(Math.abs(d.delta![r]) < 1e-6 * (1 + Math.abs(y[2 * r]) + Math.abs(y[2 * r + 1])), `row ${r}: delta ${d.delta![r]}`);
  }
  // x equal to its baseline except where the row's extreme moves: the scale's share (unmoved units) sits on the moved elements.
  const same = await ex.attribute(x, { method: 'deeplift', target: [0, 1, 1], baseline: { data: x.data.map((v, i) => (i === 0 ? 0.2 : v)), dims: [3, 3] } });
  assert.ok(Math.abs(same.delta![0]) < 1e-6, `delta ${same.delta![0]}`);
  assert.equal(Array.from(same.attributions.data.subarray(1)), new Array(8).fill(0));
});

// A saturated Tanh's −1 and 1 put −x_min/s on the tie 127.5 (zero point 128); a row minimum 2·10⁻⁷
// above −1 rounds it to 127, so the extreme's code moves by a level where its input barely does.
test('DeepLIFT through dynamic quantization across a zero point on a rounding tie (a saturated Tanh\'s ±1): summation holds', async () => {
  const node = (op_type: string, input: string[], output: string[]): NodeProto => ({ op_type, input, output, name: output[0] });
  const W = [0.6, -1.1, 0.4, 1.3, 0.2, -0.7, -0.5, 0.9, 1.2, 0.8, -0.3, 0.5, -1.4, 0.1, 0.9];
  const bytes = encodeModel({
    ir_version: 8, opset_import: [{ domain: '', version: 13 }],
    graph: {
      name: 'tie', initializer: [makeTensor('w', [5, 3], W, DataType.FLOAT)],
      node: [node('DynamicQuantizeLinear', ['x'], ['q', 's', 'z']), node('DequantizeLinear', ['q', 's', 'z'], ['u']), node('MatMul', ['u', 'w'], ['y'])],
      input: [valueInfo('x', DataType.FLOAT, ['N', 5])], output: [valueInfo('y', DataType.FLOAT, ['N', 3])],
    },
  });
  const x = { data: Float32Array.from([-0.999999821, 0.990772307, 1, 0.993086755, -0.967883766]), dims: [1, 5] };
  const d = await (await Explainer.load(bytes)).attribute(x, { method: 'deeplift', target: 0, baseline: { data: Float32Array.from([-1, 0.0585027188, 1, 0.96838069, -0.861479163]), dims: [1, 5] } });
  assert.ok(Math.abs(d.delta![0]) < 1e-6, `delta ${d.delta![0]}`);
});

// It was refused: per-row statistics need QuantizeLinear's axis (opset 13).
test('dynamic quantization below opset 13 (a quantize_dynamic of an opset-11 export): rebound to opset 13, explained as the opset-13 model is', async () => {
  const targets = [1, 0, 2];
  for (const method of ['gradient', 'deeplift']) {
    const [old, now] = await Promise.all([model(11), model()].map(async (m) => (await Explainer.load(m)).attribute({ data: x, dims: [N, R, C] }, { target: targets, method })));
    assert.ok(relL2(old.outputs.y.data, now.outputs.y.data) < 1e-6, `${method}: outputs`);
    assert.ok(relL2(old.attributions.data, now.attributions.data) < 1e-6, `${method}: rel L2 ${relL2(old.attributions.data, now.attributions.data)}`);
  }
});

test('a layer that is an output of the quantizer (read as other ops) is refused in one line naming its node, for every layer method and as the explained tensor', async () => {
  const ex = await Explainer.load(model());
  for (const method of ['gradient', 'gradient-shap', 'internal-influence', 'feature-ablation', 'layer-activation']) {
    await rejects(() => ex.attribute({ data: x, dims: [N, R, C] }, { method, layer: 'a_s', ...(method === 'layer-activation' ? {} : { target: 0 }), ...(method === 'gradient-shap' ? { samples: 2 } : {}) }),
      /layer 'a_s': an output of node 'a_q' \(DynamicQuantizeLinear, opset 13\), which is read as other ops here/);
  }
  // As the explained tensor too, for the perturbation methods (fuzz seed 1698: a session on the rewritten graph asked for it).
  for (const method of ['gradient', 'feature-ablation', 'occlusion']) {
    await rejects(() => ex.attribute({ data: x, dims: [N, R, C] }, { method, output: 'a_s', target: 0, ...(method === 'occlusion' ? { window: [1, 1] } : {}) }),
      /explained tensor 'a_s': an output of node 'a_q' \(DynamicQuantizeLinear, opset 13\), which is read as other ops here/);
  }
});

test('an output reached only through a dequantizer\'s scale (held fixed) is refused, not explained as zeros', async () => {
  const graph = {
    name: 'scale only', initializer: [makeTensor('q', [1, 4], [1, 2, 3, 4], DataType.INT32)],
    node: [{ op_type: 'DequantizeLinear', input: ['q', 'x'], output: ['v'], name: 'deq', attribute: [{ name: 'axis', type: AttrType.INT, i: 0 }] },
      { op_type: 'Tanh', input: ['v'], output: ['y'], name: 'tanh' }],
    input: [valueInfo('x', DataType.FLOAT, [1])], output: [{ name: 'y' }],
  };
  const ex = await Explainer.load(encodeModel({ ir_version: 8, opset_import: [{ domain: '', version: 13 }], graph }));
  await rejects(() => ex.attribute({ data: Float32Array.from([0.1]), dims: [1] }, { target: 1 }),
    /'y' has no gradient with respect to 'x': it depends on it only through node 'deq' \(DequantizeLinear, opset 13\), which holds its scale and zero point fixed/);
});

test('an integer chain of another form is left as it is, and the walk names the op it cannot differentiate', async () => {
  const other = model(13, [
    { op_type: 'Cast', input: ['acc'], output: ['acc_f'], name: 'cast', attribute: [{ name: 'to', type: AttrType.INT, i: DataType.FLOAT }] },
    { op_type: 'Mul', input: ['acc_f', 'a_s'], output: ['gram'], name: 'one scale' },
  ]);
  const ex = await Explainer.load(other);
  await rejects(() => ex.attribute({ data: x, dims: [N, R, C] }, { target: [0, 0, 0] }), /no backward rule for node 'a_q' \(DynamicQuantizeLinear, opset 13\)/);
});

/**
 * A BERT block as onnxruntime's quantiser writes an optimised model: QEmbedLayerNormalization
 * (uint8 tables, gamma and beta with zero points), DynamicQuantizeLinear, QAttention (int8 weights,
 * the embedding's mask_index), then positions averaged into 3 scores. `float` writes the same
 * function with the float fused ops on the dequantized values and an explicit quantize–dequantize.
 */
function quantizedBert(float: boolean): { model: Uint8Array; ids: number[] } {
  const [V, P, H, L] = [12, 8, 4, 5];
  const r = rng(9);
  const codes = (n: number) => Array.from({ length: n }, () => Math.floor(r() * 256));
  const ints = (n: number) => Array.from({ length: n }, () => Math.floor(r() * 255) - 127);
  const tables: [string, number[], number[], number, number][] = [
    ['word', [V, H], codes(V * H), 0.02, 128], ['position', [P, H], codes(P * H), 0.01, 120], ['gamma', [H], codes(H), 0.01, 10], ['beta', [H], codes(H), 0.004, 128],
  ];
  const weights = ints(H * 3 * H);
  const dequantized = (v: number[], s: number, z: number) => v.map((q) => (q - z) * s);
  const t = (name: string, dims: number[], values: number[], type: number) => (type === DataType.UINT8 || type === DataType.INT8 ? { name, dims, data_type: type, raw_data: Uint8Array.from(values, (v) => v & 255) } : makeTensor(name, dims, values, type));
  const node = (op_type: string, input: string[], output: string[], domain = '', attribute: NodeProto['attribute'] = []): NodeProto => ({ op_type, domain, input, output, name: output[0], attribute });
  const heads = [{ name: 'num_heads', type: AttrType.INT, i: 2 }];
  const initializer = [
    ...tables.flatMap(([n, dims, v, sc, z]) => (float ? [t(n, dims, dequantized(v, sc, z), DataType.FLOAT)] : [t(n, dims, v, DataType.UINT8), t(`${n}_scale`, [], [sc], DataType.FLOAT), t(`${n}_zero_point`, [], [z], DataType.UINT8)])),
    ...(float ? [t('qkv', [H, 3 * H], dequantized(weights, 0.01, 0), DataType.FLOAT)] : [t('qkv', [H, 3 * H], weights, DataType.INT8), t('qkv_scale', [], [0.01], DataType.FLOAT), t('qkv_zero_point', [], [0], DataType.INT8)]),
    t('bias', [3 * H], Array.from({ length: 3 * H }, () => r() - 0.5), DataType.FLOAT), t('head', [H, 3], Array.from({ length: 3 * H }, () => r() * 2 - 1), DataType.FLOAT)
  ];
  const embed = float
    ? node('EmbedLayerNormalization', ['ids32', '', 'word', 'position', '', 'gamma', 'beta', 'mask32'], ['emb', 'mask_index'], 'com.microsoft')
    : node('QEmbedLayerNormalization', ['ids32', '', 'word', 'position', '', 'gamma', 'beta', 'mask32', 'word_scale', 'position_scale', '', 'gamma_scale', 'beta_scale', 'word_zero_point', 'position_zero_point', '', 'gamma_zero_point', 'beta_zero_point'], ['emb', 'mask_index'], 'com.microsoft');
  const attention = float
    ? [node('DequantizeLinear', ['emb_q', 'emb_s', 'emb_z'], ['emb_dq']), node('Attention', ['emb_dq', 'qkv', 'bias', 'mask_index'], ['context'], 'com.microsoft', heads)]
    : [node('QAttention', ['emb_q', 'qkv', 'bias', 'emb_s', 'qkv_scale', 'mask_index', 'emb_z', 'qkv_zero_point'], ['context'], 'com.microsoft', heads)];
  const m: ModelProto = {
    ir_version: 8, opset_import: [{ domain: '', version: 13 }, { domain: 'com.microsoft', version: 1 }], producer_name: 'quantize_dynamic of an optimised model',
    graph: {
      name: 'qbert', initializer,
      node: [
        node('Cast', ['input_ids'], ['ids32'], '', [{ name: 'to', type: AttrType.INT, i: DataType.INT32 }]), node('Cast', ['attention_mask'], ['mask32'], '', [{ name: 'to', type: AttrType.INT, i: DataType.INT32 }]),
        { ...embed, attribute: [{ name: 'epsilon', type: AttrType.FLOAT, f: 1e-12 }] },
        node('DynamicQuantizeLinear', ['emb'], ['emb_q', 'emb_s', 'emb_z']), ...attention,
        node('ReduceMean', ['context'], ['pooled'], '', [{ name: 'axes', type: AttrType.INTS, ints: [1] }, { name: 'keepdims', type: AttrType.INT, i: 0 }]),
        node('MatMul', ['pooled', 'head'], ['scores']),
      ],
      input: [valueInfo('input_ids', DataType.INT64, ['N', L]), valueInfo('attention_mask', DataType.INT64, ['N', L])],
      output: [valueInfo('scores', DataType.FLOAT, ['N', 3])],
    },
  };
  return { model: encodeModel(m), ids: [1, 5, 7, 2, 0, 3, 11, 4, 9, 8] };
}

test('QEmbedLayerNormalization and QAttention (quantize_dynamic of an optimised BERT): onnxruntime\'s kernels row by row give our outputs; the gradient is that of the float fused ops on dequantized values; DeepLIFT sums to delta', async () => {
  const { model, ids } = quantizedBert(false);
  const mask = [1, 1, 1, 1, 0, 1, 1, 1, 1, 1];
  const big = (v: number[]) => BigInt64Array.from(v.map(BigInt));
  const kernels = await ort.InferenceSession.create(model, { logSeverityLevel: 3 });
  const alone: number[] = [];
  for (const row of [0, 1]) alone.push(...(await kernels.run({ input_ids: new ort.Tensor('int64', big(ids.slice(row * 5, row * 5 + 5)), [1, 5]), attention_mask: new ort.Tensor('int64', big(mask.slice(row * 5, row * 5 + 5)), [1, 5]) })).scores.data as Float32Array);
  await kernels.release();
  const ex = await Explainer.load(model);
  assert.is(ex.tokens?.ids.name, 'input_ids');
  const input = { data: big(ids), dims: [2, 5] };
  const feeds = { attention_mask: { data: big(mask), dims: [2, 5] } };
  const r = await ex.attribute(input, { target: [0, 2], feeds });
  assert.ok(relL2(r.outputs.scores.data, alone) < 1e-5, `outputs vs the QLinear kernels row by row: ${relL2(r.outputs.scores.data, alone)}`);
  const reference = await (await Explainer.load(quantizedBert(true).model)).attribute(input, { target: [0, 2], feeds });
  assert.ok(relL2(r.attributions.data, reference.attributions.data) < 1e-6, `gradient vs the float fused ops: ${relL2(r.attributions.data, reference.attributions.data)}`);
  const d = await ex.attribute(input, { target: [0, 2], feeds, method: 'deeplift' });
  for (const delta of d.delta!) assert.ok(Math.abs(delta) < 1e-5, `delta ${delta}`);
});

/**
 * The MatMuls of a dynamically quantized MLP as onnxruntime's optimiser saves them: x [N, 5] →
 * DynamicQuantizeMatMul (int8 weights, per-column scales and zero points, bias) → Relu →
 * DynamicQuantizeLinear → MatMulIntegerToFloat (uint8 weights, bias) → 3 scores. `float` writes the
 * same function in standard ops: DynamicQuantizeLinear → DequantizeLinear → MatMul with the
 * dequantized weights → Add.
 */
function fusedMlp(float: boolean, batch: number | string = 'N'): Uint8Array {
  const [K, H, O] = [5, 4, 3];
  const r = rng(21);
  const w1 = Array.from({ length: K * H }, () => Math.floor(r() * 255) - 127);
  const w2 = Array.from({ length: H * O }, () => Math.floor(r() * 256));
  const [s1, z1, s2, z2] = [[0.011, 0.02, 0.007, 0.015], [3, -2, 0, 5], [0.013], [121]];
  const dequantized = (w: number[], s: number[], z: number[], cols: number) => w.map((q, i) => (q - z[z.length === 1 ? 0 : i % cols]) * s[s.length === 1 ? 0 : i % cols]);
  const bytes = (name: string, dims: number[], v: number[], type: number) => ({ name, dims, data_type: type, raw_data: Uint8Array.from(v, (q) => q & 255) });
  const node = (op_type: string, input: string[], output: string[], domain = ''): NodeProto => ({ op_type, domain, input, output, name: output[0] });
  const initializer = [
    makeTensor('b1', [H], [0.1, -0.2, 0.05, 0.3], DataType.FLOAT), makeTensor('b2', [O], [0.02, -0.1, 0.2], DataType.FLOAT),
    ...(float
      ? [makeTensor('w1', [K, H], dequantized(w1, s1, z1, H), DataType.FLOAT), makeTensor('w2', [H, O], dequantized(w2, s2, z2, O), DataType.FLOAT)]
      : [bytes('w1', [K, H], w1, DataType.INT8), makeTensor('s1', [H], s1, DataType.FLOAT), bytes('z1', [H], z1, DataType.INT8),
        bytes('w2', [H, O], w2, DataType.UINT8), makeTensor('s2', [], s2, DataType.FLOAT), bytes('z2', [], z2, DataType.UINT8)]),
  ];
  const layer = (x: string, out: string, k: number) => [
    node('DynamicQuantizeLinear', [x], [`${x}_q`, `${x}_s`, `${x}_z`]), node('DequantizeLinear', [`${x}_q`, `${x}_s`, `${x}_z`], [`${x}_dq`]),
    node('MatMul', [`${x}_dq`, `w${k}`], [`${out}_mm`]), node('Add', [`${out}_mm`, `b${k}`], [out]),
  ];
  const m: ModelProto = {
    ir_version: 8, opset_import: [{ domain: '', version: 13 }, { domain: 'com.microsoft', version: 1 }], producer_name: 'onnxruntime-optimised quantize_dynamic',
    graph: {
      name: 'fused-mlp', initializer,
      node: [
        ...(float ? layer('x', 'h', 1) : [node('DynamicQuantizeMatMul', ['x', 'w1', 's1', 'z1', 'b1'], ['h'], 'com.microsoft')]),
        node('Relu', ['h'], ['a']),
        ...(float ? layer('a', 'scores', 2) : [node('DynamicQuantizeLinear', ['a'], ['a_q', 'a_s', 'a_z']), node('MatMulIntegerToFloat', ['a_q', 'w2', 'a_s', 's2', 'a_z', 'z2', 'b2'], ['scores'], 'com.microsoft')]),
      ],
      input: [valueInfo('x', DataType.FLOAT, [batch, K])],
      output: [valueInfo('scores', DataType.FLOAT, [batch, O])],
    },
  };
  return encodeModel(m);
}

test('DynamicQuantizeMatMul and MatMulIntegerToFloat (onnxruntime\'s fusions of dynamic quantization): onnxruntime\'s kernels row by row give our outputs; the gradient is that of the same function in standard ops; DeepLIFT sums to delta', async () => {
  const model = fusedMlp(false);
  const input = Float32Array.from({ length: 3 * 5 }, (_, i) => Math.sin(1.7 * i) * 2);
  const kernels = await ort.InferenceSession.create(model, { logSeverityLevel: 3 });
  const alone: number[] = [];
  for (const row of [0, 1, 2]) alone.push(...(await kernels.run({ x: new ort.Tensor('float32', input.slice(row * 5, row * 5 + 5), [1, 5]) })).scores.data as Float32Array);
  await kernels.release();
  const targets = [0, 2, 1];
  const r = await (await Explainer.load(model)).attribute({ data: input, dims: [3, 5] }, { target: targets });
  assert.ok(relL2(r.outputs.scores.data, alone) < 1e-6, `outputs vs the kernels row by row: ${relL2(r.outputs.scores.data, alone)}`);
  const reference = await (await Explainer.load(fusedMlp(true))).attribute({ data: input, dims: [3, 5] }, { target: targets });
  assert.ok(relL2(reference.outputs.scores.data, alone) < 1e-6, `the standard-ops form computes the same: ${relL2(reference.outputs.scores.data, alone)}`);
  assert.ok(relL2(r.attributions.data, reference.attributions.data) < 1e-6, `gradient vs the standard-ops form: ${relL2(r.attributions.data, reference.attributions.data)}`);
  const d = await (await Explainer.load(model)).attribute({ data: input, dims: [3, 5] }, { target: targets, method: 'deeplift', baseline: { data: input.map((v) => 0.5 - v), dims: [3, 5] } });
  for (const delta of d.delta!) assert.ok(Math.abs(delta) < 1e-5, `delta ${delta}`);
});

// Declared at batch 1, the model had no batch axis to take statistics along, so its quantizer stayed
// as it was and the gradient was refused at its DequantizeLinear (a scale computed from the input).
test('DynamicQuantizeMatMul and MatMulIntegerToFloat in a model that fixes batch 1: explained as the batch-free model is, row by row', async () => {
  const input = Float32Array.from({ length: 2 * 5 }, (_, i) => Math.cos(1.3 * i) * 2);
  const targets = [1, 2];
  const [fixed, free] = await Promise.all([fusedMlp(false, 1), fusedMlp(false)].map((m) => Explainer.load(m, { warn: () => {} })));
  for (const method of ['gradient', 'deeplift']) {
    const [a, b] = [await fixed.attribute({ data: input, dims: [2, 5] }, { target: targets, method }), await free.attribute({ data: input, dims: [2, 5] }, { target: targets, method })];
    assert.ok(relL2(a.attributions.data, b.attributions.data) < 1e-6, `${method}: rel L2 ${relL2(a.attributions.data, b.attributions.data)}`);
  }
});

// A DequantizeLinear without a zero point outputs from uint8 at onnxruntime's optimiser's hands: when it
// moved the pair around a Reshape it requantized the int8 activations to uint8, clamping the negative ones.
test('MatMulIntegerToFloat with an int8 activation [1, S, K] and no zero point: the reading at onnxruntime\'s full optimisation gives the kernel\'s outputs', async () => {
  const i8 = (name: string, dims: number[], v: number[]) => ({ name, dims, data_type: DataType.INT8, raw_data: Uint8Array.from(v, (q) => q & 255) });
  const m: ModelProto = {
    ir_version: 8, opset_import: [{ domain: '', version: 17 }, { domain: 'com.microsoft', version: 1 }],
    graph: {
      name: 'int8-activation',
      node: [{ op_type: 'MatMulIntegerToFloat', domain: 'com.microsoft', input: ['a', 'w', 'a_scale', 'w_scale', '', '', 'bias'], output: ['y'], name: 'mm' }],
      initializer: [i8('w', [2, 3], [17, -90, 45, 120, -3, -64]), makeTensor('a_scale', [], [0.04], DataType.FLOAT), makeTensor('w_scale', [], [0.01], DataType.FLOAT), makeTensor('bias', [3], [0.1, -0.2, 0.3], DataType.FLOAT)],
      input: [valueInfo('a', DataType.INT8, [1, 3, 2])],
      output: [valueInfo('y', DataType.FLOAT, [1, 3, 3])],
    },
  };
  const a = new ort.Tensor('int8', Int8Array.from([-100, 30, 7, -1, 127, -128]), [1, 3, 2]);
  const run = async (bytes: Uint8Array, graphOptimizationLevel: 'disabled' | 'all') => {
    const s = await ort.InferenceSession.create(bytes, { logSeverityLevel: 3, graphOptimizationLevel });
    const y = Array.from((await s.run({ a })).y.data as Float32Array);
    await s.release();
    return y;
  };
  const kernel = await run(encodeModel(m), 'disabled');
  const read = await run(encodeModel(canonicalForm(decodeModel(encodeModel(m)), 'int8.onnx')), 'all');
  assert.ok(relL2(read, kernel) < 1e-6, `${read} against ${kernel}`);
});

test.run();
