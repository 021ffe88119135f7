import * as ort from 'onnxruntime-node';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { expandFunctionOps } from '../rewriter/onnx-functions';
import { AttrType, AttributeProto, DataType, decodeModel, encodeModel, makeTensor, ModelProto, NodeProto, TensorProto, valueInfo } from '../rewriter/proto';
import { Explainer } from '../runtime';
import { centralDifferences } from './support/central';
import { relL2 } from './support/fixtures';
import { rng } from './support/gradcheck';
import { rejects } from './support/rejects';

/**
 * Opset-23 function ops as torch.onnx's dynamo exporter writes them: RMSNormalization of x [2, 4, 8],
 * projections to Q (4 heads of 2) and K, V (2 heads of 2) and one Attention, then a head averaging
 * the positions into 3 scores.
 */
const [B, S, D] = [2, 4, 8];
const rand = rng(5);
const values = (n: number, scale = 1) => Array.from({ length: n }, () => (rand() * 2 - 1) * scale);
const x = Float32Array.from(values(B * S * D, 1.5));
const int = (name: string, i: number): AttributeProto => ({ name, type: AttrType.INT, i });
const ints = (name: string, v: number[]): AttributeProto => ({ name, type: AttrType.INTS, ints: v });

interface Form { attention: AttributeProto[]; fourD?: boolean; mask?: TensorProto; rmsAxis?: number; past?: boolean; undeclared?: boolean }

function functionModel(form: Form): Uint8Array {
  const [qw, kw, vw] = [8, 4, 4];
  const nodes: NodeProto[] = [
    { op_type: 'RMSNormalization', input: ['x', 'gamma'], output: ['normed'], name: 'rms', attribute: [int('axis', form.rmsAxis ?? -1), { name: 'epsilon', type: AttrType.FLOAT, f: 1e-3 }] },
    ...(['q', 'k', 'v'] as const).map((t): NodeProto => ({ op_type: 'MatMul', input: ['normed', `w${t}`], output: [form.fourD ? `${t}3` : t], name: t })),
  ];
  const heads = { q: 4, k: 2, v: 2 };
  if (form.fourD) {
    for (const t of ['q', 'k', 'v'] as const) {
      nodes.push({ op_type: 'Reshape', input: [`${t}3`, `${t}_shape`], output: [`${t}r`], name: `${t}r` }, { op_type: 'Transpose', input: [`${t}r`], output: [t], name: `${t}t`, attribute: [ints('perm', [0, 2, 1, 3])] });
    }
  }
  nodes.push(
    {
      op_type: 'Attention', input: ['q', 'k', 'v', ...(form.mask || form.past ? [form.mask ? 'mask' : ''] : []), ...(form.past ? ['past_key', 'past_value'] : [])],
      output: ['context', ...(form.past ? ['present_key', 'present_value'] : [])], name: 'attention', attribute: form.attention,
    },
    ...(form.fourD ? [{ op_type: 'Transpose', input: ['context'], output: ['context_t'], name: 'ct', attribute: [ints('perm', [0, 2, 1, 3])] }, { op_type: 'Reshape', input: ['context_t', 'flat'], output: ['context3'], name: 'cr' }] : []),
    { op_type: 'ReduceMean', input: [form.fourD ? 'context3' : 'context', 'seq'], output: ['pooled'], name: 'pool', attribute: [int('keepdims', 0)] },
    { op_type: 'MatMul', input: ['pooled', 'head'], output: ['scores'], name: 'head' },
  );
  const gammaDims = form.rmsAxis === -2 ? [S, D] : [D];
  const m: ModelProto = {
    ir_version: 10, opset_import: [{ domain: '', version: 23 }], producer_name: 'dynamo-style',
    graph: {
      name: 'functions', node: nodes,
      initializer: [
        makeTensor('gamma', gammaDims, values(gammaDims.reduce((a, b) => a * b, 1), 1).map((v) => v + 1.2), DataType.FLOAT),
        makeTensor('wq', [D, qw], values(D * qw, 0.7), DataType.FLOAT), makeTensor('wk', [D, kw], values(D * kw, 0.7), DataType.FLOAT), makeTensor('wv', [D, vw], values(D * vw, 0.7), DataType.FLOAT),
        makeTensor('seq', [1], [1], DataType.INT64), makeTensor('head', [heads.q * (vw / heads.v), 3], values(heads.q * (vw / heads.v) * 3), DataType.FLOAT),
        ...(form.fourD ? (['q', 'k', 'v'] as const).map((t) => makeTensor(`${t}_shape`, [4], [0, 0, heads[t], -1], DataType.INT64)) : []),
        ...(form.fourD ? [makeTensor('flat', [3], [0, 0, -1], DataType.INT64)] : []),
        ...(form.mask ? [form.mask] : []),
      ],
      input: [valueInfo('x', DataType.FLOAT, ['N', S, D]), ...(form.past ? ['past_key', 'past_value'].map((t) => valueInfo(t, DataType.FLOAT, ['N', heads.k, 'P', 2])) : [])],
      output: [valueInfo('scores', DataType.FLOAT, ['N', 3]), ...(form.past ? ['present_key', 'present_value'].map((t) => valueInfo(t, DataType.FLOAT, ['N', heads.k, 'T', 2])) : [])],
      value_info: form.fourD && !form.undeclared ? [valueInfo('q', DataType.FLOAT, ['N', heads.q, S, 2]), valueInfo('k', DataType.FLOAT, ['N', heads.k, S, 2])] : [],
    },
  };
  return encodeModel(m);
}

/** The kernels' outputs, with past_key and past_value of `past` positions where the model takes them. */
async function kernelOutputs(model: Uint8Array, input: Float32Array, past = 0): Promise<Record<string, Float32Array>> {
  const s = await ort.InferenceSession.create(model, { logSeverityLevel: 3 });
  const feeds: Record<string, ort.Tensor> = { x: new ort.Tensor('float32', input, [B, S, D]) };
  for (const name of s.inputNames.filter((i) => i.startsWith('past'))) feeds[name] = new ort.Tensor('float32', Float32Array.from({ length: B * 2 * past * 2 }, (_, i) => Math.sin(0.9 * i + name.length)), [B, 2, past, 2]);
  const out = await s.run(feeds);
  await s.release();
  return Object.fromEntries(Object.entries(out).map(([k, t]) => [k, t.data as Float32Array]));
}

async function kernelScores(model: Uint8Array, input: Float32Array): Promise<number[]> {
  return Array.from((await kernelOutputs(model, input)).scores);
}

/** The Explainer's outputs equal the kernels', its gradient their central differences (empty caches where the model takes a past), and DeepLIFT sums to delta. */
async function againstKernels(model: Uint8Array, targets: number[]): Promise<void> {
  const ex = await Explainer.load(model, { warn: () => undefined });
  const r = await ex.attribute({ data: x, dims: [B, S, D] }, { target: targets });
  const want = await kernelScores(model, x);
  assert.ok(relL2(r.outputs.scores.data, want) < 1e-6, `outputs: rel L2 ${relL2(r.outputs.scores.data, want)}`);
  const row = (i: number) => Math.floor(i / (S * D));
  const fd = await centralDifferences(x, 1e-3, (v) => kernelScores(model, v), (i) => row(i) * 3 + targets[row(i)]);
  assert.ok(relL2(r.attributions.data, fd) < 2e-3, `gradient vs central differences: rel L2 ${relL2(r.attributions.data, fd)}`);
  const d = await ex.attribute({ data: x, dims: [B, S, D] }, { target: targets, method: 'deeplift' });
  for (const delta of d.delta!) assert.ok(Math.abs(delta) < 1e-5, `delta ${delta}`);
}

const boolMask: TensorProto = { name: 'mask', dims: [S, S], data_type: DataType.BOOL, raw_data: Uint8Array.from([1, 1, 0, 1, 1, 1, 1, 1, 0, 1, 1, 0, 1, 1, 1, 1]) };
const cases: [string, Form][] = [
  ['3-D with grouped-query heads (4 query, 2 key/value), causal', { attention: [int('q_num_heads', 4), int('kv_num_heads', 2), int('is_causal', 1)] }],
  ['4-D heads from Reshape/Transpose, a boolean mask, scale 0.4; RMSNormalization over the last two axes', { attention: [{ name: 'scale', type: AttrType.FLOAT, f: 0.4 }], fourD: true, mask: boolMask, rmsAxis: -2 }],
  ['3-D with a float mask added', { attention: [int('q_num_heads', 4), int('kv_num_heads', 2)], mask: makeTensor('mask', [1, 1, S, S], values(S * S, 2), DataType.FLOAT) }],
  ['3-D, causal, softcap 0.8', { attention: [int('q_num_heads', 4), int('kv_num_heads', 2), int('is_causal', 1), { name: 'softcap', type: AttrType.FLOAT, f: 0.8 }] }],
  // The opset-23 errata: a query the masks leave no key attends to nothing (zeros), not to every key alike.
  ['3-D, causal, a boolean mask that blocks every key of query 0 and, with the causal mask, of query 1', { attention: [int('q_num_heads', 4), int('kv_num_heads', 2), int('is_causal', 1)], mask: { ...boolMask, raw_data: Uint8Array.from([0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 0, 1, 1, 0, 1, 1]) } }],
  // Hugging Face's padding mask of torch.finfo(float32).min, which onnxruntime's kernel blocks as it does −Inf: query 0 attends to nothing.
  ['3-D with a float mask of float32\'s lowest over every key of query 0', { attention: [int('q_num_heads', 4), int('kv_num_heads', 2)], mask: makeTensor('mask', [S, S], Array.from({ length: S * S }, (_, i) => (i < S || i % S === 3 ? -3.4028234663852886e38 : 0)), DataType.FLOAT) }],
  // torch's registered causal buffer, triu(full(−inf), 1), as the float attn_mask.
  ['3-D with a float mask of 0 and −Inf', { attention: [int('q_num_heads', 4), int('kv_num_heads', 2)], mask: makeTensor('mask', [S, S], Array.from({ length: S * S }, (_, i) => (i % S > Math.floor(i / S) ? -Infinity : 0)), DataType.FLOAT) }],
  ['4-D grouped-query heads whose shapes the graph does not declare (the group read at run time)', { attention: [], fourD: true, undeclared: true }],
];

for (const [what, form] of cases) {
  test(`opset-23 Attention and RMSNormalization, ${what}: outputs equal onnxruntime's kernels, the gradient their central differences, DeepLIFT sums to delta`, async () => {
    await againstKernels(functionModel(form), [1, 2]);
  });
}

test('opset-23 Attention with past_key and past_value (causal, grouped heads): with a past of 3 the reading gives onnxruntime\'s outputs and presents (query i at 3 + i); with the default empty past the gradient matches central differences and DeepLIFT sums to delta', async () => {
  const model = functionModel({ attention: [int('q_num_heads', 4), int('kv_num_heads', 2), int('is_causal', 1)], past: true });
  const kernel = await kernelOutputs(model, x, 3);
  const read = await kernelOutputs(encodeModel(expandFunctionOps(decodeModel(model), 'dynamo.onnx')), x, 3);
  for (const name of ['scores', 'present_key', 'present_value']) assert.ok(relL2(read[name], kernel[name]) < 1e-6, `${name}: rel L2 ${relL2(read[name], kernel[name])}`);
  await againstKernels(model, [0, 2]);
});

test('opset-23 Attention with a negative softcap, or an integer attn_mask (burn-onnx\'s fixture; the op takes boolean or float masks), is refused in one line naming the node', async () => {
  await rejects(() => Explainer.load(functionModel({ attention: [int('q_num_heads', 4), int('kv_num_heads', 2), { name: 'softcap', type: AttrType.FLOAT, f: -3 }] })), /node 'attention' \(Attention, opset 23\): softcap -3 is negative/);
  const intMask = makeTensor('mask', [S, S], new Array(S * S).fill(1), DataType.INT32);
  await rejects(() => Explainer.load(functionModel({ attention: [int('q_num_heads', 4), int('kv_num_heads', 2)], mask: intMask })), /node 'attention' \(Attention, opset 23\): attn_mask 'mask' has ONNX type 6; the Attention op takes a boolean mask or a float one added to the scores/);
});

/** x [N, 3, 4, 5] → MeanVarianceNormalization over `axes` → times a fixed map, mean over H, W → 2 scores. */
function mvnModel(axes?: number[]): Uint8Array {
  const m: ModelProto = {
    ir_version: 8, opset_import: [{ domain: '', version: 13 }], producer_name: 'coreml-style',
    graph: {
      name: 'mvn',
      node: [
        { op_type: 'MeanVarianceNormalization', input: ['x'], output: ['normed'], name: 'mvn', attribute: axes ? [ints('axes', axes)] : [] },
        { op_type: 'Mul', input: ['normed', 'map'], output: ['weighted'], name: 'map' },
        { op_type: 'ReduceMean', input: ['weighted'], output: ['pooled'], name: 'pool', attribute: [ints('axes', [2, 3]), int('keepdims', 0)] },
        { op_type: 'MatMul', input: ['pooled', 'w'], output: ['scores'], name: 'head' },
      ],
      initializer: [makeTensor('w', [3, 2], [0.5, -0.3, 0.8, 0.2, -0.6, 0.9], DataType.FLOAT), makeTensor('map', [3, 4, 5], Array.from({ length: 60 }, (_, i) => Math.cos(0.3 * i)), DataType.FLOAT)],
      input: [valueInfo('x', DataType.FLOAT, ['N', 3, 4, 5])], output: [valueInfo('scores', DataType.FLOAT, ['N', 2])],
    },
  };
  return encodeModel(m);
}

test('MeanVarianceNormalization over H, W and over C, H, W: outputs equal onnxruntime\'s kernel, the gradient its central differences, DeepLIFT sums to delta', async () => {
  for (const axes of [[2, 3], [1, 2, 3]]) {
    const model = mvnModel(axes);
    const input = Float32Array.from({ length: 2 * 60 }, (_, i) => Math.sin(0.61 * i) * (1 + (i % 7)));
    const run = async (v: Float32Array) => {
      const s = await ort.InferenceSession.create(model, { logSeverityLevel: 3 });
      const out = (await s.run({ x: new ort.Tensor('float32', v, [2, 3, 4, 5]) })).scores.data as Float32Array;
      await s.release();
      return out;
    };
    const ex = await Explainer.load(model);
    const r = await ex.attribute({ data: input, dims: [2, 3, 4, 5] }, { target: [1, 0] });
    assert.ok(relL2(r.outputs.scores.data, await run(input)) < 1e-5, `axes ${axes}: outputs ${relL2(r.outputs.scores.data, await run(input))}`);
    const fd = await centralDifferences(input, 1e-2, run, (i) => Math.floor(i / 60) * 2 + [1, 0][Math.floor(i / 60)]);
    assert.ok(relL2(r.attributions.data, fd) < 2e-3, `axes ${axes}: gradient vs central differences: rel L2 ${relL2(r.attributions.data, fd)}`);
    const d = await ex.attribute({ data: input, dims: [2, 3, 4, 5] }, { target: [1, 0], method: 'deeplift', baseline: { data: input.map((v) => 0.2 * v + 0.1), dims: [2, 3, 4, 5] } });
    for (const delta of d.delta!) assert.ok(Math.abs(delta) < 1e-5, `axes ${axes}: delta ${delta}`);
  }
});

test.run();
