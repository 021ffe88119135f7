import * as ort from 'onnxruntime-node';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AttrType, DataType, encodeModel, makeTensor, ModelProto, valueInfo } from '../rewriter/proto';
import { Explainer } from '../runtime';
import { centralDifferences } from './support/central';
import { relL2 } from './support/fixtures';
import { rejects } from './support/rejects';

/**
 * x [N, 2, 5, 5] → Conv with a pruned 3×3 kernel held as a sparse initializer → times a scale held
 * by a Constant's sparse_value → mean over H, W: [N, 3]. The kernel's non-zeros are given either
 * as flat indices [NNZ] or as coordinates [NNZ, 4] (onnx-graphsurgeon writes both).
 */
const kernel = Array.from({ length: 3 * 2 * 9 }, (_, i) => (i % 4 === 1 ? 0.3 * Math.sin(i) + 0.2 : 0));
const nonzero = kernel.flatMap((v, i) => (v ? [i] : []));
const coordinates = nonzero.flatMap((i) => [Math.floor(i / 18), Math.floor(i / 9) % 2, Math.floor(i / 3) % 3, i % 3]);

function model(coordinateIndices: boolean, outside = false, extraIndex = false): Uint8Array {
  const at = [...(coordinateIndices ? coordinates : nonzero.map((i, k) => (outside && k === 0 ? 54 : i))), ...(extraIndex ? [0] : [])];
  const m: ModelProto = {
    ir_version: 8, opset_import: [{ domain: '', version: 13 }], producer_name: 'onnx-graphsurgeon',
    graph: {
      name: 'sparse',
      node: [
        { op_type: 'Conv', input: ['x', 'w_sparse'], output: ['conv'], name: 'conv', attribute: [{ name: 'kernel_shape', type: AttrType.INTS, ints: [3, 3] }] },
        {
          op_type: 'Constant', output: ['scale'], name: 'scale',
          attribute: [{ name: 'sparse_value', type: 11, sparse_tensor: { values: makeTensor('scale', [2], [2, -0.5], DataType.FLOAT), indices: makeTensor('scale_indices', [2], [0, 2], DataType.INT64), dims: [3, 1, 1] } }],
        },
        { op_type: 'Mul', input: ['conv', 'scale'], output: ['scaled'], name: 'mul' },
        { op_type: 'ReduceMean', input: ['scaled'], output: ['y'], name: 'pool', attribute: [{ name: 'axes', type: AttrType.INTS, ints: [2, 3] }, { name: 'keepdims', type: AttrType.INT, i: 0 }] },
      ],
      sparse_initializer: [{
        values: makeTensor('w_sparse', [nonzero.length], nonzero.map((i) => kernel[i]), DataType.FLOAT),
        indices: makeTensor('w_indices', coordinateIndices ? [nonzero.length, 4] : [at.length], at, DataType.INT64),
        dims: [3, 2, 3, 3],
      }],
      input: [valueInfo('x', DataType.FLOAT, ['N', 2, 5, 5])], output: [valueInfo('y', DataType.FLOAT, ['N', 3])],
    },
  };
  return encodeModel(m);
}

const x = Float32Array.from({ length: 2 * 50 }, (_, i) => Math.cos(0.37 * i) * 1.2);

test('sparse initializers (flat and coordinate indices) and a Constant\'s sparse_value are read as onnxruntime reads them: the same outputs, the gradient its central differences, DeepLIFT sums to delta (they were refused: the weight "no node, input or initializer produces")', async () => {
  for (const coordinateIndices of [false, true]) {
    const bytes = model(coordinateIndices);
    const session = await ort.InferenceSession.create(bytes, { logSeverityLevel: 3 });
    const run = async (v: Float32Array) => (await session.run({ x: new ort.Tensor('float32', v, [2, 2, 5, 5]) })).y.data as Float32Array;
    const ex = await Explainer.load(bytes);
    const r = await ex.attribute({ data: x, dims: [2, 2, 5, 5] }, { target: [0, 2] });
    assert.ok(relL2(r.outputs.y.data, await run(x)) < 1e-6, `outputs ${r.outputs.y.data} vs ${await run(x)}`);
    const fd = await centralDifferences(x, 1e-2, run, (i) => (i < 50 ? 0 : 5));
    assert.ok(relL2(r.attributions.data, fd) < 1e-3, `gradient vs central differences: rel L2 ${relL2(r.attributions.data, fd)}`);
    const d = await ex.attribute({ data: x, dims: [2, 2, 5, 5] }, { target: [0, 2], method: 'deeplift' });
    for (const delta of d.delta!) assert.ok(Math.abs(delta) < 1e-6, `delta ${delta}`);
  }
});

test('a sparse index outside its tensor, or more indices than values, is refused in one line naming the tensor', async () => {
  await rejects(() => Explainer.load(model(false, true)), /^<bytes>: sparse tensor 'w_sparse' \[3,2,3,3\]: an index lies outside the tensor$/);
  await rejects(() => Explainer.load(model(false, false, true)), new RegExp(`^<bytes>: sparse tensor 'w_sparse' \\[3,2,3,3\\]: ${nonzero.length} values for ${nonzero.length + 1} indices$`));
});

test.run();
