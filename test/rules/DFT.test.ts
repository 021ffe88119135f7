import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AttrType, DataType, encodeModel, makeTensor, valueInfo } from '../../rewriter/proto';
import { Explainer } from '../../runtime';
import { gradcheck } from '../support/gradcheck';

const length = (n: number) => ({ shape: [], value: [n], int64: true });
const none = { shape: [0], omitted: true };

test('DFT of a real signal along axis 1, two- and one-sided, opset 17', async () => {
  await gradcheck({ op: 'DFT', opset: 17, inputs: [{ shape: [2, 12, 1] }], attrs: { axis: 1 } });
  await gradcheck({ op: 'DFT', opset: 17, inputs: [{ shape: [2, 12, 1] }], attrs: { axis: 1, onesided: 1 } });
});
test('DFT of a complex signal along a middle axis, cut (dft_length 6) and zero-padded (14), forward and inverse, opset 17', async () => {
  for (const n of [6, 14]) for (const inverse of [0, 1]) await gradcheck({ op: 'DFT', opset: 17, inputs: [{ shape: [2, 3, 10, 2] }, length(n)], attrs: { axis: 2, inverse } });
});
test('DFT with the axis as an input (default −2) and a one-sided real transform, opset 20', async () => {
  await gradcheck({ op: 'DFT', opset: 20, inputs: [{ shape: [2, 9, 1] }], attrs: { onesided: 1 } });
  await gradcheck({ op: 'DFT', opset: 20, inputs: [{ shape: [2, 9, 1] }, none, { shape: [], value: [-2], int64: true }], attrs: { onesided: 1 } });
  await gradcheck({ op: 'DFT', opset: 20, inputs: [{ shape: [2, 5, 4, 2] }, length(5), { shape: [], value: [1], int64: true }], attrs: { inverse: 1 } });
});

test('DFT inverse one-sided (irfft: a Hermitian spectrum\'s first bins to a real signal), n even, odd (dft_length 9) and at opset 20', async () => {
  await gradcheck({ op: 'DFT', opset: 17, inputs: [{ shape: [2, 5, 2] }], attrs: { axis: 1, inverse: 1, onesided: 1 } });
  await gradcheck({ op: 'DFT', opset: 17, inputs: [{ shape: [2, 3, 5, 2] }, length(9)], attrs: { axis: 2, inverse: 1, onesided: 1 } });
  await gradcheck({ op: 'DFT', opset: 20, inputs: [{ shape: [2, 4, 2] }], attrs: { inverse: 1, onesided: 1 } });
});
test('DFT-20 with its axis input named \'\' (onnxruntime 1.30 crashes on it): the trailing empty input is left out, and the gradient equals that of the same model without it', async () => {
  const model = (inputs: string[]): Uint8Array => encodeModel({
    ir_version: 10, opset_import: [{ domain: '', version: 20 }],
    graph: {
      name: 'dft', initializer: [makeTensor('len', [], [9], DataType.INT64), makeTensor('last', [1], [2], DataType.INT64), makeTensor('head', [5, 2], [0.3, -0.2, 0.5, 0.1, -0.4, 0.7, 0.2, 0.2, -0.1, 0.6], DataType.FLOAT)],
      node: [
        { op_type: 'DFT', input: inputs, output: ['spectrum'], name: 'dft', attribute: [{ name: 'onesided', type: AttrType.INT, i: 1 }] },
        { op_type: 'ReduceSumSquare', input: ['spectrum', 'last'], output: ['power'], name: 'power', attribute: [{ name: 'keepdims', type: AttrType.INT, i: 0 }] },
        { op_type: 'MatMul', input: ['power', 'head'], output: ['y'], name: 'head' },
      ],
      input: [valueInfo('x', DataType.FLOAT, ['N', 9, 1])], output: [valueInfo('y', DataType.FLOAT, ['N', 2])],
    },
  });
  const x = { data: Float32Array.from({ length: 18 }, (_, i) => Math.sin(0.7 * i)), dims: [2, 9, 1] };
  const [empty, plain] = await Promise.all([model(['x', 'len', '']), model(['x', 'len'])].map(async (m) => (await Explainer.load(m)).attribute(x, { target: [1, 0] })));
  assert.equal(Array.from(empty.attributions.data), Array.from(plain.attributions.data));
  assert.ok(plain.attributions.data.some((v) => v !== 0));
});

test.run();
