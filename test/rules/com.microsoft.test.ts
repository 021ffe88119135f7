import { test } from 'uvu';
import { float } from '../../rewriter/emitter';
import { ModelProto } from '../../rewriter/proto';
import { deeplift } from '../../rules/methods/deeplift';
import { gradcheck, gradcheckModel, OpCase, singleOpModel, withNodeOutputs } from '../support/gradcheck';
import { sumcheck } from '../support/sumcheck';

// The ops onnxruntime's transformer optimiser writes (contrib domain com.microsoft, version 1).
const ms = (c: Omit<OpCase, 'domain'>): OpCase => ({ ...c, domain: 'com.microsoft' });
const bias = { shape: [4], value: [0.3, -0.2, 0.5, -1] };
const x = { shape: [2, 3, 4], range: [-3, 3] as [number, number] };

test('com.microsoft Gelu', () => gradcheck(ms({ op: 'Gelu', opset: 17, inputs: [x] })));
test('com.microsoft BiasGelu', () => gradcheck(ms({ op: 'BiasGelu', opset: 17, inputs: [x, bias] })));
test('com.microsoft FastGelu with bias', () => gradcheck(ms({ op: 'FastGelu', opset: 17, inputs: [x, bias] })));
test('com.microsoft FastGelu without bias', () => gradcheck(ms({ op: 'FastGelu', opset: 13, inputs: [x] })));
test('com.microsoft QuickGelu, alpha 1.5', () => gradcheck(ms({ op: 'QuickGelu', opset: 17, inputs: [x], attrs: { alpha: float(1.5) } })));
// No alpha attribute: the contrib default 1.702 (x·sigmoid(1.702·x)).
test('com.microsoft QuickGelu without an alpha attribute (default 1.702)', () => gradcheck(ms({ op: 'QuickGelu', opset: 17, inputs: [x] })));
test('com.microsoft FusedMatMul transB, alpha 0.5', () =>
  gradcheck(ms({ op: 'FusedMatMul', opset: 17, inputs: [{ shape: [2, 3, 4] }, { shape: [2, 5, 4] }], attrs: { transB: 1, alpha: float(0.5) } })));
test('com.microsoft FusedMatMul transA', () =>
  gradcheck(ms({ op: 'FusedMatMul', opset: 13, inputs: [{ shape: [4, 3] }, { shape: [4, 5] }], attrs: { transA: 1 } })));
// Broadcast batch axes, as a tied LM head's FusedMatMul(hidden [B, S, H], embeddings [V, H], transB) has.
test('com.microsoft FusedMatMul transB, a weight [5, 4] broadcast against [2, 3, 4]', () =>
  gradcheck(ms({ op: 'FusedMatMul', opset: 17, inputs: [{ shape: [2, 3, 4] }, { shape: [5, 4], value: Array.from({ length: 20 }, (_, k) => Math.sin(1.3 * k)) }], attrs: { transB: 1 } })));
// onnxruntime's fusion of a Transpose that moves a seq-first operand's batch axis ([L, N, d] → [N, L, d]).
// A 1-D operand: onnxruntime's MatMul+Mul fusion of (h·w)·s with w [K] (extended optimisation), beside a transposed one.
for (const [a, b, attrs] of [[[2, 3, 4], [4], { alpha: float(0.5) }], [[4], [2, 4, 5], { transA: 1 }], [[2, 3, 4], [4], { transB: 1 }], [[4], [2, 5, 4], { transB: 1, alpha: float(2) }], [[2, 3, 1, 5], [5], {}]] as [number[], number[], Record<string, unknown>][]) {
  test(`com.microsoft FusedMatMul ${JSON.stringify(a)} × ${JSON.stringify(b)} ${JSON.stringify(attrs)}`, () =>
    gradcheck(ms({ op: 'FusedMatMul', opset: 13, inputs: [{ shape: a }, { shape: b }], attrs: attrs as never })));
}
test('com.microsoft FusedMatMul transBatchA', () =>
  gradcheck(ms({ op: 'FusedMatMul', opset: 17, inputs: [{ shape: [3, 2, 4] }, { shape: [2, 4, 5] }], attrs: { transBatchA: 1 } })));
test('com.microsoft FusedMatMul transBatchB and transB, transBatchA and transA, rank 4', () =>
  gradcheck(ms({ op: 'FusedMatMul', opset: 17, inputs: [{ shape: [4, 2, 3, 5] }, { shape: [6, 2, 3, 4] }], attrs: { transBatchA: 1, transA: 1, transBatchB: 1, transB: 1, alpha: float(0.5) } })));
test('com.microsoft FusedMatMul transA, batch [2, 1] against [3]', () =>
  gradcheck(ms({ op: 'FusedMatMul', opset: 17, inputs: [{ shape: [2, 1, 4, 3] }, { shape: [3, 4, 5] }], attrs: { transA: 1, alpha: float(-0.7) } })));
test('com.microsoft TransposeMatMul (FusedMatMul\'s former name) transA, alpha −0.7', () =>
  gradcheck(ms({ op: 'TransposeMatMul', opset: 13, inputs: [{ shape: [2, 4, 3] }, { shape: [2, 4, 5] }], attrs: { transA: 1, alpha: float(-0.7) } })));
test('com.microsoft SkipLayerNormalization with bias', () =>
  gradcheck(ms({ op: 'SkipLayerNormalization', opset: 17, inputs: [x, { shape: [2, 3, 4] }, { shape: [4], value: [1, 0.5, -1, 2] }, { shape: [4], value: [0, 1, 0, 1] }, bias], attrs: { epsilon: float(1e-5) } })));
// No epsilon attribute: the contrib default 1e-12, which matters against 1e-3 where the variance is small.
test('com.microsoft SkipLayerNormalization without an epsilon attribute (default 1e-12), inputs within ±0.1', () => {
  const small = { shape: [1, 2, 4], range: [-0.1, 0.1] as [number, number] };
  return gradcheck(ms({ op: 'SkipLayerNormalization', opset: 17, h: 1e-3, inputs: [small, small, { shape: [4], value: [1, 0.5, -1, 2] }, { shape: [4], value: [0, 1, 0, 1] }] }));
});
test('com.microsoft SkipLayerNormalization with the input_skip_bias_sum output seeded', () => {
  const c = ms({ op: 'SkipLayerNormalization', opset: 17, inputs: [x, { shape: [2, 3, 4] }, { shape: [4], value: [1, 0.5, -1, 2] }], attrs: { epsilon: float(1e-5) } });
  return gradcheckModel(withNodeOutputs(c, ['y0', '', '', 'y3']), c);
});

// Exporters before opset 16 wrote GridSample in the contrib domain (torch.onnx's and mmcv's custom
// symbolic): onnxruntime's CPU kernel computes the standard op. Grid points away from pixel
// centres (the kinks of linear sampling), one outside the image.
const gridPoints = { shape: [2, 2, 3, 2], value: [-0.93, -0.72, 0.31, 0.52, 1.13, -0.27, 0.55, 0.07, -0.45, 0.93, 0.08, -0.33, 0.71, 0.69, -0.21, 0.28, 0.93, -0.91, -0.67, 0.4, 0.3, 0.73, -0.1, -0.5] };
const image = { shape: [2, 2, 4, 5] };
for (const [mode, padding, align] of [['bilinear', 'zeros', 0], ['bilinear', 'border', 1], ['bilinear', 'reflection', 0], ['bicubic', 'zeros', 0], ['bicubic', 'reflection', 1]] as const) {
  test(`com.microsoft GridSample ${mode}, ${padding} padding, align_corners ${align}: input and grid gradients = central differences of onnxruntime's kernel`, () =>
    gradcheck(ms({ op: 'GridSample', opset: 13, inputs: [image, { shape: gridPoints.shape, data: gridPoints.value }], attrs: { mode, padding_mode: padding, align_corners: align }, h: 1e-3 })));
}
test('DeepLIFT through com.microsoft GridSample with a constant grid sums to delta', async () => {
  await sumcheck(deeplift, ms({ op: 'GridSample', opset: 13, inputs: [image, gridPoints], attrs: { mode: 'bicubic', padding_mode: 'border' } }));
});

/**
 * onnxruntime's CPU provider has no BiasAdd kernel: what it runs has each BiasAdd(X, bias, skip)
 * written as Add(Add(X, bias), skip), the contrib spec's definition, while the augmented graph's
 * backward nodes are still the BiasAdd rule's.
 */
function biasAddAsAdds(model: ModelProto): ModelProto {
  const node = model.graph!.node!.flatMap((n) => {
    if (n.op_type !== 'BiasAdd' || n.domain !== 'com.microsoft') return [n];
    const [x, b, skip] = n.input!;
    const sum = `${n.output![0]}/x+bias`;
    return [{ op_type: 'Add', input: [x, b], output: [sum], name: sum }, { op_type: 'Add', input: [sum, skip], output: n.output, name: n.name }];
  });
  return { ...model, graph: { ...model.graph, node } };
}

test('com.microsoft BiasAdd (bias and skip also differentiated) against finite differences of Add(Add(X, bias), skip)', () => {
  const c = ms({ op: 'BiasAdd', opset: 17, inputs: [x, { shape: [4] }, { shape: [2, 3, 4] }] });
  return gradcheckModel(singleOpModel(c), c, biasAddAsAdds);
});

test.run();
