import * as ort from 'onnxruntime-node';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { matMulNBitsToMatMul } from '../rewriter/matmul-nbits';
import { AttrType, DataType, decodeModel, encodeModel, makeTensor, ModelProto, TensorProto, valueInfo } from '../rewriter/proto';
import { Explainer } from '../runtime';
import { relL2 } from './support/fixtures';
import { rng } from './support/gradcheck';
import { rejects } from './support/rejects';

/**
 * input_ids [N, 4] → com.microsoft.GatherBlockQuantized (a token table of 9 rows and 48 features
 * in blocks of 32, so the last block is short; uint8 codes of 4 or 8 bits, zero points packed or
 * absent) → the mean over positions → 3 scores.
 */
const [ROWS, COLS, BLOCK] = [9, 48, 32];
const BLOCKS = Math.ceil(COLS / BLOCK);
const rand = rng(5);
const bytes = (name: string, dims: number[]): TensorProto => ({ name, dims, data_type: DataType.UINT8, raw_data: Uint8Array.from({ length: dims[0] * dims[1] }, () => Math.floor(rand() * 256)) });

function tableModel(bits: 4 | 8, zeros: boolean): Uint8Array {
  const int = (name: string, i: number) => ({ name, type: AttrType.INT, i });
  const zeroBytes = Math.ceil((BLOCKS * bits) / 8);
  const m: ModelProto = {
    ir_version: 8, opset_import: [{ domain: '', version: 13 }, { domain: 'com.microsoft', version: 1 }], producer_name: 'transformers.js-q4-style',
    graph: {
      name: 'table',
      node: [
        { op_type: 'GatherBlockQuantized', domain: 'com.microsoft', input: ['codes', 'input_ids', 'scales', ...(zeros ? ['zeros'] : [])], output: ['embedded'], name: 'embed', attribute: [int('bits', bits), int('block_size', BLOCK), int('gather_axis', 0), int('quantize_axis', 1)] },
        { op_type: 'ReduceMean', input: ['embedded'], output: ['pooled'], name: 'pool', attribute: [{ name: 'axes', type: AttrType.INTS, ints: [1] }, int('keepdims', 0)] },
        { op_type: 'MatMul', input: ['pooled', 'head'], output: ['scores'], name: 'head' },
      ],
      initializer: [
        bytes('codes', [ROWS, (COLS * bits) / 8]),
        makeTensor('scales', [ROWS, BLOCKS], Array.from({ length: ROWS * BLOCKS }, () => 0.01 + 0.05 * rand()), DataType.FLOAT),
        ...(zeros ? [bytes('zeros', [ROWS, zeroBytes])] : []),
        makeTensor('head', [COLS, 3], Array.from({ length: COLS * 3 }, () => rand() * 2 - 1), DataType.FLOAT),
      ],
      input: [valueInfo('input_ids', DataType.INT64, ['N', 4])],
      output: [valueInfo('scores', DataType.FLOAT, ['N', 3])],
    },
  };
  return encodeModel(m);
}

const ids = [3, 0, 8, 5, 1, 1, 7, 2];

async function run(model: Uint8Array): Promise<Record<string, Float32Array>> {
  const s = await ort.InferenceSession.create(model, { logSeverityLevel: 3 });
  const out = await s.run({ input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [2, 4]) });
  await s.release();
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.data as Float32Array]));
}

for (const [bits, zeros] of [[4, true], [4, false], [8, true], [8, false]] as const) {
  test(`com.microsoft GatherBlockQuantized, ${bits} bits, zero points ${zeros ? 'packed' : 'by default'}: the dequantized table gives onnxruntime's outputs; the ids are explained at its rows and DeepLIFT sums to delta`, async () => {
    const model = tableModel(bits, zeros);
    const kernel = await run(model);
    const read = await run(encodeModel(matMulNBitsToMatMul(decodeModel(model), 'q4.onnx')));
    assert.ok(relL2(read.scores, kernel.scores) < 1e-6, `scores: rel L2 ${relL2(read.scores, kernel.scores)}`);
    const ex = await Explainer.load(model);
    assert.is(ex.tokens?.ids.name, 'input_ids');
    const d = await ex.attribute({ data: Int32Array.from(ids), dims: [2, 4] }, { target: [2, 0], method: 'deeplift' });
    assert.ok(relL2(d.outputs.scores.data, kernel.scores) < 1e-6, `explained outputs: rel L2 ${relL2(d.outputs.scores.data, kernel.scores)}`);
    for (const delta of d.delta!) assert.ok(Math.abs(delta) < 1e-5, `delta ${delta}`);
  });
}

test('com.microsoft GatherBlockQuantized with another quantize axis, or scales of the wrong count, is refused in one line naming the node', async () => {
  const m = decodeModel(tableModel(4, false));
  const node = m.graph!.node![0];
  node.attribute = node.attribute!.map((a) => (a.name === 'quantize_axis' ? { ...a, i: 0 } : a));
  assert.throws(() => matMulNBitsToMatMul(m, 'q4.onnx'), /^q4\.onnx: node 'embed' \(com\.microsoft\.GatherBlockQuantized, opset 1\): only gather_axis 0 and quantize_axis 1 are supported$/);
  const short = decodeModel(tableModel(4, false));
  short.graph!.initializer = short.graph!.initializer!.map((t) => (t.name === 'scales' ? makeTensor('scales', [ROWS, 1], Array(ROWS).fill(0.1), DataType.FLOAT) : t));
  await rejects(() => Explainer.load(encodeModel(short)), /the scales have 9 values where 9 rows of 2 blocks need 18$/);
});

test.run();
