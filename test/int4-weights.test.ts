import * as ort from 'onnxruntime-node';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AttrType, DataType, encodeModel, makeTensor, ModelProto, TensorProto, valueInfo } from '../rewriter/proto';
import { Explainer } from '../runtime';
import { centralDifferences } from './support/central';
import { relL2 } from './support/fixtures';
import { rng } from './support/gradcheck';
import { rejects } from './support/rejects';

/**
 * Opset 21's 4-bit weights (onnxruntime's MatMulNBitsQuantizer in QDQ format, Olive): x [N, 8] →
 * MatMul with DequantizeLinear(INT4 [8, 6], scales per block of 4 rows) → Relu → MatMul with
 * DequantizeLinear(UINT4 [6, 3] with UINT4 zero points, blocks of 4 so the last is short; 18 codes).
 */
const rand = rng(23);
const [K, H, O] = [8, 6, 3];

function nibbles(name: string, dims: number[], type: number, values: number[]): TensorProto {
  const bytes = new Uint8Array(Math.ceil(values.length / 2));
  values.forEach((v, i) => { bytes[i >> 1] |= (v & 15) << (4 * (i & 1)); });
  return { name, dims, data_type: type, raw_data: bytes };
}

function int4Model(bytes = Math.ceil((K * H) / 2)): Uint8Array {
  const dq = (q: string, s: string, z?: string) => ({ op_type: 'DequantizeLinear', input: [q, s, ...(z ? [z] : [])], output: [`${q}_dq`], name: `${q}_dq`, attribute: [{ name: 'axis', type: AttrType.INT, i: 0 }, { name: 'block_size', type: AttrType.INT, i: 4 }] });
  const w1 = nibbles('w1', [K, H], DataType.INT4, Array.from({ length: K * H }, () => Math.floor(rand() * 16) - 8));
  const m: ModelProto = {
    ir_version: 10, opset_import: [{ domain: '', version: 21 }], producer_name: 'qdq-int4-style',
    graph: {
      name: 'int4',
      node: [
        dq('w1', 's1'), { op_type: 'MatMul', input: ['x', 'w1_dq'], output: ['h'], name: 'fc1' }, { op_type: 'Relu', input: ['h'], output: ['a'], name: 'relu' },
        dq('w2', 's2', 'z2'), { op_type: 'MatMul', input: ['a', 'w2_dq'], output: ['y'], name: 'fc2' },
      ],
      initializer: [
        { ...w1, raw_data: w1.raw_data!.slice(0, bytes) }, makeTensor('s1', [K / 4, H], Array.from({ length: 2 * H }, () => 0.05 + 0.1 * rand()), DataType.FLOAT),
        nibbles('w2', [H, O], DataType.UINT4, Array.from({ length: H * O }, () => Math.floor(rand() * 16))), makeTensor('s2', [2, O], Array.from({ length: 2 * O }, () => 0.05 + 0.1 * rand()), DataType.FLOAT),
        nibbles('z2', [2, O], DataType.UINT4, [7, 8, 9, 6, 8, 10]),
      ],
      input: [valueInfo('x', DataType.FLOAT, ['N', K])], output: [valueInfo('y', DataType.FLOAT, ['N', O])],
    },
  };
  return encodeModel(m);
}

async function run(model: Uint8Array, x: Float32Array): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(model, { logSeverityLevel: 3 });
  const out = await s.run({ x: new ort.Tensor('float32', x, [x.length / K, K]) });
  await s.release();
  return out.y.data as Float32Array;
}

test('INT4 and UINT4 weights with blocked DequantizeLinear (opset 21): outputs equal onnxruntime\'s, the gradient its central differences, DeepLIFT sums to delta', async () => {
  const model = int4Model();
  const x = Float32Array.from({ length: 2 * K }, () => rand() * 2 - 1);
  const ex = await Explainer.load(model);
  const targets = [2, 0];
  const r = await ex.attribute({ data: x, dims: [2, K] }, { target: targets });
  assert.ok(relL2(r.outputs.y.data, await run(model, x)) < 1e-6, 'outputs');
  const fd = await centralDifferences(x, 1e-3, (v) => run(model, v), (i) => Math.floor(i / K) * O + targets[Math.floor(i / K)]);
  assert.ok(relL2(r.attributions.data, fd) < 2e-3, `gradient vs central differences: rel L2 ${relL2(r.attributions.data, fd)}`);
  const d = await ex.attribute({ data: x, dims: [2, K] }, { target: targets, method: 'deeplift' });
  for (const delta of d.delta!) assert.ok(Math.abs(delta) < 1e-5, `delta ${delta}`);
});

test('a 4-bit initializer with too few bytes for its shape is refused in one line', async () => {
  const ex = await Explainer.load(int4Model(20));
  await rejects(() => ex.attribute({ data: new Float32Array(K), dims: [1, K] }, { target: 0 }), /initializer 'w1' holds 20 bytes for shape \[8,6\]$/);
});

test.run();
