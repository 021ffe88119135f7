import * as ort from 'onnxruntime-node';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { unfuseTransformerOps } from '../rewriter/ort-fusions';
import { AttrType, DataType, decodeModel, encodeModel, makeTensor, ModelProto, NodeProto, valueInfo } from '../rewriter/proto';
import { Explainer } from '../runtime';
import { centralDifferences } from './support/central';
import { relL2 } from './support/fixtures';
import { rng } from './support/gradcheck';
import { rejects } from './support/rejects';

/**
 * One com.microsoft.Attention (merged QKV weights, 2 heads) or MultiHeadAttention on x [2, 4, 6], then a head that
 * averages the positions and projects to 3 scores, so each row has a target. Its mask is a graph
 * input (int32) of the given form.
 */
const [B, S, D, HEADS] = [2, 4, 6, 2];
const rand = rng(11);
const values = (n: number, scale = 1) => Array.from({ length: n }, () => (rand() * 2 - 1) * scale);
const x = Float32Array.from(values(B * S * D, 1.5));

interface Form { mask?: { dims: number[]; data: number[] }; attrs?: NodeProto['attribute']; sizes?: [number, number, number]; attentionBias?: boolean; separate?: boolean; past?: number }

/** Attention with merged QKV weights, or (separate) MatMuls to query, key, value and MultiHeadAttention with their bias. */
function attentionModel(form: Form): Uint8Array {
  const [q, k, v] = form.sizes ?? [6, 6, 6];
  const ms = (name: string, i: number): NodeProto['attribute'] => [{ name, type: AttrType.INT, i }];
  const rel = form.attentionBias ? 'rel' : '';
  const attribute = [...ms('num_heads', HEADS)!, ...(form.sizes && !form.separate ? [{ name: 'qkv_hidden_sizes', type: AttrType.INTS, ints: form.sizes }] : []), ...(form.attrs ?? [])];
  const fused: NodeProto[] = form.separate
    ? [
      ...['q', 'k', 'v'].map((t, i): NodeProto => ({ op_type: 'Slice', input: ['w', `start${i}`, `end${i}`, 'last'], output: [`w${t}`], name: `w${t}` })),
      ...['q', 'k', 'v'].map((t): NodeProto => ({ op_type: 'MatMul', input: ['x', `w${t}`], output: [t], name: t })),
      {
        op_type: 'MultiHeadAttention', domain: 'com.microsoft', name: 'attention', attribute,
        input: ['q', 'k', 'v', 'b', form.mask ? 'mask' : '', rel, ...(form.past ? ['past_key', 'past_value'] : [])], output: ['context', ...(form.past ? ['present_key', 'present_value'] : [])],
      },
    ]
    : [{ op_type: 'Attention', domain: 'com.microsoft', input: ['x', 'w', 'b', form.mask ? 'mask' : '', form.past ? 'past' : '', rel], output: ['context', ...(form.past ? ['present'] : [])], name: 'attention', attribute }];
  const bounds = [0, q, q + k, q + k + v];
  const m: ModelProto = {
    ir_version: 8, opset_import: [{ domain: '', version: 13 }, { domain: 'com.microsoft', version: 1 }], producer_name: 'ort-optimizer-style',
    graph: {
      name: 'attention',
      node: [
        ...fused,
        { op_type: 'ReduceMean', input: ['context'], output: ['pooled'], name: 'pool', attribute: [{ name: 'axes', type: AttrType.INTS, ints: [1] }, { name: 'keepdims', type: AttrType.INT, i: 0 }] },
        { op_type: 'MatMul', input: ['pooled', 'head'], output: ['scores'], name: 'head' },
      ],
      initializer: [
        makeTensor('w', [D, q + k + v], values(D * (q + k + v), 0.8), DataType.FLOAT), makeTensor('b', [q + k + v], values(q + k + v, 0.2), DataType.FLOAT),
        makeTensor('head', [v, 3], values(v * 3), DataType.FLOAT),
        ...(form.separate ? [0, 1, 2].flatMap((i) => [makeTensor(`start${i}`, [1], [bounds[i]], DataType.INT64), makeTensor(`end${i}`, [1], [bounds[i + 1]], DataType.INT64)]) : []),
        ...(form.separate ? [makeTensor('last', [1], [1], DataType.INT64)] : []),
        ...(form.attentionBias ? [makeTensor('rel', [1, HEADS, S, S], values(HEADS * S * S), DataType.FLOAT)] : []),
      ],
      input: [
        valueInfo('x', DataType.FLOAT, ['N', S, D]), ...(form.mask ? [valueInfo('mask', DataType.INT32, ['N', ...form.mask.dims.slice(1).map((d) => (form.past ? 'T' : d))])] : []),
        ...(!form.past ? [] : form.separate ? ['past_key', 'past_value'].map((t) => valueInfo(t, DataType.FLOAT, ['N', HEADS, 'P', v / HEADS])) : [valueInfo('past', DataType.FLOAT, [2, 'N', HEADS, 'P', v / HEADS])]),
      ],
      output: [
        valueInfo('scores', DataType.FLOAT, ['N', 3]),
        ...(!form.past ? [] : form.separate ? ['present_key', 'present_value'].map((t) => valueInfo(t, DataType.FLOAT, ['N', HEADS, 'T', v / HEADS])) : [valueInfo('present', DataType.FLOAT, [2, 'N', HEADS, 'T', v / HEADS])]),
      ],
    },
  };
  return encodeModel(m);
}

/** A past of `positions` per row (Attention's stacked [2, B, heads, P, d], or MultiHeadAttention's past_key and past_value); none without form.past. */
function pastFeeds(form: Form, positions = form.past ?? 0): Record<string, { data: Float32Array; dims: number[] }> {
  if (!form.past) return {};
  const head = (form.sizes?.[2] ?? 6) / HEADS;
  const one = (dims: number[]) => ({ data: Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(1.7 * i)), dims });
  return form.separate ? { past_key: one([B, HEADS, positions, head]), past_value: one([B, HEADS, positions, head]) } : { past: one([2, B, HEADS, positions, head]) };
}

async function kernelOutputs(model: Uint8Array, input: Float32Array, form: Form, positions = form.past ?? 0): Promise<Record<string, Float32Array>> {
  const s = await ort.InferenceSession.create(model, { logSeverityLevel: 3 });
  const feeds: Record<string, ort.Tensor> = { x: new ort.Tensor('float32', input, [B, S, D]) };
  if (form.mask) feeds.mask = new ort.Tensor('int32', Int32Array.from(form.mask.data), form.mask.dims);
  for (const [name, t] of Object.entries(pastFeeds(form, positions))) feeds[name] = new ort.Tensor('float32', t.data, t.dims);
  const out = await s.run(feeds);
  await s.release();
  return Object.fromEntries(Object.entries(out).map(([k, t]) => [k, t.data as Float32Array]));
}

async function kernelScores(model: Uint8Array, input: Float32Array, form: Form, positions?: number): Promise<number[]> {
  return Array.from((await kernelOutputs(model, input, form, positions)).scores);
}

const cases: [string, Form][] = [
  ['raw mask [B, T] with a hole and right padding', { mask: { dims: [B, S], data: [1, 0, 1, 1, 1, 1, 1, 0] } }],
  ['sequence lengths [B] (right padding)', { mask: { dims: [B], data: [4, 2] } }],
  ['raw mask [B, S, T]', { mask: { dims: [B, S, S], data: values(B * S * S).map((v, i) => (v > -0.3 || i % S === 0 ? 1 : 0)) } }],
  ['unidirectional with a raw mask, mask_filter_value −1e9', { mask: { dims: [B, S], data: [1, 1, 1, 1, 1, 1, 1, 0] }, attrs: [{ name: 'unidirectional', type: AttrType.INT, i: 1 }, { name: 'mask_filter_value', type: AttrType.FLOAT, f: -1e9 }] }],
  // onnxruntime's kernels mask future keys in full, whatever mask_filter_value says (it sets the padding mask's).
  ['unidirectional with a raw mask, mask_filter_value −3', { mask: { dims: [B, S], data: [1, 1, 1, 1, 1, 1, 1, 0] }, attrs: [{ name: 'unidirectional', type: AttrType.INT, i: 1 }, { name: 'mask_filter_value', type: AttrType.FLOAT, f: -3 }] }],
  ['MultiHeadAttention unidirectional, mask_filter_value −2', { separate: true, attrs: [{ name: 'unidirectional', type: AttrType.INT, i: 1 }, { name: 'mask_filter_value', type: AttrType.FLOAT, f: -2 }] }],
  ['qkv_hidden_sizes 4, 4, 8, scale 0.3, attention bias, no mask', { sizes: [4, 4, 8], attrs: [{ name: 'scale', type: AttrType.FLOAT, f: 0.3 }], attentionBias: true }],
  ['MultiHeadAttention with bias and a key-padding mask [B, T]', { separate: true, mask: { dims: [B, S], data: [1, 1, 0, 1, 1, 1, 1, 0] } }],
  ['MultiHeadAttention with key lengths [B], unidirectional, attention bias', { separate: true, mask: { dims: [B], data: [3, 4] }, attrs: [{ name: 'unidirectional', type: AttrType.INT, i: 1 }], attentionBias: true }],
];

for (const [what, form] of cases) {
  test(`com.microsoft Attention, ${what}: outputs equal onnxruntime's kernel, the gradient its central differences, DeepLIFT sums to delta`, () => explainsAsKernel(form));
}

/** The Explainer on the model of `form` against onnxruntime's kernel: outputs, the gradient against central differences, DeepLIFT's delta. */
async function explainsAsKernel(form: Form): Promise<void> {
  const model = attentionModel(form);
  const ex = await Explainer.load(model);
  const feeds = form.mask ? { mask: { data: Float32Array.from(form.mask.data), dims: form.mask.dims } } : undefined;
  const targets = [2, 0];
  const r = await ex.attribute({ data: x, dims: [B, S, D] }, { target: targets, feeds });
  const want = await kernelScores(model, x, form);
  assert.ok(relL2(r.outputs.scores.data, want) < 1e-6, `outputs: rel L2 ${relL2(r.outputs.scores.data, want)}`);

  const row = (i: number) => Math.floor(i / (S * D));
  const fd = await centralDifferences(x, 1e-3, (v) => kernelScores(model, v, form), (i) => row(i) * 3 + targets[row(i)]);
  assert.ok(relL2(r.attributions.data, fd) < 2e-3, `gradient vs central differences: rel L2 ${relL2(r.attributions.data, fd)}`);
  const d = await ex.attribute({ data: x, dims: [B, S, D] }, { target: targets, feeds, method: 'deeplift' });
  for (const delta of d.delta!) assert.ok(Math.abs(delta) < 1e-5, `delta ${delta}`);
}

const unidirectional = [{ name: 'unidirectional', type: AttrType.INT, i: 1 }];
const pastCases: [string, Form][] = [
  ['MultiHeadAttention, past_key and past_value of 2 positions, unidirectional', { separate: true, past: 2, attrs: unidirectional }],
  ['MultiHeadAttention, past_key and past_value of 3 positions, unidirectional, a raw mask over past and new keys', { separate: true, past: 3, mask: { dims: [B, S + 3], data: [1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1] }, attrs: unidirectional }],
  ['MultiHeadAttention, past_key and past_value of 3 positions, key lengths [B]', { separate: true, past: 3, mask: { dims: [B], data: [7, 5] } }],
];

for (const [what, form] of pastCases) {
  test(`com.microsoft ${what}: with the past fed, the reading gives onnxruntime's outputs and presents; with the default empty past, the gradient matches central differences and DeepLIFT sums to delta`, async () => {
    const model = attentionModel(form);
    const kernel = await kernelOutputs(model, x, form);
    const read = await kernelOutputs(encodeModel(unfuseTransformerOps(decodeModel(model), 'attention.onnx')), x, form);
    for (const name of Object.keys(kernel)) assert.ok(relL2(read[name], kernel[name]) < 1e-6, `${name}: rel L2 ${relL2(read[name], kernel[name])}`);
    // Without a past, the mask covers the new keys only.
    const mask = form.mask && form.mask.dims.length === 2 ? { dims: [B, S], data: form.mask.data.filter((_, i) => i % (S + form.past!) >= form.past!) } : form.mask && { dims: [B], data: form.mask.data.map((l) => l - form.past!) };
    const fresh: Form = { ...form, mask };
    const ex = await Explainer.load(model, { warn: () => undefined });
    const feeds = mask ? { mask: { data: Float32Array.from(mask.data), dims: mask.dims } } : undefined;
    const targets = [1, 2];
    const r = await ex.attribute({ data: x, dims: [B, S, D] }, { target: targets, feeds });
    assert.ok(relL2(r.outputs.scores.data, await kernelScores(model, x, fresh, 0)) < 1e-6, 'outputs with an empty past');
    const row = (i: number) => Math.floor(i / (S * D));
    const fd = await centralDifferences(x, 1e-3, (v) => kernelScores(model, v, fresh, 0), (i) => row(i) * 3 + targets[row(i)]);
    assert.ok(relL2(r.attributions.data, fd) < 2e-3, `gradient vs central differences: rel L2 ${relL2(r.attributions.data, fd)}`);
    const d = await ex.attribute({ data: x, dims: [B, S, D] }, { target: targets, feeds, method: 'deeplift' });
    for (const delta of d.delta!) assert.ok(Math.abs(delta) < 1e-5, `delta ${delta}`);
  });
}

/**
 * What onnxruntime's extended optimisation saves for the CPU: FusedConv (Conv + activation, with the
 * residual sum input Z) → GlobalAveragePool → Flatten → FusedGemm (Gemm + activation) on x [2, 3, 5, 5].
 */
function fusedModel(conv: { activation: string; params?: number[]; sum?: boolean }, gemm: { activation: string; alpha?: number; beta?: number }): Uint8Array {
  const str = (name: string, v: string) => ({ name, type: AttrType.STRING, s: new TextEncoder().encode(v) });
  const m: ModelProto = {
    ir_version: 8, opset_import: [{ domain: '', version: 13 }, { domain: 'com.microsoft', version: 1 }], producer_name: 'ort-extended-optimisation',
    graph: {
      name: 'fused',
      node: [
        ...(conv.sum ? [{ op_type: 'Conv', input: ['x', 'w0'], output: ['skip'], name: 'skip', attribute: [{ name: 'kernel_shape', type: AttrType.INTS, ints: [1, 1] }] }] : []),
        {
          op_type: 'FusedConv', domain: 'com.microsoft', input: ['x', 'w', 'b', ...(conv.sum ? ['skip'] : [])], output: ['h'], name: 'conv',
          attribute: [{ name: 'kernel_shape', type: AttrType.INTS, ints: [3, 3] }, { name: 'pads', type: AttrType.INTS, ints: [1, 1, 1, 1] }, str('activation', conv.activation), ...(conv.params ? [{ name: 'activation_params', type: AttrType.FLOATS, floats: conv.params }] : [])],
        },
        { op_type: 'GlobalAveragePool', input: ['h'], output: ['pooled'], name: 'pool' },
        { op_type: 'Flatten', input: ['pooled'], output: ['flat'], name: 'flatten', attribute: [{ name: 'axis', type: AttrType.INT, i: 1 }] },
        {
          op_type: 'FusedGemm', domain: 'com.microsoft', input: ['flat', 'wg', 'bg'], output: ['scores'], name: 'gemm',
          attribute: [{ name: 'transB', type: AttrType.INT, i: 1 }, str('activation', gemm.activation), ...(['alpha', 'beta'] as const).flatMap((k) => (gemm[k] === undefined ? [] : [{ name: `activation_${k}`, type: AttrType.FLOAT, f: gemm[k] }]))],
        },
      ],
      initializer: [
        makeTensor('w', [4, 3, 3, 3], values(108, 0.5), DataType.FLOAT), makeTensor('b', [4], values(4, 0.2), DataType.FLOAT),
        makeTensor('w0', [4, 3, 1, 1], values(12, 0.5), DataType.FLOAT), makeTensor('wg', [3, 4], values(12, 1.5), DataType.FLOAT), makeTensor('bg', [3], values(3, 0.3), DataType.FLOAT),
      ],
      input: [valueInfo('x', DataType.FLOAT, ['N', 3, 5, 5])],
      output: [valueInfo('scores', DataType.FLOAT, ['N', 3])],
    },
  };
  return encodeModel(m);
}

const image = Float32Array.from(values(2 * 75, 1.5));
type ConvForm = Parameters<typeof fusedModel>[0];
type GemmForm = Parameters<typeof fusedModel>[1];
const fusedCases: [string, ConvForm, GemmForm][] = [
  ['LeakyRelu 0.2 + residual sum; HardSigmoid 0.3, 0.4', { activation: 'LeakyRelu', params: [0.2], sum: true }, { activation: 'HardSigmoid', alpha: 0.3, beta: 0.4 }],
  ['Clip −0.5..1.5; Tanh', { activation: 'Clip', params: [-0.5, 1.5] }, { activation: 'Tanh' }],
  ['Relu; LeakyRelu 0.05', { activation: 'Relu' }, { activation: 'LeakyRelu', alpha: 0.05 }],
];
for (const [what, conv, gemm] of fusedCases) {
  test(`com.microsoft FusedConv / FusedGemm (${what}): outputs equal onnxruntime's kernels, the gradient their central differences, DeepLIFT sums to delta`, async () => {
    const model = fusedModel(conv, gemm);
    const run = async (input: Float32Array) => {
      const s = await ort.InferenceSession.create(model, { logSeverityLevel: 3 });
      const out = Array.from((await s.run({ x: new ort.Tensor('float32', input, [2, 3, 5, 5]) })).scores.data as Float32Array);
      await s.release();
      return out;
    };
    const ex = await Explainer.load(model);
    const targets = [0, 2];
    const r = await ex.attribute({ data: image, dims: [2, 3, 5, 5] }, { target: targets });
    assert.ok(relL2(r.outputs.scores.data, await run(image)) < 1e-6, `outputs: rel L2 ${relL2(r.outputs.scores.data, await run(image))}`);
    const row = (i: number) => Math.floor(i / 75);
    const fd = await centralDifferences(image, 1e-3, run, (i) => row(i) * 3 + targets[row(i)]);
    assert.ok(relL2(r.attributions.data, fd) < 2e-3, `gradient vs central differences: rel L2 ${relL2(r.attributions.data, fd)}`);
    const d = await ex.attribute({ data: image, dims: [2, 3, 5, 5] }, { target: targets, method: 'deeplift' });
    for (const delta of d.delta!) assert.ok(Math.abs(delta) < 1e-5, `delta ${delta}`);
  });
}

test('onnxruntime\'s RMS forms (com.microsoft SkipSimplifiedLayerNormalization with bias and its sum output, SimplifiedLayerNormalization at opset 13): outputs equal the kernels, the gradient their central differences, DeepLIFT sums to delta', async () => {
  const m: ModelProto = {
    ir_version: 8, opset_import: [{ domain: '', version: 13 }, { domain: 'com.microsoft', version: 1 }], producer_name: 'ort-optimizer-style',
    graph: {
      name: 'rms',
      node: [
        { op_type: 'Tanh', input: ['x'], output: ['skip'], name: 'skip' },
        { op_type: 'SkipSimplifiedLayerNormalization', domain: 'com.microsoft', input: ['x', 'skip', 'g1', 'bias'], output: ['n1', '', '', 'sum'], name: 'skip_rms', attribute: [{ name: 'epsilon', type: AttrType.FLOAT, f: 1e-4 }] },
        { op_type: 'SimplifiedLayerNormalization', input: ['n1', 'g2'], output: ['n2'], name: 'rms', attribute: [{ name: 'axis', type: AttrType.INT, i: -1 }, { name: 'epsilon', type: AttrType.FLOAT, f: 1e-3 }] },
        { op_type: 'Mul', input: ['n2', 'sum'], output: ['gated'], name: 'gate' },
        { op_type: 'ReduceMean', input: ['gated'], output: ['pooled'], name: 'pool', attribute: [{ name: 'axes', type: AttrType.INTS, ints: [1] }, { name: 'keepdims', type: AttrType.INT, i: 0 }] },
        { op_type: 'MatMul', input: ['pooled', 'head'], output: ['scores'], name: 'head' },
      ],
      initializer: [makeTensor('g1', [D], values(D).map((v) => v + 1), DataType.FLOAT), makeTensor('g2', [D], values(D).map((v) => v + 1), DataType.FLOAT), makeTensor('bias', [D], values(D, 0.3), DataType.FLOAT), makeTensor('head', [D, 3], values(D * 3), DataType.FLOAT)],
      input: [valueInfo('x', DataType.FLOAT, ['N', S, D])],
      output: [valueInfo('scores', DataType.FLOAT, ['N', 3])],
    },
  };
  const model = encodeModel(m);
  const ex = await Explainer.load(model);
  const targets = [1, 2];
  const r = await ex.attribute({ data: x, dims: [B, S, D] }, { target: targets });
  const want = await kernelScores(model, x, {});
  assert.ok(relL2(r.outputs.scores.data, want) < 1e-6, `outputs: rel L2 ${relL2(r.outputs.scores.data, want)}`);
  const row = (i: number) => Math.floor(i / (S * D));
  const fd = await centralDifferences(x, 1e-3, (v) => kernelScores(model, v, {}), (i) => row(i) * 3 + targets[row(i)]);
  assert.ok(relL2(r.attributions.data, fd) < 2e-3, `gradient vs central differences: rel L2 ${relL2(r.attributions.data, fd)}`);
  const d = await ex.attribute({ data: x, dims: [B, S, D] }, { target: targets, method: 'deeplift' });
  for (const delta of d.delta!) assert.ok(Math.abs(delta) < 1e-5, `delta ${delta}`);
});

test('com.microsoft Attention with past state (stacked [2, batch, …]) is refused in one line naming the node', async () => {
  const m = decodeModel(attentionModel({}));
  const node = m.graph!.node![0];
  const withPast: ModelProto = { ...m, graph: { ...m.graph!, node: [{ ...node, input: ['x', 'w', 'b', '', 'x'] }, ...m.graph!.node!.slice(1)] } };
  assert.throws(() => unfuseTransformerOps(withPast, 'gpt.onnx'), /^gpt\.onnx: node 'attention' \(com\.microsoft\.Attention, opset 1\): past and present state \(generation caches stacked as \[2, batch, …\]\) are not supported$/);
  await rejects(() => Explainer.load(encodeModel(withPast)), /past and present state/);
});

test('com.microsoft Attention, mask_index of B end then B start positions [2B] (padding on both sides), or [3B + 2] (whose first B entries onnxruntime\'s CPU kernel reads as ends): the reading gives the kernel\'s outputs', async () => {
  for (const data of [[4, 3, 1, 0], [3, 2, 0, 1], [2, 4, 1, 1, 0, 2, 0, 0]]) {
    const form: Form = { mask: { dims: [data.length], data } };
    const model = attentionModel(form);
    const read = (await kernelOutputs(encodeModel(unfuseTransformerOps(decodeModel(model), 'attention.onnx')), x, form)).scores;
    const kernel = await kernelScores(model, x, form);
    assert.ok(relL2(read, kernel) < 1e-6, `[${data}]: rel L2 ${relL2(read, kernel)}`);
  }
});

/** The model with its MultiHeadAttention's query cut to the first `positions` positions (cross-attention to longer keys). */
function shortQueries(model: Uint8Array, positions: number): Uint8Array {
  const m = decodeModel(model);
  const g = m.graph!;
  const attention = g.node!.find((n) => n.op_type === 'MultiHeadAttention')!;
  attention.input![0] = 'q_short';
  const cut: NodeProto = { op_type: 'Slice', input: ['q', 'cut_start', 'cut_end', 'cut_axis'], output: ['q_short'], name: 'cut' };
  g.node!.splice(g.node!.indexOf(attention), 0, cut);
  g.initializer!.push(makeTensor('cut_start', [1], [0], DataType.INT64), makeTensor('cut_end', [1], [positions], DataType.INT64), makeTensor('cut_axis', [1], [1], DataType.INT64));
  return encodeModel(m);
}

test('com.microsoft MultiHeadAttention, unidirectional with more keys than queries (cross-attention, no past): the reading gives onnxruntime\'s outputs, whose causal mask spares the last query', async () => {
  for (const positions of [1, 2]) {
    const model = shortQueries(attentionModel({ separate: true, attrs: unidirectional }), positions);
    const kernel = await kernelScores(model, x, {});
    const read = Array.from((await kernelOutputs(encodeModel(unfuseTransformerOps(decodeModel(model), 'cross.onnx')), x, {})).scores);
    assert.ok(relL2(read, kernel) < 1e-6, `${positions} queries: rel L2 ${relL2(read, kernel)}`);
  }
});

/** token ids [B, S] → com.microsoft.EmbedLayerNormalization with a segment table but no segment ids, no mask, and its mask_index output. */
function embeddingModel(): Uint8Array {
  const m: ModelProto = {
    ir_version: 8, opset_import: [{ domain: '', version: 13 }, { domain: 'com.microsoft', version: 1 }], producer_name: 'ort-optimizer-style',
    graph: {
      name: 'embed',
      node: [{ op_type: 'EmbedLayerNormalization', domain: 'com.microsoft', input: ['ids', '', 'words', 'places', 'segments', 'gamma', 'beta'], output: ['embedded', 'mask_index'], name: 'embed' }],
      initializer: [
        makeTensor('words', [5, D], values(5 * D), DataType.FLOAT), makeTensor('places', [S, D], values(S * D), DataType.FLOAT), makeTensor('segments', [2, D], values(2 * D, 2), DataType.FLOAT),
        makeTensor('gamma', [D], values(D).map((v) => 1 + v), DataType.FLOAT), makeTensor('beta', [D], values(D, 0.2), DataType.FLOAT),
      ],
      input: [valueInfo('ids', DataType.INT32, ['N', S])],
      output: [valueInfo('embedded', DataType.FLOAT, ['N', S, D]), valueInfo('mask_index', DataType.INT32, ['N'])],
    },
  };
  return encodeModel(m);
}

test('com.microsoft EmbedLayerNormalization with a segment table but no segment ids, and mask_index without a mask: the reading gives onnxruntime\'s outputs (segment row 0 added, mask_index 0)', async () => {
  const model = embeddingModel();
  const run = async (bytes: Uint8Array) => {
    const s = await ort.InferenceSession.create(bytes, { logSeverityLevel: 3 });
    const out = await s.run({ ids: new ort.Tensor('int32', Int32Array.from([1, 4, 0, 2, 3, 3, 1, 0]), [B, S]) });
    await s.release();
    return { embedded: Array.from(out.embedded.data as Float32Array), maskIndex: Array.from(out.mask_index.data as Int32Array) };
  };
  const [kernel, read] = [await run(model), await run(encodeModel(unfuseTransformerOps(decodeModel(model), 'embed.onnx')))];
  assert.ok(relL2(read.embedded, kernel.embedded) < 1e-6, `embedded: rel L2 ${relL2(read.embedded, kernel.embedded)}`);
  assert.equal(read.maskIndex, kernel.maskIndex);
});

// They were refused as not supported.
test('com.microsoft SkipSimplifiedLayerNormalization\'s mean and inv_std_var outputs: the reading gives onnxruntime\'s (zeros and 1/RMS, keeping the last axis)', async () => {
  const m: ModelProto = {
    ir_version: 8, opset_import: [{ domain: '', version: 13 }, { domain: 'com.microsoft', version: 1 }],
    graph: {
      name: 'rms-stats',
      node: [
        { op_type: 'Tanh', input: ['x'], output: ['skip'], name: 'skip' },
        { op_type: 'SkipSimplifiedLayerNormalization', domain: 'com.microsoft', input: ['x', 'skip', 'g'], output: ['n', 'mean', 'inv'], name: 'skip_rms', attribute: [{ name: 'epsilon', type: AttrType.FLOAT, f: 1e-3 }] },
      ],
      initializer: [makeTensor('g', [D], values(D).map((v) => v + 1), DataType.FLOAT)],
      input: [valueInfo('x', DataType.FLOAT, ['N', S, D])],
      output: [valueInfo('n', DataType.FLOAT, ['N', S, D]), valueInfo('mean', DataType.FLOAT, ['N', S, 1]), valueInfo('inv', DataType.FLOAT, ['N', S, 1])],
    },
  };
  const run = async (bytes: Uint8Array) => {
    const s = await ort.InferenceSession.create(bytes, { logSeverityLevel: 3 });
    const out = await s.run({ x: new ort.Tensor('float32', x, [B, S, D]) });
    await s.release();
    return Object.fromEntries(['n', 'mean', 'inv'].map((k) => [k, { data: Array.from(out[k].data as Float32Array), dims: out[k].dims }]));
  };
  const [kernel, read] = [await run(encodeModel(m)), await run(encodeModel(unfuseTransformerOps(m, 'rms.onnx')))];
  for (const k of ['n', 'inv']) assert.ok(relL2(read[k].data, kernel[k].data) < 1e-6, `${k}: rel L2 ${relL2(read[k].data, kernel[k].data)}`);
  assert.equal(read.mean, kernel.mean);
  assert.equal(read.inv.dims, kernel.inv.dims);
});

test('com.microsoft MultiHeadAttention with past_key and past_value but no present outputs (onnxruntime\'s CPU kernel then ignores the past) is refused in one line naming the node', async () => {
  const m = decodeModel(attentionModel({ separate: true, past: 2 }));
  m.graph!.node!.find((n) => n.op_type === 'MultiHeadAttention')!.output = ['context'];
  m.graph!.output = m.graph!.output!.slice(0, 1);
  assert.throws(() => unfuseTransformerOps(m, 'mha.onnx'), /^mha\.onnx: node 'attention' \(com\.microsoft\.MultiHeadAttention, opset 1\): past_key and past_value without the present_key and present_value outputs are not supported \(onnxruntime's CPU kernel then ignores the past\)$/);
  await rejects(() => Explainer.load(encodeModel(m)), /without the present_key and present_value outputs/);
});

test('com.microsoft MultiHeadAttention with a value wider than query and key (bias [4 + 4 + 8]): outputs equal onnxruntime\'s kernel, the gradient its central differences, DeepLIFT sums to delta', () => explainsAsKernel({ separate: true, sizes: [4, 4, 8] }));

test.run();
