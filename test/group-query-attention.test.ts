import * as fs from 'fs';
import * as path from 'path';
import * as ort from 'onnxruntime-node';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { unfuseTransformerOps } from '../rewriter/ort-fusions';
import { AttributeProto, AttrType, DataType, decodeModel, encodeModel, makeTensor, ModelProto, NodeProto, valueInfo } from '../rewriter/proto';
import { nonNativeOps } from '../rewriter/webgpu-ops';
import { Explainer } from '../runtime';
import { isReferenceCopy, relL2 } from './support/fixtures';
import { centralDifferences } from './support/central';
import { rng } from './support/gradcheck';
import { runCli, tempDir } from './support/cli-harness';
import { rejects } from './support/rejects';

/**
 * x [N, S, 8] → query, key, value (or one packed projection) → com.microsoft.GroupQueryAttention
 * (4 query heads over 2 key/value heads of size 32, onnxruntime's smallest for rotary) with
 * seqlens_k and total_sequence_length computed from an int64 mask [N, P + S], as
 * onnxruntime-genai writes them, and past_key / past_value inputs → the context's mean over
 * positions → 3 scores.
 */
const [D, HEADS, KV, H] = [8, 4, 2, 32];
const rand = rng(23);
const values = (n: number, scale = 1) => Array.from({ length: n }, () => (rand() * 2 - 1) * scale);

interface Form { full?: boolean; reference?: boolean; packed?: boolean; rotary?: { dim: number; interleaved?: boolean }; window?: number; softcap?: number; scale?: number; extra?: AttributeProto[] }

const int = (name: string, i: number): AttributeProto => ({ name, type: AttrType.INT, i });
const real = (name: string, f: number): AttributeProto => ({ name, type: AttrType.FLOAT, f });

function gqaModel(form: Form): Uint8Array {
  const rd = form.rotary?.dim ?? H;
  const angles = Array.from({ length: 16 * (rd / 2) }, (_, k) => Math.floor(k / (rd / 2)) / 100 ** ((2 * (k % (rd / 2))) / rd));
  const attribute = [
    int('num_heads', HEADS), int('kv_num_heads', KV),
    ...(form.rotary ? [int('do_rotary', 1), int('rotary_interleaved', form.rotary.interleaved ? 1 : 0)] : []),
    ...(form.window ? [int('local_window_size', form.window)] : []), ...(form.softcap ? [real('softcap', form.softcap)] : []), ...(form.scale ? [real('scale', form.scale)] : []),
    ...(form.extra ?? []),
  ];
  const projections: NodeProto[] = form.packed
    ? [{ op_type: 'MatMul', input: ['x', 'wqkv'], output: ['qkv'], name: 'qkv' }]
    : ['q', 'k', 'v'].map((t) => ({ op_type: 'MatMul', input: ['x', `w${t}`], output: [t], name: t }));
  const m: ModelProto = {
    ir_version: 8, opset_import: [{ domain: '', version: 14 }, { domain: 'com.microsoft', version: 1 }], producer_name: 'onnxruntime-genai-style',
    graph: {
      name: 'gqa',
      node: [
        { op_type: 'ReduceSum', input: ['mask', 'axis1'], output: ['length'], name: 'length', attribute: [int('keepdims', 0)] },
        { op_type: 'Sub', input: ['length', 'one'], output: ['last'], name: 'last' },
        { op_type: 'Cast', input: ['last'], output: ['seqlens_k'], name: 'seqlens_k', attribute: [int('to', DataType.INT32)] },
        { op_type: 'Shape', input: ['mask'], output: ['mask_shape'], name: 'mask_shape' },
        { op_type: 'Gather', input: ['mask_shape', 'one'], output: ['total_length'], name: 'total_length', attribute: [int('axis', 0)] },
        { op_type: 'Cast', input: ['total_length'], output: ['total'], name: 'total', attribute: [int('to', DataType.INT32)] },
        ...projections,
        {
          op_type: 'GroupQueryAttention', domain: 'com.microsoft', name: 'attention', attribute,
          input: [...(form.packed ? ['qkv', '', ''] : ['q', 'k', 'v']), 'past_key_values.0.key', 'past_key_values.0.value', 'seqlens_k', 'total', ...(form.rotary ? ['cos', 'sin'] : [])],
          output: ['context', 'present.0.key', 'present.0.value'],
        },
        { op_type: 'ReduceMean', input: ['context'], output: ['pooled'], name: 'pool', attribute: [{ name: 'axes', type: AttrType.INTS, ints: [1] }, int('keepdims', 0)] },
        { op_type: 'MatMul', input: ['pooled', 'head'], output: ['scores'], name: 'head' },
      ],
      initializer: [
        makeTensor('axis1', [1], [1], DataType.INT64), makeTensor('one', [], [1], DataType.INT64),
        ...(form.packed ? [makeTensor('wqkv', [D, (HEADS + 2 * KV) * H], values(D * (HEADS + 2 * KV) * H, 0.6), DataType.FLOAT)]
          : [makeTensor('wq', [D, HEADS * H], values(D * HEADS * H, 0.6), DataType.FLOAT), ...['wk', 'wv'].map((w) => makeTensor(w, [D, KV * H], values(D * KV * H, 0.6), DataType.FLOAT))]),
        makeTensor('cos', [16, rd / 2], angles.map(Math.cos), DataType.FLOAT), makeTensor('sin', [16, rd / 2], angles.map(Math.sin), DataType.FLOAT),
        makeTensor('head', [HEADS * H, 3], values(HEADS * H * 3, 0.5), DataType.FLOAT),
      ],
      input: [
        valueInfo('x', DataType.FLOAT, ['N', 'S', D]), valueInfo('mask', DataType.INT64, ['N', 'T']),
        ...['key', 'value'].map((t) => valueInfo(`past_key_values.0.${t}`, DataType.FLOAT, ['N', KV, 'P', H])),
      ],
      output: [valueInfo('scores', DataType.FLOAT, ['N', 3]), valueInfo('context', DataType.FLOAT, ['N', 'S', HEADS * H]), ...['key', 'value'].map((t) => valueInfo(`present.0.${t}`, DataType.FLOAT, ['N', KV, 'T', H]))],
    },
  };
  return encodeModel(m);
}

interface Run { x: Float32Array; n: number; s: number; mask: number[]; past?: [Float32Array, Float32Array]; p?: number }

function feedsOf(r: Run): Record<string, ort.Tensor> {
  const p = r.p ?? 0;
  const past = r.past ?? [new Float32Array(0), new Float32Array(0)];
  return {
    x: new ort.Tensor('float32', r.x, [r.n, r.s, D]),
    mask: new ort.Tensor('int64', BigInt64Array.from(r.mask, BigInt), [r.n, p + r.s]),
    'past_key_values.0.key': new ort.Tensor('float32', past[0], [r.n, KV, p, H]),
    'past_key_values.0.value': new ort.Tensor('float32', past[1], [r.n, KV, p, H]),
  };
}

async function outputs(model: Uint8Array, r: Run): Promise<Record<string, Float32Array>> {
  const s = await ort.InferenceSession.create(model, { logSeverityLevel: 3 });
  const out = await s.run(feedsOf(r));
  await s.release();
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.data as Float32Array]));
}

const [N, S] = [2, 5];
const x = Float32Array.from(values(N * S * D, 1.2));
// Row 1 is right-padded: its last two tokens are masked (seqlens_k = 2).
const mask = [1, 1, 1, 1, 1, 1, 1, 1, 0, 0];
const forms: [string, Form][] = [
  ['separate query, key and value', {}],
  ['packed query, key and value, scale 0.2', { packed: true, scale: 0.2 }],
  ['rotary over 16 of 32 features (halves)', { rotary: { dim: 16 } }],
  ['rotary over all features, interleaved pairs', { rotary: { dim: 32, interleaved: true } }],
  // A padded query has its row's last window, as onnxruntime's reference kernel caps the causal
  // length at the row's (its flash path, which it takes by default without softcap, does not).
  ['local window 2, padded rows, onnxruntime\'s reference kernel', { window: 2, reference: true }],
  ['local window 2 and softcap 0.7, padded rows', { window: 2, softcap: 0.7 }],
  ['local window 3 and softcap 0.7, no padding', { window: 3, softcap: 0.7, full: true }],
  // smooth_softmax −1 is the schema's default: off.
  ['causal 0 (bidirectional), padded rows, smooth_softmax −1', { extra: [int('causal', 0), int('smooth_softmax', -1)] }],
];

/** The reading against onnxruntime's kernel: outputs and presents, the gradient against central differences, DeepLIFT's delta, WebGPU-native emitted ops. */
async function compareWithKernel(model: Uint8Array, run: Run, rows: number[]): Promise<void> {
  const kernel = await outputs(model, run);
  const read = await outputs(encodeModel(unfuseTransformerOps(decodeModel(model), 'gqa.onnx')), run);
  for (const name of ['context', 'present.0.key', 'present.0.value', 'scores']) {
    assert.ok(relL2(read[name], kernel[name]) < 1e-6, `${name}: rel L2 ${relL2(read[name], kernel[name])}`);
  }
  const notes: string[] = [];
  const ex = await Explainer.load(model, { warn: (m) => notes.push(m) });
  const targets = [2, 0];
  const feeds = { mask: { data: Float32Array.from(rows), dims: [N, S] } };
  const r = await ex.attribute({ data: x, dims: [N, S, D] }, { target: targets, feeds, output: 'scores' });
  const row = (i: number) => Math.floor(i / (S * D));
  const fd = await centralDifferences(x, 1e-3, async (v) => (await outputs(model, { ...run, x: v })).scores, (i) => row(i) * 3 + targets[row(i)]);
  assert.ok(relL2(r.attributions.data, fd) < 2e-3, `gradient vs central differences: rel L2 ${relL2(r.attributions.data, fd)}`);
  const d = await ex.attribute({ data: x, dims: [N, S, D] }, { target: targets, feeds, output: 'scores', method: 'deeplift' });
  for (const delta of d.delta!) assert.ok(Math.abs(delta) < 1e-5, `delta ${delta}`);
  for (const method of ['gradient', 'deeplift', 'guided-backprop']) {
    const { model: augmented, prepared } = await ex.augmented([S, D], { method, target: 2, output: 'scores' });
    const emitted = augmented.graph!.node!.slice(prepared.view.nodes.length).filter((n) => !isReferenceCopy(n));
    assert.equal(nonNativeOps(emitted, 0, 14), [], `${method}: emitted ops not native on WebGPU`);
  }
  assert.ok(notes.some((m) => /input 'past_key_values\.0\.key' not given: using an empty generation cache \[2,2,0,32\]/.test(m)), notes.join('\n'));
}

for (const [what, form] of forms) {
  test(`com.microsoft GroupQueryAttention, ${what}: the standard-op reading gives onnxruntime's outputs and presents, the gradient its central differences, DeepLIFT sums to delta`, async () => {
    const model = gqaModel(form);
    const rows = form.full ? Array(N * S).fill(1) : mask;
    const run: Run = { x, n: N, s: S, mask: rows };
    // Read when a session is made.
    if (form.reference) process.env.ORT_GQA_DISABLE_FLASH_ATTENTION = '1';
    try {
      await compareWithKernel(model, run, rows);
    } finally {
      delete process.env.ORT_GQA_DISABLE_FLASH_ATTENTION;
    }
  });
}

/**
 * An onnxruntime-genai-style decoder layer: input_ids → embedding → SimplifiedLayerNormalization →
 * packed QKV → GroupQueryAttention (rotary) → output projection → SkipSimplifiedLayerNormalization
 * with the embeddings → logits [N, S, 11]; and the same layer with the embedding output as its input.
 */
const [VOCAB, WIDTH] = [11, 16];
const table = values(VOCAB * WIDTH);
function decoderModels(): [Uint8Array, Uint8Array] {
  const m = decodeModel(gqaModel({ packed: true, rotary: { dim: 16 } }));
  const g = m.graph!;
  const eps = { name: 'epsilon', type: AttrType.FLOAT, f: 1e-5 };
  const attention = g.node!.find((n) => n.op_type === 'GroupQueryAttention')!;
  g.node = [
    { op_type: 'Gather', input: ['embed', 'input_ids'], output: ['h0'], name: 'embed', attribute: [int('axis', 0)] },
    { op_type: 'SimplifiedLayerNormalization', input: ['h0', 'g0'], output: ['n0'], name: 'norm0', attribute: [int('axis', -1), eps] },
    { op_type: 'MatMul', input: ['n0', 'wqkv'], output: ['qkv'], name: 'qkv' },
    ...g.node!.filter((n) => ['length', 'last', 'seqlens_k', 'mask_shape', 'total_length', 'total'].includes(n.name!)),
    attention,
    { op_type: 'MatMul', input: ['context', 'wo'], output: ['o'], name: 'o' },
    { op_type: 'SkipSimplifiedLayerNormalization', domain: 'com.microsoft', input: ['o', 'h0', 'g1'], output: ['n1'], name: 'norm1', attribute: [eps] },
    { op_type: 'MatMul', input: ['n1', 'lm_head'], output: ['logits'], name: 'lm_head' },
  ];
  g.initializer = [
    ...g.initializer!.filter((t) => ['axis1', 'one', 'cos', 'sin'].includes(t.name!)),
    makeTensor('embed', [VOCAB, WIDTH], table, DataType.FLOAT), makeTensor('wqkv', [WIDTH, (HEADS + 2 * KV) * H], values(WIDTH * (HEADS + 2 * KV) * H, 0.4), DataType.FLOAT),
    ...['g0', 'g1'].map((name) => makeTensor(name, [WIDTH], values(WIDTH, 0.1).map((v) => 1 + v), DataType.FLOAT)),
    makeTensor('wo', [HEADS * H, WIDTH], values(HEADS * H * WIDTH, 0.2), DataType.FLOAT), makeTensor('lm_head', [WIDTH, VOCAB], values(WIDTH * VOCAB), DataType.FLOAT),
  ];
  g.output = [valueInfo('logits', DataType.FLOAT, ['N', 'S', VOCAB]), ...g.output!.slice(2)];
  const rest = g.input!.slice(1);
  const onIds = encodeModel({ ...m, graph: { ...g, input: [valueInfo('input_ids', DataType.INT64, ['N', 'S']), ...rest] } });
  const onEmbeddings = encodeModel({ ...m, graph: { ...g, node: g.node.slice(1), input: [valueInfo('h0', DataType.FLOAT, ['N', 'S', WIDTH]), ...rest] } });
  return [onIds, onEmbeddings];
}

test('an onnxruntime-genai-style decoder with GroupQueryAttention, explained at its token ids: empty caches by default, logits equal onnxruntime\'s, the embedding gradient its central differences, DeepLIFT sums to delta; info names the token ids', async () => {
  const dir = tempDir('gqa-decoder');
  const file = path.join(dir, 'decoder.onnx');
  const [onIds, onEmbedding] = decoderModels();
  fs.writeFileSync(file, onIds);
  const ex = await Explainer.load(file, { warn: () => undefined });
  assert.is(ex.tokens?.ids.name, 'input_ids');
  const ids = [3, 5, 7, 2, 9, 1, 4, 4, 8, 0];
  const embedded = Float32Array.from(ids.flatMap((t) => table.slice(t * WIDTH, (t + 1) * WIDTH)));
  const feeds = { mask: { data: Float32Array.from(mask), dims: [N, S] } };
  const target = [[4, 3], [2, 6]];
  const r = await ex.attribute({ data: Int32Array.from(ids), dims: [N, S] }, { target, feeds });
  const onEmbeddings = async (h: Float32Array) => {
    const s = await ort.InferenceSession.create(onEmbedding, { logSeverityLevel: 3 });
    const { x: _unused, ...rest } = feedsOf({ x, n: N, s: S, mask });
    const out = (await s.run({ ...rest, h0: new ort.Tensor('float32', h, [N, S, WIDTH]) })).logits.data as Float32Array;
    await s.release();
    return out;
  };
  assert.ok(relL2(r.outputs.logits.data, await onEmbeddings(embedded)) < 1e-6, `logits: rel L2 ${relL2(r.outputs.logits.data, await onEmbeddings(embedded))}`);
  const row = (i: number) => Math.floor(i / (S * WIDTH));
  const fd = await centralDifferences(embedded, 1e-3, onEmbeddings, (i) => row(i) * S * VOCAB + target[row(i)][0] * VOCAB + target[row(i)][1]);
  assert.ok(relL2(r.attributions.data, fd) < 2e-3, `gradient vs central differences: rel L2 ${relL2(r.attributions.data, fd)}`);
  const d = await ex.attribute({ data: Int32Array.from(ids), dims: [N, S] }, { target, feeds, method: 'deeplift' });
  for (const delta of d.delta!) assert.ok(Math.abs(delta) < 1e-5, `delta ${delta}`);
  const info = await runCli(['info', file]);
  assert.ok(info.out.includes(`input: input_ids [N, S] int64: token ids: explained at the embedding output 'h0' (--wrt input_ids)`), info.out.join('\n'));
});

// Row 1's past holds 2 tokens in a buffer of 4 (seqlens_k 2): its new key goes to position 2 and its
// query turns at position 2 (it had been read at position 4, after the padding).
test('com.microsoft GroupQueryAttention with a fed past (a generation step, rotary at positions P…), every row\'s past full or one row\'s past padded: the reading gives onnxruntime\'s outputs and presents', async () => {
  for (const interleaved of [false, true]) {
    const model = gqaModel({ rotary: { dim: 16, interleaved }, window: 3 });
    const p = 4;
    for (const mask of [Array(N * (p + 1)).fill(1), [1, 1, 1, 1, 1, 1, 1, 1, 0, 0]]) {
      const run: Run = { x: x.subarray(0, N * D), n: N, s: 1, p, mask, past: [Float32Array.from(values(N * KV * p * H)), Float32Array.from(values(N * KV * p * H))] };
      const kernel = await outputs(model, run);
      const read = await outputs(encodeModel(unfuseTransformerOps(decodeModel(model), 'gqa.onnx')), run);
      for (const name of ['context', 'present.0.key', 'present.0.value']) assert.ok(relL2(read[name], kernel[name]) < 1e-6, `${name}, mask ${mask}: rel L2 ${relL2(read[name], kernel[name])}`);
    }
  }
});

test('com.microsoft GroupQueryAttention: head counts that do not group, smooth softmax, position_ids, a sliding-window cache, quantized caches and unknown attributes are refused in one line naming the node', async () => {
  const odd = decodeModel(gqaModel({}));
  const gqa = odd.graph!.node!.find((n) => n.op_type === 'GroupQueryAttention')!;
  gqa.attribute = gqa.attribute!.map((a) => (a.name === 'kv_num_heads' ? { ...a, i: 3 } : a));
  assert.throws(() => unfuseTransformerOps(odd, 'phi.onnx'), /^phi\.onnx: node 'attention' \(com\.microsoft\.GroupQueryAttention, opset 1\): num_heads 4 must be a positive multiple of kv_num_heads 3$/);
  const smooth = gqaModel({ extra: [int('smooth_softmax', 1)] });
  assert.throws(() => unfuseTransformerOps(decodeModel(smooth), 'phi.onnx'), /^phi\.onnx: node 'attention' \(com\.microsoft\.GroupQueryAttention, opset 1\): smooth softmax and head sinks are not supported$/);
  await rejects(() => Explainer.load(smooth), /smooth softmax/);
  const m = decodeModel(gqaModel({}));
  const node = m.graph!.node!.find((n) => n.op_type === 'GroupQueryAttention')!;
  node.input = [...node.input!, '', '', 'mask'];
  assert.throws(() => unfuseTransformerOps(m, 'phi.onnx'), /position_ids, attention_bias and the QK output are not supported$/);
  const windowed = decodeModel(gqaModel({ window: 2, extra: [int('sliding_window_cache', 1)] }));
  assert.throws(() => unfuseTransformerOps(windowed, 'phi.onnx'), /: a sliding-window cache \(sliding_window_cache = 1\) is not supported$/);
  const unknown = decodeModel(gqaModel({ extra: [int('qk_norm', 1)] }));
  assert.throws(() => unfuseTransformerOps(unknown, 'phi.onnx'), /^phi\.onnx: node 'attention' \(com\.microsoft\.GroupQueryAttention, opset 1\): attribute 'qk_norm' is not read$/);
  const scaled = decodeModel(gqaModel({}));
  scaled.graph!.node!.find((n) => n.op_type === 'GroupQueryAttention')!.input!.push('', '', '', '', '', 'one');
  assert.throws(() => unfuseTransformerOps(scaled, 'phi.onnx'), /: quantized caches \(k_scale, v_scale\) and QK normalisation \(q_norm_weight, k_norm_weight\) are not supported$/);
});

test.run();
