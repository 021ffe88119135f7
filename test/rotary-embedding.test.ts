import * as ort from 'onnxruntime-node';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AttrType, AttributeProto, DataType, encodeModel, makeTensor, NodeProto, TensorProto, valueInfo } from '../rewriter/proto';
import { GraphView } from '../rewriter/graph-view';
import { Explainer } from '../runtime';
import { centralDifferences } from './support/central';
import { relL2 } from './support/fixtures';
import { rng } from './support/gradcheck';
import { rejects } from './support/rejects';

/**
 * x [2, 4, 8] → MatMul → q [2, 4, 2 heads·4] → RotaryEmbedding (opset 23 or com.microsoft; as
 * given, or as [B, heads, S, H] behind Reshape/Transpose) → sum over the positions → 3 scores.
 */
const [B, S, D, HEADS, H, MAX] = [2, 4, 8, 2, 4, 9];
const rand = rng(23);
const values = (n: number, scale = 1) => Array.from({ length: n }, () => (rand() * 2 - 1) * scale);
const x = Float32Array.from(values(B * S * D, 1.5));
const int = (name: string, i: number): AttributeProto => ({ name, type: AttrType.INT, i });

interface Form { microsoft?: boolean; fourD?: boolean; attrs: AttributeProto[]; width: number; ids?: TensorProto | 'none'; undeclared?: boolean }

/** Angles of position p and frequency k; caches [MAX, width] (or [B, S, width] without position ids). */
const angle = (p: number, k: number) => p / 10 ** (k / 2) + 0.3;
const cache = (f: (a: number) => number, width: number, rows: number[]) => rows.flatMap((p) => Array.from({ length: width }, (_, k) => f(angle(p, k))));
const positionsPerRow = [0, 1, 2, 3, 2, 5, 3, 8];

/** The model's other inputs: position ids per row, or (without them) the angles per row and position. */
function feedsFor(form: Form): Record<string, ort.Tensor> {
  if (form.ids === 'none') {
    const t = (f: (a: number) => number) => new ort.Tensor('float32', Float32Array.from(cache(f, form.width, positionsPerRow)), [B, S, form.width]);
    return { cos: t(Math.cos), sin: t(Math.sin) };
  }
  return form.ids ? {} : { ids: new ort.Tensor('int64', BigInt64Array.from(positionsPerRow, BigInt), [B, S]) };
}

function rotaryModel(form: Form): Uint8Array {
  const ids = form.ids === 'none' ? '' : 'ids';
  const inputs = form.microsoft ? ['q_in', ids, 'cos', 'sin'] : ['q_in', 'cos', 'sin', ...(ids ? [ids] : [])];
  const nodes: NodeProto[] = [{ op_type: 'MatMul', input: ['x', 'w'], output: [form.fourD ? 'q3' : 'q_in'], name: 'q' }];
  if (form.fourD) {
    nodes.push({ op_type: 'Reshape', input: ['q3', 'heads_shape'], output: ['q4'], name: 'split' }, { op_type: 'Transpose', input: ['q4'], output: ['q_in'], name: 'heads', attribute: [{ name: 'perm', type: AttrType.INTS, ints: [0, 2, 1, 3] }] });
  }
  nodes.push(
    { op_type: 'RotaryEmbedding', domain: form.microsoft ? 'com.microsoft' : '', input: inputs, output: ['turned'], name: 'rotary', attribute: form.attrs },
    { op_type: 'ReduceSum', input: ['turned', form.fourD ? 'axis2' : 'axis1'], output: ['pooled'], name: 'pool', attribute: [int('keepdims', 0)] },
    ...(form.fourD ? [{ op_type: 'Reshape', input: ['pooled', 'flat'], output: ['pooled2'], name: 'flat' }] : []),
    { op_type: 'MatMul', input: [form.fourD ? 'pooled2' : 'pooled', 'head'], output: ['scores'], name: 'head' },
  );
  const rows = Array.from({ length: MAX }, (_, p) => p);
  const caches = form.ids === 'none' ? [] : [makeTensor('cos', [MAX, form.width], cache(Math.cos, form.width, rows), DataType.FLOAT), makeTensor('sin', [MAX, form.width], cache(Math.sin, form.width, rows), DataType.FLOAT)];
  const fed = form.ids === 'none' ? [valueInfo('cos', DataType.FLOAT, ['N', S, form.width]), valueInfo('sin', DataType.FLOAT, ['N', S, form.width])] : form.ids ? [] : [valueInfo('ids', DataType.INT64, ['N', S])];
  return encodeModel({
    ir_version: 10, opset_import: [{ domain: '', version: form.microsoft ? 17 : 23 }, ...(form.microsoft ? [{ domain: 'com.microsoft', version: 1 }] : [])],
    graph: {
      name: 'rotary', node: nodes,
      initializer: [
        makeTensor('w', [D, HEADS * H], values(D * HEADS * H, 0.7), DataType.FLOAT), makeTensor('head', [HEADS * H, 3], values(HEADS * H * 3), DataType.FLOAT),
        makeTensor('heads_shape', [4], [0, 0, HEADS, H], DataType.INT64), makeTensor('flat', [2], [0, -1], DataType.INT64),
        makeTensor('axis1', [1], [1], DataType.INT64), makeTensor('axis2', [1], [2], DataType.INT64),
        ...caches, ...(form.ids && form.ids !== 'none' ? [form.ids] : []),
      ],
      input: [valueInfo('x', DataType.FLOAT, ['N', S, D]), ...fed],
      output: [valueInfo('scores', DataType.FLOAT, ['N', 3])],
      value_info: form.undeclared ? [] : [valueInfo('q_in', DataType.FLOAT, form.fourD ? ['N', HEADS, S, H] : ['N', S, HEADS * H])],
    },
  });
}

async function kernelScores(model: Uint8Array, input: Float32Array, feeds: Record<string, ort.Tensor>): Promise<number[]> {
  const s = await ort.InferenceSession.create(model, { logSeverityLevel: 3 });
  const out = Array.from((await s.run({ x: new ort.Tensor('float32', input, [B, S, D]), ...feeds })).scores.data as Float32Array);
  await s.release();
  return out;
}

const cases: [string, Form][] = [
  ['opset 23, [B, S, heads·H], halves, position ids per row', { attrs: [int('num_heads', HEADS)], width: H / 2 }],
  ['opset 23, [B, heads, S, H], interleaved, half of each head turned', { fourD: true, attrs: [int('interleaved', 1), int('rotary_embedding_dim', 2)], width: 1 }],
  ['opset 23, [B, heads, S, H] behind a Transpose the graph gives no shape for (its rank from the perm)', { fourD: true, attrs: [], width: H / 2, undeclared: true }],
  ['opset 23, no position ids (caches per row and position)', { attrs: [int('num_heads', HEADS)], width: H / 2, ids: 'none' }],
  ['com.microsoft, [B, S, heads·H] without num_heads, one position id (the first position)', { microsoft: true, attrs: [], width: H / 2, ids: makeTensor('ids', [1], [3], DataType.INT64) }],
  ['com.microsoft, [B, heads, S, H], interleaved, one position id', { microsoft: true, fourD: true, attrs: [int('interleaved', 1)], width: H / 2, ids: makeTensor('ids', [1], [2], DataType.INT64) }],
  ['com.microsoft, [B, heads, S, H], interleaved, half of each head turned, position ids per row', { microsoft: true, fourD: true, attrs: [int('interleaved', 1), int('num_heads', HEADS), int('rotary_embedding_dim', 2)], width: 1 }],
];

for (const [what, form] of cases) {
  test(`RotaryEmbedding, ${what}: outputs equal onnxruntime's kernel, the gradient its central differences, DeepLIFT sums to delta`, async () => {
    const model = rotaryModel(form);
    const ex = await Explainer.load(model, { wrt: 'x' });
    const targets = [1, 2];
    const feeds = feedsFor(form);
    const options = { target: targets, feeds: Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, { data: t.data as Float32Array, dims: [...t.dims] }])) };
    const r = await ex.attribute({ data: x, dims: [B, S, D] }, options);
    const want = await kernelScores(model, x, feeds);
    assert.ok(relL2(r.outputs.scores.data, want) < 1e-6, `outputs: rel L2 ${relL2(r.outputs.scores.data, want)}`);
    const row = (i: number) => Math.floor(i / (S * D));
    const fd = await centralDifferences(x, 1e-3, (v) => kernelScores(model, v, feeds), (i) => row(i) * 3 + targets[row(i)]);
    assert.ok(relL2(r.attributions.data, fd) < 2e-3, `gradient vs central differences: rel L2 ${relL2(r.attributions.data, fd)}`);
    const d = await ex.attribute({ data: x, dims: [B, S, D] }, { ...options, method: 'deeplift' });
    for (const delta of d.delta!) assert.ok(Math.abs(delta) < 1e-5, `delta ${delta}`);
  });
}

test('GraphView.rank follows undeclared tensors through MatMul, Gather, Unsqueeze, Reshape and element-wise ops', () => {
  const node = (op_type: string, input: string[], output: string, attribute: AttributeProto[] = []): NodeProto => ({ op_type, input, output: [output], name: output, attribute });
  const view = new GraphView({
    ir_version: 8, opset_import: [{ domain: '', version: 11 }],
    graph: {
      name: 'ranks',
      node: [
        node('MatMul', ['x', 'w'], 'mm'), node('Gather', ['table', 'ids'], 'emb'), node('Add', ['mm', 'emb'], 'sum'),
        node('Unsqueeze', ['sum'], 'un', [{ name: 'axes', type: AttrType.INTS, ints: [1] }]), node('Reshape', ['un', 'shape'], 'flat'), node('Relu', ['ids_f'], 'r'),
      ],
      initializer: [makeTensor('w', [8, 4], new Array(32).fill(0), DataType.FLOAT), makeTensor('table', [10, 4], new Array(40).fill(0), DataType.FLOAT), makeTensor('shape', [2], [0, -1], DataType.INT64)],
      input: [valueInfo('x', DataType.FLOAT, ['N', 5, 8]), valueInfo('ids', DataType.INT64, ['N', 5]), { name: 'ids_f', type: { tensor_type: { elem_type: DataType.FLOAT } } }],
      output: [],
    },
  }, 'ranks');
  assert.equal(['mm', 'emb', 'sum', 'un', 'flat', 'r'].map((t) => view.rank(t)), [3, 3, 3, 4, 2, undefined]);
});

test('com.microsoft RotaryEmbedding with packed batching is refused in one line naming the node', async () => {
  await rejects(() => Explainer.load(rotaryModel({ microsoft: true, attrs: [int('is_packed_batching', 1)], width: H / 2 })), /node 'rotary' \(com\.microsoft\.RotaryEmbedding, opset 1\): packed batching and a scale other than 1 are not supported$/);
});

test.run();
