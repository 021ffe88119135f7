import * as ort from 'onnxruntime-node';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AttrType, DataType, encodeModel, ModelProto, NodeProto, valueInfo } from '../rewriter/proto';
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

test('dynamic quantization below opset 13 is refused naming the quantizer (per-row statistics need QuantizeLinear\'s axis)', async () => {
  await rejects(() => Explainer.load(model(11)), /node 'a_q' \(DynamicQuantizeLinear, opset 11\): dynamic quantization is explained with per-row statistics, which need QuantizeLinear's axis \(opset 13\)/);
});

test('an integer chain of another form is left as it is, and the walk names the op it cannot differentiate', async () => {
  const other = model(13, [
    { op_type: 'Cast', input: ['acc'], output: ['acc_f'], name: 'cast', attribute: [{ name: 'to', type: AttrType.INT, i: DataType.FLOAT }] },
    { op_type: 'Mul', input: ['acc_f', 'a_s'], output: ['gram'], name: 'one scale' },
  ]);
  const ex = await Explainer.load(other);
  await rejects(() => ex.attribute({ data: x, dims: [N, R, C] }, { target: [0, 0, 0] }), /no backward rule for node 'a_q' \(DynamicQuantizeLinear, opset 13\)/);
});

test.run();
