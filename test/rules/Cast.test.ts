import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Emitter } from '../../rewriter/emitter';
import { DataType, encodeModel, makeTensor, valueInfo } from '../../rewriter/proto';
import { Explainer } from '../../runtime';
import { gradcheck } from '../support/gradcheck';

test('Cast float to float, opset 8', () => gradcheck({ op: 'Cast', opset: 8, inputs: [{ shape: [2, 3, 4] }], attrs: { to: 1 } }));
test('Cast float to float, opset 13', () => gradcheck({ op: 'Cast', opset: 13, inputs: [{ shape: [3, 5] }], attrs: { to: 1 } }));

/** x [N, 4] → QuantizeLinear (uint8) → [Cast to uint8] → DequantizeLinear → · w → y [N, 2] (torch.onnx's form of a quantized model, with the Cast). */
function quantized(withCast: boolean): Uint8Array {
  const em = new Emitter(13, DataType.FLOAT, 'q');
  const [scale, zero] = ['q/scale', 'q/zero'];
  const q = em.op('QuantizeLinear', ['x', scale, zero]);
  const moved = withCast ? em.op('Cast', [q], { to: DataType.UINT8 }) : q;
  const dq = em.op('DequantizeLinear', [moved, scale, zero]);
  em.rename(em.matmul(dq, em.constFloat([0.5, -1, 2, 0.25, -0.75, 1.5, 1, 0.1], [4, 2])), 'y');
  return encodeModel({
    ir_version: 8, opset_import: [{ domain: '', version: 13 }],
    graph: {
      name: 'quantized', node: em.nodes, output: [valueInfo('y', DataType.FLOAT, ['N', 2])], input: [valueInfo('x', DataType.FLOAT, ['N', 4])],
      initializer: [...em.initializers, makeTensor(scale, [], [0.05], DataType.FLOAT), { name: zero, dims: [], data_type: DataType.UINT8, raw_data: Uint8Array.of(128) }],
    },
  });
}

test('Cast to the type its input has (uint8 → uint8 between QuantizeLinear and DequantizeLinear, as torch.onnx exports quantized models) passes the gradient as the model without it does', async () => {
  const x = { data: Float32Array.of(0.31, -0.52, 1.04, 0.2, -1.3, 0.66, 0.07, -0.4), dims: [2, 4] };
  const [plain, cast] = await Promise.all([quantized(false), quantized(true)].map((m) => Explainer.load(m)));
  for (const method of ['gradient', 'deeplift'] as const) {
    const [want, got] = await Promise.all([plain, cast].map((ex) => ex.attribute(x, { method, target: [1, 0] })));
    assert.ok(want.attributions.data.some((v) => v !== 0), `${method}: the model without the Cast has a gradient`);
    assert.equal(Array.from(got.attributions.data), Array.from(want.attributions.data), method);
  }
});

test.run();
