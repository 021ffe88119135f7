import * as ort from 'onnxruntime-node';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AttrType, AttributeProto, DataType, encodeModel, makeTensor, ModelProto, NodeProto, valueInfo } from '../rewriter/proto';
import { Explainer } from '../runtime';
import { centralDifferences } from './support/central';
import { relL2 } from './support/fixtures';
import { rejects } from './support/rejects';

/**
 * Opset-7 models with the experimental ops of ONNX's first opsets, as OnnxMLTools' CoreML and
 * WinML exports hold them (the FNS-Candy style transfer: ImageScaler, Crop, Affine), and
 * MeanVarianceNormalization's opset-1 attributes; the references are onnxruntime's own kernels.
 */
const f = (name: string, v: number): AttributeProto => ({ name, type: AttrType.FLOAT, f: v });
const int = (name: string, i: number): AttributeProto => ({ name, type: AttrType.INT, i });
const ints = (name: string, v: number[]): AttributeProto => ({ name, type: AttrType.INTS, ints: v });
const dims = [1, 2, 6, 7];
const input = Float32Array.from({ length: 84 }, (_, i) => Math.sin(1.3 * i) * 1.5 + 0.2);

/** x [1, 2, 6, 7] → `body` → times a fixed map, mean over H and W → 2 scores. */
function model(body: NodeProto[], h: number, w: number): Uint8Array {
  const m: ModelProto = {
    ir_version: 3, opset_import: [{ domain: '', version: 7 }], producer_name: 'OnnxMLTools',
    graph: {
      name: 'experimental',
      node: [
        ...body,
        { op_type: 'Mul', input: [body.at(-1)!.output![0], 'map'], output: ['weighted'], name: 'map' },
        { op_type: 'ReduceMean', input: ['weighted'], output: ['pooled'], name: 'pool', attribute: [ints('axes', [2, 3]), int('keepdims', 0)] },
        { op_type: 'MatMul', input: ['pooled', 'w'], output: ['scores'], name: 'head' },
      ],
      initializer: [
        makeTensor('map', [2, h, w], Array.from({ length: 2 * h * w }, (_, i) => Math.cos(0.7 * i) + 0.3), DataType.FLOAT),
        makeTensor('w', [2, 2], [0.8, -0.4, 0.3, 1.1], DataType.FLOAT),
      ],
      input: [valueInfo('x', DataType.FLOAT, [1, 2, 6, 7])], output: [valueInfo('scores', DataType.FLOAT, [1, 2])],
    },
  };
  return encodeModel(m);
}

const node = (op_type: string, x: string, y: string, attribute: AttributeProto[] = []): NodeProto => ({ op_type, input: [x], output: [y], name: y, attribute });

async function kernels(bytes: Uint8Array): Promise<(v: Float32Array) => Promise<Float32Array>> {
  const session = await ort.InferenceSession.create(bytes, { logSeverityLevel: 3 });
  return async (v) => (await session.run({ x: new ort.Tensor('float32', v, dims) })).scores.data as Float32Array;
}

async function checkAgainstKernels(what: string, bytes: Uint8Array): Promise<void> {
  const run = await kernels(bytes);
  const ex = await Explainer.load(bytes);
  const r = await ex.attribute({ data: input, dims }, { target: [1] });
  assert.ok(relL2(r.outputs.scores.data, await run(input)) < 1e-6, `${what}: outputs ${r.outputs.scores.data} against onnxruntime's ${await run(input)}`);
  const fd = await centralDifferences(input, 1e-2, run, () => 1);
  assert.ok(relL2(r.attributions.data, fd) < 2e-3, `${what}: gradient against central differences of onnxruntime's kernels: rel L2 ${relL2(r.attributions.data, fd)}`);
  const d = await ex.attribute({ data: input, dims }, { target: [1], method: 'deeplift', baseline: { data: input.map((v) => 0.3 * v - 0.1), dims } });
  assert.ok(Math.abs(d.delta![0]) < 1e-5, `${what}: DeepLIFT delta ${d.delta![0]}`);
}

test('ImageScaler, Affine, ScaledTanh, ParametricSoftplus, Scale and Crop (border; border and scale): outputs equal onnxruntime\'s kernels, the gradient their central differences, DeepLIFT sums to delta', async () => {
  const chain = (crop: AttributeProto[]) => [
    node('ImageScaler', 'x', 'scaled', [f('scale', 0.9), { name: 'bias', type: AttrType.FLOATS, floats: [0.1, -0.2] }]),
    node('Affine', 'scaled', 'affine', [f('alpha', 1.4), f('beta', -0.3)]),
    node('ScaledTanh', 'affine', 'tanh', [f('alpha', 1.7), f('beta', 0.6)]),
    node('ParametricSoftplus', 'tanh', 'softplus', [f('alpha', 1.3), f('beta', 2)]),
    node('Scale', 'softplus', 'scale', [f('scale', -0.8)]),
    node('Crop', 'scale', 'crop', crop),
  ];
  await checkAgainstKernels('Crop border', model(chain([ints('border', [1, 2, 3, 0])]), 4, 3));
  await checkAgainstKernels('Crop border and scale', model(chain([ints('border', [1, 2, 3, 0]), ints('scale', [3, 2])]), 3, 2));
});

test('MeanVarianceNormalization at opset 7 (across_channels, normalize_variance): the opset-1 attributes are read as onnxruntime\'s kernel reads them (they were dropped: statistics per channel, variance normalised, whatever they said)', async () => {
  for (const across of [0, 1]) {
    for (const normalize of [0, 1]) {
      const mvn = node('MeanVarianceNormalization', 'x', 'normed', [int('across_channels', across), int('normalize_variance', normalize)]);
      await checkAgainstKernels(`across_channels ${across}, normalize_variance ${normalize}`, model([mvn], 6, 7));
    }
  }
});

test('ConstantFill from a shape (torch.onnx\'s opset-7/8 zero state of a recurrent layer): read as ConstantOfShape, the outputs and gradient equal those of the same constant added by Affine; other forms are refused naming the node', async () => {
  const fill = (attrs: AttributeProto[]) => [
    node('Shape', 'x', 'shape'),
    node('ConstantFill', 'shape', 'fill', attrs),
    { op_type: 'Add', input: ['x', 'fill'], output: ['sum'], name: 'sum' },
  ];
  const ex = await Explainer.load(model(fill([int('input_as_shape', 1), f('value', 0.5), int('dtype', DataType.FLOAT)]), 6, 7));
  const same = await Explainer.load(model([node('Affine', 'x', 'sum', [f('alpha', 1), f('beta', 0.5)])], 6, 7));
  const [r, s] = [await ex.attribute({ data: input, dims }, { target: [1] }), await same.attribute({ data: input, dims }, { target: [1] })];
  assert.ok(relL2(r.outputs.scores.data, s.outputs.scores.data) < 1e-7 && relL2(r.attributions.data, s.attributions.data) < 1e-7, 'ConstantFill as ConstantOfShape');
  await rejects(() => Explainer.load(model(fill([int('input_as_shape', 1), ints('extra_shape', [2])]), 6, 7)), /node 'fill' \(ConstantFill, opset 7\): only the form with input_as_shape = 1 and no extra_shape is read/);
});

test('ScaledTanh without alpha and beta, and a Crop larger than its declared input, are refused naming the node, as onnxruntime\'s kernels refuse them', async () => {
  await rejects(() => Explainer.load(model([node('ScaledTanh', 'x', 'tanh', [f('alpha', 2)])], 6, 7)), /node 'tanh' \(ScaledTanh, opset 7\): needs both alpha and beta/);
  await rejects(() => Explainer.load(model([node('Crop', 'x', 'crop', [ints('border', [1, 4, 0, 3])])], 6, 7)), /node 'crop' \(Crop, opset 7\): the crop \(border \[1,4,0,3\]\) does not fit the 6×7 input/);
  await rejects(() => Explainer.load(model([node('Crop', 'x', 'crop', [ints('border', [-1, 0, 0, 0])])], 6, 7)), /node 'crop' \(Crop, opset 7\): border \[-1,0,0,0\] must not be negative/);
  await rejects(() => Explainer.load(model([node('Crop', 'x', 'crop', [ints('border', [0, 0, 0, 0]), ints('scale', [-2, 3])])], 6, 7)), /scale \[-2,3\] must give a height and a width/);
});

test.run();
