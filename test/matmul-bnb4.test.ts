import * as ort from 'onnxruntime-node';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { matMulNBitsToMatMul } from '../rewriter/matmul-nbits';
import { AttrType, DataType, decodeModel, encodeModel, makeTensor, ModelProto, NodeProto, TensorProto, valueInfo } from '../rewriter/proto';
import { Explainer } from '../runtime';
import { centralDifferences } from './support/central';
import { relL2 } from './support/fixtures';
import { rng } from './support/gradcheck';
import { rejects } from './support/rejects';

/**
 * transformers.js' model_bnb4.onnx form: x [N, 20] → com.microsoft.MatMulBnb4 (NF4, 20 → 12,
 * blocks of 64 so the last is short) → Tanh → MatMulBnb4 (FP4, 12 → 5, blocks of 16) → Relu →
 * MatMulBnb4 (NF4, 5 → 3: 15 codes, an odd count, so the last byte holds one).
 */
const rand = rng(9);
const LAYERS = [{ K: 20, N: 12, block: 64, type: 1 }, { K: 12, N: 5, block: 16, type: 0 }, { K: 5, N: 3, block: 16, type: 1 }];
const [ROWS, FEATURES] = [2, LAYERS[0].K];
const x = Float32Array.from({ length: ROWS * FEATURES }, () => rand() * 2 - 1);

function bnb4Model(quantType?: number): Uint8Array {
  const int = (name: string, i: number) => ({ name, type: AttrType.INT, i });
  const node: NodeProto[] = [];
  const initializer: TensorProto[] = [];
  let h = 'x';
  LAYERS.forEach(({ K, N, block, type }, l) => {
    const bytes = Math.ceil((K * N) / 2);
    initializer.push(
      { name: `b${l}`, dims: [bytes], data_type: DataType.UINT8, raw_data: Uint8Array.from({ length: bytes }, () => Math.floor(rand() * 256)) },
      makeTensor(`absmax${l}`, [Math.ceil((K * N) / block)], Array.from({ length: Math.ceil((K * N) / block) }, () => 0.3 + rand()), DataType.FLOAT),
    );
    const out = l === LAYERS.length - 1 ? 'y' : `mm${l}`;
    node.push({ op_type: 'MatMulBnb4', domain: 'com.microsoft', input: [h, `b${l}`, `absmax${l}`], output: [out], name: `fc${l}`, attribute: [int('K', K), int('N', N), int('block_size', block), int('quant_type', quantType ?? type)] });
    if (l < LAYERS.length - 1) node.push({ op_type: l ? 'Relu' : 'Tanh', input: [out], output: [`act${l}`], name: `act${l}` });
    h = `act${l}`;
  });
  const m: ModelProto = {
    ir_version: 8, opset_import: [{ domain: '', version: 17 }, { domain: 'com.microsoft', version: 1 }], producer_name: 'transformers.js-bnb4-style',
    graph: { name: 'bnb4', node, initializer, input: [valueInfo('x', DataType.FLOAT, ['N', FEATURES])], output: [valueInfo('y', DataType.FLOAT, ['N', 3])] },
  };
  return encodeModel(m);
}

async function run(model: Uint8Array, input: Float32Array): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(model, { logSeverityLevel: 3 });
  const out = await s.run({ x: new ort.Tensor('float32', input, [ROWS, FEATURES]) });
  await s.release();
  return out.y.data as Float32Array;
}

test('com.microsoft MatMulBnb4 (NF4 and FP4, short last blocks, an odd code count): the dequantized MatMuls give onnxruntime\'s outputs, the gradient its central differences, DeepLIFT sums to delta', async () => {
  const model = bnb4Model();
  const kernel = await run(model, x);
  const read = await run(encodeModel(matMulNBitsToMatMul(decodeModel(model), 'bnb4.onnx')), x);
  assert.ok(relL2(read, kernel) < 1e-6, `outputs: rel L2 ${relL2(read, kernel)}`);
  const ex = await Explainer.load(model);
  const targets = [1, 2];
  const g = await ex.attribute({ data: x, dims: [ROWS, FEATURES] }, { target: targets });
  const fd = await centralDifferences(x, 1e-3, (v) => run(model, v), (i) => Math.floor(i / FEATURES) * 3 + targets[Math.floor(i / FEATURES)]);
  assert.ok(relL2(g.attributions.data, fd) < 2e-3, `gradient vs central differences: rel L2 ${relL2(g.attributions.data, fd)}`);
  const d = await ex.attribute({ data: x, dims: [ROWS, FEATURES] }, { target: targets, method: 'deeplift', baseline: { data: x.map((v) => -v), dims: [ROWS, FEATURES] } });
  for (const delta of d.delta!) assert.ok(Math.abs(delta) < 1e-5, `delta ${delta}`);
});

test('com.microsoft MatMulBnb4 with an unknown quant_type, or absmax of the wrong count, is refused in one line naming the node', async () => {
  await rejects(() => Explainer.load(bnb4Model(2)), /node 'fc0' \(com\.microsoft\.MatMulBnb4, opset 1\): K 20, N 12, block_size 64 and quant_type 2 do not describe a weight/);
  const short = decodeModel(bnb4Model());
  short.graph!.initializer = short.graph!.initializer!.map((t) => (t.name === 'absmax1' ? makeTensor('absmax1', [2], [1, 1], DataType.FLOAT) : t));
  await rejects(() => Explainer.load(encodeModel(short)), /node 'fc1' .*B has 30 bytes and absmax 2 values where K 12, N 5 and block_size 16 need 30 and 4$/);
});

test.run();
