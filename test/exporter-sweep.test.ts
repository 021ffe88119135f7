import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'fs';
import * as ort from 'onnxruntime-node';
import { PNG } from 'pngjs';
import * as path from 'path';
import { main } from '../cli/main';
import { liftOldOpset } from '../rewriter/opset-lift';
import { AttrType, DataType, encodeModel, makeTensor, ModelProto, toNumber, valueInfo } from '../rewriter/proto';
import { tinyModel } from './support/tiny-model';
import { Explainer } from '../runtime';
import { loadModel } from '../runtime/node/model-file';
import { readNpy } from '../runtime/node/npy-file';
import { centralDifferences } from './support/central';
import { runCli, tempDir, writeRawNpy } from './support/cli-harness';
import { rejects } from './support/rejects';
import { EXPORTERS, loadFixture, relL2 } from './support/fixtures';

/**
 * Models in the forms tf2onnx, paddle2onnx, onnxruntime's QDQ quantiser, onnxconverter-common's
 * float16 conversion and the ONNX Model Zoo's opset 7/8 converters emit (models/make_exporters.py):
 * onnxruntime's outputs equal the PyTorch float64 evaluation of the same graph, gradients equal its
 * autograd, and DeepLIFT sums to f(x) − f(x⁰).
 */
const SWEEP = ['tf_mobilenet', 'tf_resize', 'paddle_op9', 'paddle_resize_op11', 'torch_upsample_op9', 'torch_resize_op10', 'convtranspose_head', 'qdq_cnn', 'tf_speech', 'logmel_topdb', 'logmel_clip', 'zoo_resnet_op7', 'zoo_mnist_op8', 'torch_op6', 'caffe2_op1', 'half_cnn', 'half_mixed', 'tf_uint8', 'qop_cnn', 'dynq_cnn', 'nbits_mlp'];

function rowSums(a: Float32Array, n: number): number[] {
  const per = a.length / n;
  return Array.from({ length: n }, (_, r) => a.subarray(r * per, (r + 1) * per).reduce((s, v) => s + v, 0));
}

for (const name of SWEEP) {
  test(`${name}: outputs and gradients match PyTorch, DeepLIFT sums to delta`, async () => {
    const fx = loadFixture(name, EXPORTERS);
    const ex = await Explainer.load(fx.model);
    const target = fx.meta.target;
    const g = await ex.attribute(fx.input, { method: 'gradient', target });
    const out = relL2(g.outputs[ex.outputNames[0]].data, fx.ref('output.npy')!);
    assert.ok(out <= 1e-5, `outputs: rel L2 ${out}`);
    const grad = relL2(g.attributions.data, fx.ref('grad.npy')!);
    assert.ok(grad <= 1e-4, `gradient: rel L2 ${grad}`);
    const n = fx.input.dims[0];
    for (const baseline of [undefined, { data: fx.input.data.map((_, i) => Math.sin(i) * 0.5), dims: fx.input.dims }]) {
      const d = await ex.attribute(fx.input, { method: 'deeplift', target, baseline });
      const sums = rowSums(d.attributions.data, n);
      d.delta!.forEach((delta, row) => {
        const change = sums[row] - delta;
        assert.ok(Math.abs(delta) <= 1e-5 * Math.max(1, Math.abs(change)), `${baseline ? 'random' : 'zero'} baseline, row ${row}: delta ${delta} for f(x) − f(x⁰) = ${change}`);
      });
    }
  });
}

test('models below opset 9 are read at opset 9 (the first with Where) in their later forms; newer ones are left as they are', async () => {
  const fx = loadFixture('zoo_resnet_op7', EXPORTERS);
  const model = loadModel(fx.model);
  const lifted = liftOldOpset(model, fx.model);
  assert.is(toNumber(lifted.opset_import![0].version), 9);
  const ops = lifted.graph!.node!.map((n) => n.op_type);
  assert.not.ok(ops.includes('ImageScaler'), 'ImageScaler becomes Mul and Add');
  for (const n of lifted.graph!.node!.filter((n) => ['BatchNormalization', 'Upsample'].includes(n.op_type!))) {
    assert.not.ok(n.attribute!.some((a) => a.name === 'spatial' || a.name === 'scales'), `${n.name}: opset-7 attributes removed`);
  }
  const legacy = liftOldOpset(loadModel(loadFixture('torch_op6', EXPORTERS).model), 'torch_op6');
  assert.is(toNumber(legacy.opset_import![0].version), 9);
  const removed = ['broadcast', 'axis', 'is_test', 'consumed_inputs'];
  for (const n of legacy.graph!.node!.filter((n) => n.op_type !== 'Softmax')) {
    assert.not.ok(n.attribute?.some((a) => removed.includes(a.name!)), `${n.name}: legacy attributes removed`);
  }
  const dimsOf = (name: string) => legacy.graph!.initializer!.find((t) => t.name === name)!.dims!.map(Number);
  const prelu = legacy.graph!.node!.find((n) => n.op_type === 'PRelu')!;
  assert.equal(dimsOf(prelu.input![1]), [6, 1, 1], 'per-channel slope aligned with axis 1');
  const gate = legacy.graph!.node!.find((n) => n.op_type === 'Unsqueeze')!;
  assert.equal(gate.attribute!.find((a) => a.name === 'axes')!.ints!.map(Number), [2, 3], 'the [N, C] gate broadcast at axis 0 gets two trailing axes');
  const misaligned = loadModel(loadFixture('torch_op6', EXPORTERS).model);
  misaligned.graph!.node!.find((n) => n.op_type === 'Add')!.attribute!.find((a) => a.name === 'axis')!.i = 4;
  assert.throws(() => liftOldOpset(misaligned, 'torch_op6'), /torch_op6: node '.*' \(Add, opset 6\): legacy broadcast at axis 4 does not fit 'const_\d+' \(rank 1\) into 'Conv_\d+' \(rank 4\)/);
  // Nodes missing an input the readings take (a per-activation BatchNormalization, fuzz seed 2804;
  // a legacy broadcast, PRelu or Tile): one line, not a TypeError or a tensor named 'undefined'.
  const short = loadModel(fx.model);
  const bn = short.graph!.node!.find((n) => n.op_type === 'BatchNormalization')!;
  bn.attribute = [...bn.attribute!.filter((a) => a.name !== 'spatial'), { name: 'spatial', type: AttrType.INT, i: 0 }];
  bn.input = bn.input!.slice(0, 4);
  assert.throws(() => liftOldOpset(short, 'short.onnx'), /short.onnx: node '.*' \(BatchNormalization, opset 7\): has 4 inputs; BatchNormalization at opset 7 takes 5$/);
  for (const [op, opset, attribute, takes] of [['Add', 6, [{ name: 'broadcast', type: AttrType.INT, i: 1 }, { name: 'axis', type: AttrType.INT, i: 1 }], 2], ['PRelu', 6, [], 2], ['Tile', 5, [], 3]] as const) {
    const one: ModelProto = { ...model, opset_import: [{ domain: '', version: opset }], graph: { ...model.graph!, node: [{ op_type: op, name: 'n', input: [model.graph!.input![0].name!], output: ['y'], attribute: [...attribute] }] } };
    assert.throws(() => liftOldOpset(one, 'one.onnx'), new RegExp(`one.onnx: node 'n' \\(${op}, opset ${opset}\\): has 1 input; ${op} at opset ${opset} takes ${takes}$`));
  }
  const newer = loadModel(loadFixture('resnet_bn').model);
  assert.is(liftOldOpset(newer, 'resnet_bn'), newer);
  const scan: ModelProto = { ...model, opset_import: [{ domain: '', version: 8 }], graph: { ...model.graph!, node: [{ op_type: 'Scan', name: 'loop', input: ['', 'data'], output: ['y'] }] } };
  assert.throws(() => liftOldOpset(scan, 'scan.onnx'), /scan.onnx: node 'loop' \(Scan, opset 8\): Scan's inputs changed at opset 9/);
  const lines: string[] = [];
  const log = console.log;
  console.log = (m: string) => lines.push(m);
  try {
    assert.is(await main(['info', fx.model]), 0);
  } finally {
    console.log = log;
  }
  assert.ok(lines.includes('opsets: ai.onnx 7 (read as opset 9, the first with Where, which augmented graphs need)'), lines.slice(0, 3).join('\n'));
});

test('Scatter, its name before opset 11 (torch.onnx\'s scatter at opsets 9 and 10), is read at opset 11 as ScatterElements: outputs and the gradient equal onnxruntime\'s Scatter kernel and its central differences; info says why', async () => {
  // y = (scatter(x, 1, idx, u))² · W: x [1, 4], constant indices and updates.
  for (const opset of [9, 10]) {
    const model = encodeModel({
      ir_version: 5, opset_import: [{ domain: '', version: opset }],
      graph: {
        name: 'scatter',
        node: [
          { op_type: 'Scatter', input: ['x', 'idx', 'u'], output: ['s'], name: 'scatter', attribute: [{ name: 'axis', type: AttrType.INT, i: 1 }] },
          { op_type: 'Mul', input: ['s', 's'], output: ['sq'], name: 'square' },
          { op_type: 'MatMul', input: ['sq', 'w'], output: ['y'], name: 'head' },
        ],
        initializer: [makeTensor('idx', [1, 2], [0, 2], DataType.INT64), makeTensor('u', [1, 2], [0.5, -1], DataType.FLOAT), makeTensor('w', [4, 2], [1, -0.5, 0.3, 2, -1.2, 0.7, 0.4, 1.1], DataType.FLOAT)],
        input: [valueInfo('x', DataType.FLOAT, [1, 4])], output: [valueInfo('y', DataType.FLOAT, [1, 2])],
      },
    });
    const x = Float32Array.from([0.3, -1.2, 0.8, 1.5]);
    const session = await ort.InferenceSession.create(model, { logSeverityLevel: 3 });
    const run = async (v: Float32Array) => (await session.run({ x: new ort.Tensor('float32', v, [1, 4]) })).y.data as Float32Array;
    const r = await (await Explainer.load(model)).attribute({ data: x, dims: [1, 4] }, { target: 1 });
    assert.ok(relL2(r.outputs.y.data, await run(x)) < 1e-6, `opset ${opset}: outputs`);
    const fd = await centralDifferences(x, 1e-2, run, () => 1);
    assert.ok(relL2(r.attributions.data, fd) < 1e-4, `opset ${opset}: gradient ${r.attributions.data} vs ${fd}`);
    const file = path.join(tempDir('scatter'), `scatter${opset}.onnx`);
    fs.writeFileSync(file, model);
    const info = await runCli(['info', file]);
    assert.ok(info.out.includes(`opsets: ai.onnx ${opset} (read as opset 11, where Scatter is ScatterElements, whose gradient needs GatherElements)`), info.out.slice(0, 3).join('\n'));
  }
});

test('weights computed by ConstantOfShape (onnx\'s "light" zoo models: AlexNet, ResNet-50, VGG-19, …) are read with their shapes: the Conv\'s channels come from its weight (they were taken as the input\'s, and the Reshape after it was refused); outputs and gradients equal those of the same model with the weights as initializers', async () => {
  const weights = (constantOfShape: boolean): ModelProto => {
    const nodes = [];
    const initializer = [makeTensor('bias', [4], [0.1, -0.2, 0.3, 0], DataType.FLOAT), makeTensor('flat', [2], [0, -1], DataType.INT64), makeTensor('fc', [36, 2], Array.from({ length: 72 }, (_, k) => Math.sin(k)), DataType.FLOAT)];
    if (constantOfShape) {
      initializer.push(makeTensor('w_shape', [4], [4, 3, 3, 3], DataType.INT64));
      nodes.push({ op_type: 'ConstantOfShape', input: ['w_shape'], output: ['w'], name: 'w', attribute: [{ name: 'value', type: AttrType.TENSOR, t: makeTensor('value', [1], [0.05], DataType.FLOAT) }] });
    } else {
      initializer.push(makeTensor('w', [4, 3, 3, 3], new Array(108).fill(0.05), DataType.FLOAT));
    }
    nodes.push(
      { op_type: 'Conv', input: ['x', 'w', 'bias'], output: ['c'], name: 'conv', attribute: [{ name: 'kernel_shape', type: AttrType.INTS, ints: [3, 3] }, { name: 'strides', type: AttrType.INTS, ints: [2, 2] }] },
      { op_type: 'Relu', input: ['c'], output: ['r'], name: 'relu' },
      { op_type: 'Reshape', input: ['r', 'flat'], output: ['f'], name: 'flatten' },
      { op_type: 'MatMul', input: ['f', 'fc'], output: ['y'], name: 'fc' },
    );
    return { ir_version: 4, opset_import: [{ domain: '', version: 9 }], graph: { name: 'light', node: nodes, initializer, input: [valueInfo('x', DataType.FLOAT, [1, 3, 7, 7])], output: [valueInfo('y', DataType.FLOAT, [1, 2])] } };
  };
  const x = { data: Float32Array.from({ length: 147 }, (_, k) => Math.cos(k * 0.7)), dims: [1, 3, 7, 7] };
  const [light, plain] = await Promise.all([true, false].map((c) => Explainer.load(encodeModel(weights(c)))));
  const [a, b] = [await light.attribute(x, { target: 1 }), await plain.attribute(x, { target: 1 })];
  assert.equal(Array.from(a.outputs.y.data), Array.from(b.outputs.y.data));
  assert.ok(relL2(a.attributions.data, b.attributions.data) < 1e-7, `gradient rel L2 ${relL2(a.attributions.data, b.attributions.data)}`);
  const session = await ort.InferenceSession.create(encodeModel(weights(true)));
  const y = (await session.run({ x: new ort.Tensor('float32', x.data, x.dims) })).y.data as Float32Array;
  assert.ok(relL2(a.outputs.y.data, y) < 1e-6, 'onnxruntime\'s outputs');
});

test('a ReduceSum and a Squeeze whose axes input is computed (the last axis, from the rank) are not taken as reducing every axis by the shape check (which then refused the Reshape after them)', async () => {
  const last = [
    { op_type: 'Shape', input: ['x'], output: ['shape'], name: 'shape' },
    { op_type: 'Size', input: ['shape'], output: ['rank'], name: 'rank' },
    { op_type: 'Sub', input: ['rank', 'one'], output: ['last0'], name: 'last0' },
    { op_type: 'Unsqueeze', input: ['last0', 'zero'], output: ['last'], name: 'last' },
  ];
  const m: ModelProto = {
    ir_version: 8, opset_import: [{ domain: '', version: 13 }],
    graph: {
      name: 'axes', node: [
        ...last,
        { op_type: 'ReduceSum', input: ['x', 'last'], output: ['s'], name: 'sum', attribute: [{ name: 'keepdims', type: AttrType.INT, i: 1 }] },
        { op_type: 'Squeeze', input: ['s', 'last'], output: ['q'], name: 'squeeze' },
        { op_type: 'Reshape', input: ['q', 'to'], output: ['r'], name: 'reshape' },
        { op_type: 'ReduceMax', input: ['r'], output: ['y'], name: 'max', attribute: [{ name: 'axes', type: AttrType.INTS, ints: [1, 2] }, { name: 'keepdims', type: AttrType.INT, i: 0 }] },
      ],
      initializer: [makeTensor('one', [], [1], DataType.INT64), makeTensor('zero', [1], [0], DataType.INT64), makeTensor('to', [3], [-1, 2, 2], DataType.INT64)],
      input: [valueInfo('x', DataType.FLOAT, ['N', 4, 5])], output: [{ name: 'y' }],
    },
  };
  const ex = await Explainer.load(encodeModel(m));
  const x = { data: Float32Array.from({ length: 20 }, (_, k) => Math.sin(k)), dims: [1, 4, 5] };
  const g = await ex.attribute(x, {});
  // y = max over the four row sums of x: the gradient is 1 on the winning row's five entries.
  const sums = [0, 1, 2, 3].map((r) => x.data.slice(r * 5, r * 5 + 5).reduce((a, v) => a + v, 0));
  const win = sums.indexOf(Math.max(...sums));
  assert.equal(Array.from(g.attributions.data), Array.from({ length: 20 }, (_, k) => (Math.floor(k / 5) === win ? 1 : 0)));
});

test('half_cnn: a float16 .npy input gives the float32 attributions; info names the widening', async () => {
  const fx = loadFixture('half_cnn', EXPORTERS);
  const bits = Uint16Array.from(fx.input.data, (v) => toHalfBits(v));
  const grad = await gradientFromNpy(fx, '<f2', new Uint8Array(bits.buffer));
  assert.ok(grad <= 1e-4, `gradient from a float16 .npy: rel L2 ${grad}`);
  const info = await runCli(['info', fx.model]);
  assert.ok(info.out.some((l) => l.startsWith('precision: half-precision values, explained in float32')), info.out.slice(0, 5).join('\n'));
  assert.ok(info.out.some((l) => /^input: input \[N, 3, 8, 8\] float16: explained/.test(l)), info.out.slice(0, 6).join('\n'));
  // onnxruntime's float16 tensors (their values' bits as uint16) as input and baseline: the values, not the bits.
  const ex = await Explainer.load(fx.model);
  const half = (v: number[], dims: number[]) => new ort.Tensor('float16', Uint16Array.from(v, toHalfBits), dims);
  const floats = await ex.attribute(fx.input, { method: 'deeplift', target: fx.meta.target, baseline: { data: new Float32Array(fx.input.data.length).fill(0.5), dims: fx.input.dims } });
  const halves = await ex.attribute(half(Array.from(fx.input.data), fx.input.dims), { method: 'deeplift', target: fx.meta.target, baseline: half(Array(fx.input.data.length).fill(0.5), fx.input.dims) });
  assert.equal(Array.from(halves.attributions.data), Array.from(floats.attributions.data));
});

test('a float64 model (skl2onnx pipeline on double inputs) is read in float32: outputs within float32 rounding of onnxruntime\'s double kernels, the gradient its closed form, DeepLIFT sums to delta; info says so', async () => {
  const [mean, scale, w, b] = [[0.3, -0.2, 0.1, 0.5], [1.5, 0.7, 2, 1.1], [0.4, -1.2, 0.8, 1.1, 0.3, -0.5, -0.7, 0.9, 0.2, 0.6, -0.4, 1.3], [0.1, -0.3, 0.2]];
  const d = (name: string, dims: number[], v: number[]) => makeTensor(name, dims, v, DataType.DOUBLE);
  const model = encodeModel({
    ir_version: 8, opset_import: [{ domain: '', version: 13 }], producer_name: 'skl2onnx-style',
    graph: {
      name: 'double', initializer: [d('mean', [4], mean), d('scale', [4], scale), d('W', [4, 3], w), d('b', [3], b)],
      node: [
        { op_type: 'Sub', input: ['X', 'mean'], output: ['c'], name: 'c' }, { op_type: 'Mul', input: ['c', 'scale'], output: ['s'], name: 's' },
        { op_type: 'MatMul', input: ['s', 'W'], output: ['z'], name: 'z' }, { op_type: 'Add', input: ['z', 'b'], output: ['logits'], name: 'logits' },
        { op_type: 'Softmax', input: ['logits'], output: ['probabilities'], name: 'softmax', attribute: [{ name: 'axis', type: 2, i: 1 }] },
      ],
      input: [valueInfo('X', DataType.DOUBLE, ['N', 4])], output: [valueInfo('probabilities', DataType.DOUBLE, ['N', 3])],
    },
  });
  const x = Float64Array.from([0.7, -1.1, 0.4, 2.0, -0.3, 0.9, 1.6, -0.8]);
  const kernels = await ort.InferenceSession.create(model, { logSeverityLevel: 3 });
  const want = (await kernels.run({ X: new ort.Tensor('float64', x, [2, 4]) })).probabilities.data as Float64Array;
  await kernels.release();
  const ex = await Explainer.load(model);
  const r = await ex.attribute({ data: x, dims: [2, 4] }, { target: [2, 0], output: 'probabilities', explainSoftmax: true });
  assert.ok(relL2(r.outputs.probabilities.data, want) < 1e-6, `outputs vs double kernels: ${relL2(r.outputs.probabilities.data, want)}`);
  const g = await ex.attribute({ data: x, dims: [2, 4] }, { target: [2, 0] });
  assert.ok(relL2(g.attributions.data, [2, 0].flatMap((t) => scale.map((s, j) => s * w[j * 3 + t]))) < 1e-6, 'gradient of the logits = scale·W[:, t]');
  const dl = await ex.attribute({ data: x, dims: [2, 4] }, { target: [2, 0], method: 'deeplift' });
  for (const delta of dl.delta!) assert.ok(Math.abs(delta) < 1e-6, `delta ${delta}`);
  const dir = tempDir('double');
  fs.writeFileSync(path.join(dir, 'm.onnx'), model);
  const info = await runCli(['info', path.join(dir, 'm.onnx')]);
  assert.ok(info.out.some((l) => l.startsWith('precision: float64 values, explained in float32 (narrowed; outputs differ by float32 rounding')), info.out.slice(0, 5).join('\n'));
  // A float32 model computing a step in float64 (Casts there and back, no float64 weight) says so too.
  fs.writeFileSync(path.join(dir, 'island.onnx'), tinyModel([4], 13, (em, v) => em.op('Cast', [em.op('Exp', [em.op('Cast', [v], { to: DataType.DOUBLE })])], { to: DataType.FLOAT })));
  const island = await runCli(['info', path.join(dir, 'island.onnx')]);
  assert.ok(island.out.some((l) => l.startsWith('precision: float64 values, explained in float32')), island.out.slice(0, 5).join('\n'));
});

test('a float16 model at opset 23 whose weights DequantizeLinear gives as float16 (output_dtype) is widened with them: the gradient is scale·W[:, t]; onnxruntime refused the half weights beside float32 activations', async () => {
  const wq = [12, -7, 3, 100, -128, 45, 0, 9, -33, 77, 21, -5];
  const scale = 2 ** -7;
  const half = (name: string, dims: number[], v: number[]) => ({ name, dims, data_type: DataType.FLOAT16, raw_data: new Uint8Array(Uint16Array.from(v, toHalfBits).buffer) });
  const model = encodeModel({
    ir_version: 11, opset_import: [{ domain: '', version: 23 }],
    graph: {
      name: 'dq23', initializer: [makeTensor('wq', [4, 3], wq, DataType.INT8), half('scale', [], [scale]), makeTensor('zero', [], [0], DataType.INT8)],
      node: [
        { op_type: 'DequantizeLinear', input: ['wq', 'scale', 'zero'], output: ['w'], name: 'dq', attribute: [{ name: 'output_dtype', type: AttrType.INT, i: DataType.FLOAT16 }] },
        { op_type: 'MatMul', input: ['x', 'w'], output: ['y'], name: 'mm' },
      ],
      input: [valueInfo('x', DataType.FLOAT16, ['N', 4])], output: [valueInfo('y', DataType.FLOAT16, ['N', 3])],
    },
  });
  const g = await (await Explainer.load(model)).attribute({ data: Float32Array.of(0.5, -1, 2, 0.25), dims: [1, 4] }, { target: 1 });
  assert.equal(Array.from(g.attributions.data), [0, 1, 2, 3].map((i) => wq[i * 3 + 1] * scale));
});

/** The CLI's gradient for the fixture's input written as a .npy of type `descr`: its rel L2 from grad.npy. */
async function gradientFromNpy(fx: ReturnType<typeof loadFixture>, descr: string, bytes: Uint8Array): Promise<number> {
  const dir = tempDir('npy-input');
  writeRawNpy(path.join(dir, 'x.npy'), descr, fx.input.dims, bytes);
  const out = path.join(dir, 'a.npy');
  const run = await runCli(['attribute', fx.model, '--input', path.join(dir, 'x.npy'), '--target', fx.meta.target.join(','), '--out', out, '--no-cache']);
  assert.is(run.code, 0, run.err.join('\n'));
  return relL2(Float32Array.from(readNpy(out).data as Float32Array), fx.ref('grad.npy')!);
}

/** The float16 bit pattern of a value exactly representable in float16 (normal or zero). */
function toHalfBits(v: number): number {
  if (v === 0) return 0;
  const sign = v < 0 ? 0x8000 : 0;
  const e = Math.floor(Math.log2(Math.abs(v)));
  return sign | ((e + 15) << 10) | Math.round((Math.abs(v) / 2 ** e - 1) * 1024);
}

test('tf_uint8: a uint8 image input read through a Cast is explained at its pixel values (.npy uint8 or float)', async () => {
  const fx = loadFixture('tf_uint8', EXPORTERS);
  const pixels = Uint8Array.from(fx.input.data);
  const original = await ort.InferenceSession.create(fx.model, { logSeverityLevel: 3 });
  const y = (await original.run({ image: new ort.Tensor('uint8', pixels, fx.input.dims) })).output.data as Float32Array;
  assert.ok(relL2(y, fx.ref('output.npy')!) <= 1e-5, 'the uint8 model itself matches the PyTorch evaluation');
  await original.release();
  const grad = await gradientFromNpy(fx, '|u1', pixels);
  assert.ok(grad <= 1e-4, `gradient from a uint8 .npy: rel L2 ${grad}`);
  const info = await runCli(['info', fx.model]);
  assert.ok(info.out.includes('input: image [N, 8, 8, 3] uint8: explained as float32 values (the model reads it only through Casts to float)'), info.out.slice(0, 6).join('\n'));
  // A PNG of row 0 is read as [0,255] values (--preprocess pixels, the default here).
  const png = new PNG({ width: 8, height: 8 });
  for (let i = 0; i < 64; i++) png.data.set([...pixels.subarray(i * 3, i * 3 + 3), 255], i * 4);
  const dir = tempDir('uint8-png');
  fs.writeFileSync(path.join(dir, 'row0.png'), PNG.sync.write(png));
  const run = await runCli(['attribute', fx.model, '--input', path.join(dir, 'row0.png'), '--target', String(fx.meta.target[0]), '--out', path.join(dir, 'a.npy'), '--no-cache']);
  assert.is(run.code, 0, run.err.join('\n'));
  const row0 = fx.ref('grad.npy')!.subarray(0, 8 * 8 * 3);
  assert.ok(relL2(Float32Array.from(readNpy(path.join(dir, 'a.npy')).data as Float32Array), row0) <= 1e-4, 'PNG row 0');
});

test('qop_cnn: the QOperator model on onnxruntime\'s QLinear kernels gives the outputs its QDQ reading is checked against; info names the ops read', async () => {
  const fx = loadFixture('qop_cnn', EXPORTERS);
  const kernels = await ort.InferenceSession.create(fx.model, { logSeverityLevel: 3 });
  const y = (await kernels.run({ input: new ort.Tensor('float32', fx.input.data, fx.input.dims) })).output.data as Float32Array;
  assert.ok(relL2(y, fx.ref('output.npy')!) <= 1e-5, `QLinear kernels vs the PyTorch evaluation of their definitions: ${relL2(y, fx.ref('output.npy')!)}`);
  await kernels.release();
  const info = await runCli(['info', fx.model]);
  assert.ok(info.out.includes('read in standard ops (the counts above): QLinearConv ×2, com.microsoft.QLinearAdd ×1, com.microsoft.QLinearGlobalAveragePool ×1, QLinearMatMul ×1'), info.out.join('\n'));
});

// onnxruntime's QOperator quantiser writes a Softmax as com.microsoft QLinearSoftmax (output scale
// 1/256, zero point 0, `opset` the model's), read as DequantizeLinear → Softmax → QuantizeLinear.
// Before it was read, the walk stopped there (and had once taken its uint8 output for a step and
// kept only the other paths' share: fuzz seed 1499, DeepLIFT missed f(x) − f(x⁰) by 15 %).
test('qop_cnn with a com.microsoft QLinearSoftmax over the channels on a residual branch: its reading gives onnxruntime\'s kernel probabilities within a step; gradient and DeepLIFT run through it, DeepLIFT summing to delta', async () => {
  const fx = loadFixture('qop_cnn', EXPORTERS);
  const model = loadModel(fx.model);
  const conv = model.graph!.node!.find((n) => n.op_type === 'QLinearConv')!;
  const soft = `${conv.output![0]}/softmax`;
  const add = model.graph!.node!.find((n) => n.op_type === 'QLinearAdd')!;
  const k = add.input!.indexOf(conv.output![0]);
  const convOut = model.graph!.node!.find((n) => n.op_type === 'QLinearConv')!.input!.slice(6, 8);
  model.graph!.initializer!.push(makeTensor('softmax_scale', [], [1 / 256], DataType.FLOAT), { name: 'softmax_zero', dims: [], data_type: DataType.UINT8, raw_data: Uint8Array.from([0]) });
  add.input!.splice(k, 3, soft, 'softmax_scale', 'softmax_zero');
  model.graph!.node!.splice(model.graph!.node!.indexOf(add), 0, { op_type: 'QLinearSoftmax', domain: 'com.microsoft', name: 'softmax', input: [conv.output![0], ...convOut, 'softmax_scale', 'softmax_zero'], output: [soft], attribute: [{ name: 'axis', type: AttrType.INT, i: 1 }, { name: 'opset', type: AttrType.INT, i: 13 }] });
  // The probabilities as a second output.
  model.graph!.node!.push({ op_type: 'DequantizeLinear', input: [soft, 'softmax_scale', 'softmax_zero'], output: ['probabilities'], name: 'probabilities' });
  model.graph!.output!.push({ name: 'probabilities' });
  const bytes = encodeModel(model);
  const kernels = await ort.InferenceSession.create(bytes, { logSeverityLevel: 3 });
  const p = (await kernels.run({ input: new ort.Tensor('float32', fx.input.data, fx.input.dims) })).probabilities.data as Float32Array;
  await kernels.release();
  const ex = await Explainer.load(bytes, { warn: () => {} });
  assert.not.ok(ex.view.nodes.some((n) => n.op_type === 'QLinearSoftmax'), 'read in standard ops');
  // The kernel exponentiates through a table of the uint8 differences and normalises approximately:
  // one probability in eight lands on a neighbouring step (once two steps off, 96 against 98 of 256).
  const read = (await ex.forward(fx.input)).probabilities.data;
  const steps = Array.from(read, (v, i) => Math.round(Math.abs(v - p[i]) * 256));
  assert.ok(Math.max(...steps) <= 2 && steps.filter((d) => d).length < read.length / 4, `the reading vs onnxruntime's kernel: steps apart ${Math.max(...steps)} at ${steps.filter((d) => d).length} of ${read.length}`);
  const g = await ex.attribute(fx.input, { target: fx.meta.target, output: 'output' });
  assert.ok(g.attributions.data.every(Number.isFinite) && g.attributions.data.some((v) => v !== 0), 'a gradient through it');
  const d = await ex.attribute(fx.input, { method: 'deeplift', target: fx.meta.target, output: 'output' });
  d.delta!.forEach((delta, r) => assert.ok(Math.abs(delta) <= 1e-5, `row ${r}: delta ${delta}`));
  // Its opset 11 Softmax over axis 1 normalises over channels and space together, which the opset-13
  // model's Softmax does not: read as Flatten → Softmax → Reshape (it was refused).
  model.graph!.node!.find((n) => n.op_type === 'QLinearSoftmax')!.attribute![1].i = 11;
  const flat = encodeModel(model);
  const flatKernels = await ort.InferenceSession.create(flat, { logSeverityLevel: 3 });
  const pFlat = (await flatKernels.run({ input: new ort.Tensor('float32', fx.input.data, fx.input.dims) })).probabilities.data as Float32Array;
  await flatKernels.release();
  const readFlat = (await (await Explainer.load(flat, { warn: () => {} })).forward(fx.input)).probabilities.data;
  const flatSteps = Array.from(readFlat, (v, i) => Math.round(Math.abs(v - pFlat[i]) * 256));
  assert.ok(Math.max(...flatSteps) <= 2, `opset 11 over axis 1: steps apart ${Math.max(...flatSteps)}`);
  assert.ok(Math.max(...pFlat) < 0.2 && Math.max(...steps.map((_, i) => Math.abs(p[i] - pFlat[i]))) > 0.1, 'the flattened softmax is another function');
});

// onnxruntime's QOperator quantiser writes a Where as com.microsoft QLinearWhere (condition, two quantized branches, the output's scale).
test('com.microsoft QLinearWhere is read as Where of the dequantized branches, requantized: onnxruntime\'s kernel outputs exactly; the gradient goes to the chosen branch (x where x > 0.3, else −x: ±1 by the straight-through estimator)', async () => {
  const u8 = (name: string, v: number) => ({ name, dims: [], data_type: DataType.UINT8, raw_data: Uint8Array.from([v]) });
  const initializer = [makeTensor('xs', [], [0.02], DataType.FLOAT), u8('xz', 128), makeTensor('ys', [], [0.03], DataType.FLOAT), u8('yz', 100), makeTensor('zs', [], [0.025], DataType.FLOAT), u8('zz', 120), makeTensor('t', [], [0.3], DataType.FLOAT)];
  const node = [
    { op_type: 'QuantizeLinear', input: ['x', 'xs', 'xz'], output: ['qx'], name: 'qx' },
    { op_type: 'Neg', input: ['x'], output: ['nx'], name: 'neg' },
    { op_type: 'QuantizeLinear', input: ['nx', 'ys', 'yz'], output: ['qy'], name: 'qy' },
    { op_type: 'Greater', input: ['x', 't'], output: ['c'], name: 'gt' },
    { op_type: 'QLinearWhere', domain: 'com.microsoft', input: ['c', 'qx', 'xs', 'xz', 'qy', 'ys', 'yz', 'zs', 'zz'], output: ['qz'], name: 'where' },
    { op_type: 'DequantizeLinear', input: ['qz', 'zs', 'zz'], output: ['y'], name: 'dq' },
  ];
  const bytes = encodeModel({ ir_version: 8, opset_import: [{ domain: '', version: 13 }, { domain: 'com.microsoft', version: 1 }], graph: { name: 'where', node, initializer, input: [valueInfo('x', DataType.FLOAT, ['N', 8])], output: [{ name: 'y' }] } });
  const x = Float32Array.from({ length: 16 }, (_, k) => 1.5 * Math.sin(k * 1.3));
  const kernels = await ort.InferenceSession.create(bytes, { logSeverityLevel: 3 });
  const y = (await kernels.run({ x: new ort.Tensor('float32', x, [2, 8]) })).y.data as Float32Array;
  await kernels.release();
  const ex = await Explainer.load(bytes);
  assert.equal(Array.from((await ex.forward({ data: x, dims: [2, 8] })).y.data), Array.from(y));
  const g = (await ex.attribute({ data: x, dims: [2, 8] }, { target: [1, 5] })).attributions.data;
  assert.equal(Array.from(g), Array.from({ length: 16 }, (_, k) => (k === 1 ? 1 : k === 13 ? -1 : 0)), `x1 = ${x[1]} takes x, x13 = ${x[13]} takes −x`);
});

// The quantiser leaves moves (Split, Concat, Pad, Slice, Gather, ...) and Resize to run on the uint8
// values themselves; they used to cut the gradient as steps. Written as identities on qop_cnn's first
// feature map, they give onnxruntime's outputs and the original's gradient and DeepLIFT attributions.
test('qop_cnn with uint8 Split → Concat → Pad → Resize (identities) after its first QLinearConv: the original\'s outputs, gradient and DeepLIFT', async () => {
  const fx = loadFixture('qop_cnn', EXPORTERS);
  const original = await Explainer.load(fx.model);
  const model = loadModel(fx.model);
  const nodes = model.graph!.node!;
  const conv = nodes.find((n) => n.op_type === 'QLinearConv')!;
  const h = conv.output![0];
  for (const n of nodes) if (n !== conv) n.input = n.input!.map((i) => (i === h ? 'moved' : i));
  model.graph!.initializer!.push(makeTensor('halves', [2], [3, 3], DataType.INT64), makeTensor('no_pads', [8], new Array(8).fill(0), DataType.INT64), makeTensor('ones', [4], [1, 1, 1, 1], DataType.FLOAT), makeTensor('no_roi', [0], [], DataType.FLOAT));
  nodes.splice(nodes.indexOf(conv) + 1, 0,
    { op_type: 'Split', name: 'split', input: [h, 'halves'], output: ['a', 'b'], attribute: [{ name: 'axis', type: AttrType.INT, i: 1 }] },
    { op_type: 'Concat', name: 'concat', input: ['a', 'b'], output: ['joined'], attribute: [{ name: 'axis', type: AttrType.INT, i: 1 }] },
    { op_type: 'Pad', name: 'pad', input: ['joined', 'no_pads'], output: ['padded'] },
    { op_type: 'Resize', name: 'resize', input: ['padded', 'no_roi', 'ones'], output: ['moved'], attribute: [{ name: 'mode', type: AttrType.STRING, s: new TextEncoder().encode('nearest') }] });
  const ex = await Explainer.load(encodeModel(model));
  for (const method of ['gradient', 'deeplift']) {
    const [a, b] = [await original.attribute(fx.input, { method, target: fx.meta.target }), await ex.attribute(fx.input, { method, target: fx.meta.target })];
    assert.equal(Array.from(b.outputs.output.data), Array.from(a.outputs.output.data), `${method}: outputs`);
    assert.ok(relL2(b.attributions.data, a.attributions.data) <= 1e-6, `${method}: rel L2 ${relL2(b.attributions.data, a.attributions.data)}`);
  }
  const kernels = await ort.InferenceSession.create(encodeModel(model), { logSeverityLevel: 3 });
  assert.ok(relL2((await kernels.run({ input: new ort.Tensor('float32', fx.input.data, fx.input.dims) })).output.data as Float32Array, fx.ref('output.npy')!) <= 1e-5, 'onnxruntime on the edited model');
});

// onnxruntime's static quantiser writes a Gemm (a torchvision classifier's last layer) in QOperator
// format as com.microsoft QGemm: int32 bias C, transB, and either a uint8 output (y_scale, y_zero_point)
// or float. qop_cnn's QLinearMatMul written as a QGemm with a uint8 output gives onnxruntime's kernels
// the same outputs and explains as the original; its QLinearMatMul → DequantizeLinear written as a QGemm
// with a float output (no rounding to the output's grid) gives the kernel's outputs, the original's
// gradient (the straight-through estimator passes that rounding) and DeepLIFT sums to delta.
test('qop_cnn with its head as com.microsoft QGemm (uint8 or float output, transB, int32 bias): onnxruntime gives the same outputs, and the gradient and DeepLIFT are the original\'s', async () => {
  const fx = loadFixture('qop_cnn', EXPORTERS);
  const original = await Explainer.load(fx.model);
  const expected = await Promise.all(['gradient', 'deeplift'].map((method) => original.attribute(fx.input, { method, target: fx.meta.target })));
  const input = new ort.Tensor('float32', fx.input.data, fx.input.dims);
  const reference = (await (await ort.InferenceSession.create(fx.model, { logSeverityLevel: 3 })).run({ input })).output.data as Float32Array;
  for (const floatOutput of [false, true]) {
    const model = loadModel(fx.model);
    const nodes = model.graph!.node!;
    const mm = nodes.find((n) => n.op_type === 'QLinearMatMul')!;
    const dq = nodes.find((n) => n.op_type === 'DequantizeLinear' && n.input![0] === mm.output![0])!;
    const [a, as, az, b, bs, bz, ys, yz] = mm.input!;
    // B [K, N] transposed into an initializer [N, K] for transB = 1; a zero int32 bias of N values.
    const w = model.graph!.initializer!.find((t) => t.name === b)!;
    const [k, n] = w.dims!.map(Number);
    const q = new Int8Array(w.raw_data!.buffer, w.raw_data!.byteOffset, k * n);
    const transposed = Int8Array.from({ length: n * k }, (_, i) => q[(i % k) * n + Math.floor(i / k)]);
    model.graph!.initializer!.push({ name: 'bT', dims: [n, k], data_type: DataType.INT8, raw_data: new Uint8Array(transposed.buffer) }, makeTensor('bias0', [n], new Int32Array(n), DataType.INT32));
    const gemm = { op_type: 'QGemm', domain: 'com.microsoft', name: 'head', input: [a, as, az, 'bT', bs, bz, 'bias0', ...(floatOutput ? [] : [ys, yz])], output: [floatOutput ? dq.output![0] : mm.output![0]], attribute: [{ name: 'transB', type: AttrType.INT, i: 1 }] };
    nodes.splice(nodes.indexOf(mm), floatOutput ? 2 : 1, gemm);
      const bytes = encodeModel(model);
    const kernels = (await (await ort.InferenceSession.create(bytes, { logSeverityLevel: 3 })).run({ input })).output.data as Float32Array;
    if (!floatOutput) assert.equal(Array.from(kernels), Array.from(reference), 'QGemm kernel (uint8 output)');
    const ex = await Explainer.load(bytes);
    for (const [i, method] of ['gradient', 'deeplift'].entries()) {
      const r = await ex.attribute(fx.input, { method, target: fx.meta.target });
      assert.ok(relL2(r.outputs.output.data, kernels) <= 1e-6, `${method}, ${floatOutput ? 'float' : 'uint8'} output: outputs rel L2 ${relL2(r.outputs.output.data, kernels)}`);
      if (method === 'deeplift' && floatOutput) r.delta!.forEach((d) => assert.ok(Math.abs(d) <= 1e-5, `DeepLIFT delta ${d}`));
      else assert.ok(relL2(r.attributions.data, expected[i].attributions.data) <= 1e-6, `${method}, ${floatOutput ? 'float' : 'uint8'} output: rel L2 ${relL2(r.attributions.data, expected[i].attributions.data)}`);
    }
  }
});

// QGemm's kernel adds its int32 C in the accumulator, before alpha: y = alpha·(A·B + C) (it had read alpha·A·B + C).
// QLinearSoftmax's kernel takes the last axis by default whatever its `opset` (it had read axis 1 before opset 13).
test('com.microsoft QGemm with alpha 0.5 and an int32 C, and QLinearSoftmax of opset 12 without an axis: the readings give onnxruntime\'s kernels\' outputs', async () => {
  const u8 = (name: string, v: number) => ({ name, dims: [], data_type: DataType.UINT8, raw_data: Uint8Array.from([v]) });
  const weights = Int8Array.from({ length: 12 }, (_, k) => Math.round(60 * Math.sin(k * 2.1)));
  const initializer = [
    makeTensor('xs', [], [0.02], DataType.FLOAT), u8('xz', 128), makeTensor('ws', [], [0.01], DataType.FLOAT), { name: 'wz', dims: [], data_type: DataType.INT8, raw_data: Uint8Array.from([0]) },
    { name: 'w', dims: [4, 3], data_type: DataType.INT8, raw_data: new Uint8Array(weights.buffer) }, makeTensor('c', [4], [900, -1500, 300, 2500], DataType.INT32),
    makeTensor('ss', [], [0.05], DataType.FLOAT), u8('sz', 120), makeTensor('ps', [], [1 / 256], DataType.FLOAT), u8('pz', 0), makeTensor('shape', [3], [0, 2, 2], DataType.INT64),
  ];
  const node = [
    { op_type: 'QuantizeLinear', input: ['x', 'xs', 'xz'], output: ['qx'], name: 'qx' },
    { op_type: 'QGemm', domain: 'com.microsoft', input: ['qx', 'xs', 'xz', 'w', 'ws', 'wz', 'c'], output: ['y'], name: 'gemm', attribute: [{ name: 'transB', type: AttrType.INT, i: 1 }, { name: 'alpha', type: AttrType.FLOAT, f: 0.5 }] },
    { op_type: 'QuantizeLinear', input: ['y', 'ss', 'sz'], output: ['qy'], name: 'qy' },
    { op_type: 'Reshape', input: ['qy', 'shape'], output: ['grid'], name: 'grid' },
    { op_type: 'QLinearSoftmax', domain: 'com.microsoft', input: ['grid', 'ss', 'sz', 'ps', 'pz'], output: ['qp'], name: 'softmax', attribute: [{ name: 'opset', type: AttrType.INT, i: 12 }] },
    { op_type: 'DequantizeLinear', input: ['qp', 'ps', 'pz'], output: ['p'], name: 'p' },
  ];
  const bytes = encodeModel({ ir_version: 8, opset_import: [{ domain: '', version: 12 }, { domain: 'com.microsoft', version: 1 }], graph: { name: 'qgemm', node, initializer, input: [valueInfo('x', DataType.FLOAT, ['N', 3])], output: [{ name: 'y' }, { name: 'p' }] } });
  const x = Float32Array.from({ length: 6 }, (_, k) => 1.2 * Math.cos(k * 1.7));
  const kernels = await ort.InferenceSession.create(bytes, { logSeverityLevel: 3 });
  const want = await kernels.run({ x: new ort.Tensor('float32', x, [2, 3]) });
  await kernels.release();
  const got = await (await Explainer.load(bytes, { warn: () => {} })).forward({ data: x, dims: [2, 3] });
  assert.ok(relL2(got.y.data, want.y.data as Float32Array) <= 1e-6, `QGemm: ${Array.from(got.y.data)} against ${Array.from(want.y.data as Float32Array)}`);
  const steps = Array.from(got.p.data, (v, i) => Math.round(Math.abs(v - (want.p.data as Float32Array)[i]) * 256));
  assert.ok(Math.max(...steps) <= 2, `QLinearSoftmax: steps apart ${steps}`);
  // An opset-13 Softmax over a middle axis has no form in this opset-12 model's Softmax.
  const softmax = node.find((n) => n.op_type === 'QLinearSoftmax')!;
  softmax.attribute = [{ name: 'opset', type: AttrType.INT, i: 13 }, { name: 'axis', type: AttrType.INT, i: 1 }];
  const newer = encodeModel({ ir_version: 8, opset_import: [{ domain: '', version: 12 }, { domain: 'com.microsoft', version: 1 }], graph: { name: 'qgemm', node, initializer, input: [valueInfo('x', DataType.FLOAT, ['N', 3])], output: [{ name: 'y' }, { name: 'p' }] } });
  await rejects(() => Explainer.load(newer), /node 'softmax' \(com\.microsoft\.QLinearSoftmax, opset 1\): its Softmax of opset 13 over axis 1 differs from the model's opset 12 Softmax there$/);
});

// From float weights between DequantizeLinear and QuantizeLinear, onnxruntime's optimiser fused the
// reading back into a QLinearConv with weights it requantized itself (per tensor, to its own scale):
// outputs several steps off. From a float bias it wrote a Round, which opset 10 lacks (the reading
// ran unoptimised, with a warning). Integer weights and bias through DequantizeLinear fuse back to
// the same kernel.
test('QLinearConvs whose int8 weights do not span ±127 (per tensor at opset 13; per channel with an int32 bias at opset 10): their readings, run as the Explainer runs them (optimisation \'all\'), give the kernel\'s outputs exactly', async () => {
  const u8 = (name: string, v: number) => ({ name, dims: [], data_type: DataType.UINT8, raw_data: Uint8Array.from([v]) });
  const weights = Int8Array.from({ length: 18 }, (_, k) => Math.round(50 * Math.sin(k * 1.9) + 20 * Math.cos(k)));
  const ints = (name: string, v: number[]) => ({ name, type: AttrType.INTS, ints: v });
  for (const [opset, perChannel] of [[13, false], [10, true]] as const) {
    const initializer = [
      makeTensor('xs', [], [0.021], DataType.FLOAT), u8('xz', 128), makeTensor('ws', perChannel ? [2] : [], perChannel ? [0.013, 0.007] : [0.013], DataType.FLOAT),
      { name: 'wz', dims: perChannel ? [2] : [], data_type: DataType.INT8, raw_data: new Uint8Array(perChannel ? 2 : 1) },
      { name: 'w', dims: [2, 1, 3, 3], data_type: DataType.INT8, raw_data: new Uint8Array(weights.buffer) }, makeTensor('ys', [], [0.0037], DataType.FLOAT), u8('yz', 110),
      makeTensor('b', [2], [1500, -900], DataType.INT32),
    ];
    const node = [
      { op_type: 'QuantizeLinear', input: ['x', 'xs', 'xz'], output: ['qx'], name: 'qx' },
      { op_type: 'QLinearConv', input: ['qx', 'xs', 'xz', 'w', 'ws', 'wz', 'ys', 'yz', ...(perChannel ? ['b'] : [])], output: ['qy'], name: 'conv', attribute: [ints('kernel_shape', [3, 3]), ints('pads', [1, 1, 1, 1]), ints('strides', [1, 1])] },
      { op_type: 'DequantizeLinear', input: ['qy', 'ys', 'yz'], output: ['y'], name: 'y' },
    ];
    const bytes = encodeModel({ ir_version: 7, opset_import: [{ domain: '', version: opset }], graph: { name: 'qconv', node, initializer, input: [valueInfo('x', DataType.FLOAT, ['N', 1, 4, 4])], output: [{ name: 'y' }] } });
    const x = Float32Array.from({ length: 32 }, (_, k) => 1.3 * Math.sin(k * 0.77));
    const kernels = await ort.InferenceSession.create(bytes, { logSeverityLevel: 3 });
    const want = Array.from((await kernels.run({ x: new ort.Tensor('float32', x, [2, 1, 4, 4]) })).y.data as Float32Array);
    await kernels.release();
    const warnings: string[] = [];
    const got = Array.from((await (await Explainer.load(bytes, { warn: (m) => warnings.push(m) })).forward({ data: x, dims: [2, 1, 4, 4] })).y.data);
    const steps = got.map((v, i) => Math.round(Math.abs(v - want[i]) / 0.0037));
    assert.equal(Math.max(...steps), 0, `opset ${opset}: steps apart: ${steps}`);
    assert.equal(warnings, [], `opset ${opset}: run as optimised`);
  }
});

// onnxruntime's optimiser (level 'all', saved with optimizedModelFilePath) writes QOperator models
// channels-last: com.microsoft QLinearConv and QLinearGlobalAveragePool with channels_last = 1 and the
// uint8 MaxPool as NhwcMaxPool, between Transposes. Read with Transposes around the float ops, the
// saved model explains as the original.
test('qop_cnn as onnxruntime\'s optimiser saves it (channels_last QLinear ops): the same outputs, gradient and DeepLIFT as the original', async () => {
  const fx = loadFixture('qop_cnn', EXPORTERS);
  const saved = path.join(tempDir('qop-optimized'), 'model.onnx');
  await (await ort.InferenceSession.create(fx.model, { graphOptimizationLevel: 'all', optimizedModelFilePath: saved, logSeverityLevel: 3 })).release();
  const ops = loadModel(saved).graph!.node!.map((n) => `${n.domain ? `${n.domain}.` : ''}${n.op_type}`);
  assert.ok(ops.includes('com.microsoft.QLinearConv') && ops.includes('com.microsoft.NhwcMaxPool') && loadModel(saved).graph!.node!.some((n) => n.attribute?.some((a) => a.name === 'channels_last' && Number(a.i) === 1)), ops.join(', '));
  const [original, optimized] = [await Explainer.load(fx.model), await Explainer.load(saved)];
  for (const method of ['gradient', 'deeplift']) {
    const [a, b] = [await original.attribute(fx.input, { method, target: fx.meta.target }), await optimized.attribute(fx.input, { method, target: fx.meta.target })];
    assert.ok(relL2(b.attributions.data, a.attributions.data) <= 1e-6, `${method}: rel L2 ${relL2(b.attributions.data, a.attributions.data)}`);
    assert.ok(relL2(b.outputs[optimized.outputNames[0]].data, a.outputs[original.outputNames[0]].data) <= 1e-6, `${method}: outputs`);
  }
});

test('nbits_mlp: onnxruntime\'s MatMulNBits kernels give the outputs the dequantized weights are checked against; info names the op read; a malformed B is refused naming the node', async () => {
  const fx = loadFixture('nbits_mlp', EXPORTERS);
  const kernels = await ort.InferenceSession.create(fx.model, { logSeverityLevel: 3 });
  const y = (await kernels.run({ input: new ort.Tensor('float32', fx.input.data, fx.input.dims) })).output.data as Float32Array;
  assert.ok(relL2(y, fx.ref('output.npy')!) <= 1e-5, `MatMulNBits kernels vs the PyTorch evaluation with the weights dequantized: ${relL2(y, fx.ref('output.npy')!)}`);
  await kernels.release();
  const info = await runCli(['info', fx.model]);
  assert.ok(info.out.includes('read in standard ops (the counts above): com.microsoft.MatMulNBits ×3'), info.out.join('\n'));
  const model = loadModel(fx.model);
  const wrong: ModelProto = { ...model, graph: { ...model.graph!, node: model.graph!.node!.map((n) => (n.op_type === 'MatMulNBits' ? { ...n, attribute: n.attribute!.map((a) => (a.name === 'K' ? { ...a, i: 41 } : a)) } : n)) } };
  await rejects(() => Explainer.load(encodeModel(wrong)).then((ex) => ex.attribute(fx.input, { target: fx.meta.target })), /node 'MatMulNBits_\d+_node' \(com\.microsoft\.MatMulNBits, opset 1\): B has \d+ bytes and \d+ scales where K 41/);
});

test('dynq_cnn: onnxruntime runs each row alone as explained (statistics per row), a batch couples its rows, forward() runs rows alone; info names the integer ops read', async () => {
  const fx = loadFixture('dynq_cnn', EXPORTERS);
  const kernels = await ort.InferenceSession.create(fx.model, { logSeverityLevel: 3 });
  const [n, ...row] = fx.input.dims;
  const per = fx.input.data.length / n;
  const run = async (data: Float32Array, dims: number[]) => (await kernels.run({ input: new ort.Tensor('float32', data, dims) })).output.data as Float32Array;
  const alone: number[] = [];
  for (let r = 0; r < n; r++) alone.push(...await run(fx.input.data.slice(r * per, (r + 1) * per), [1, ...row]));
  const want = fx.ref('output.npy')!;
  assert.ok(relL2(Float32Array.from(alone), want) <= 1e-5, `integer kernels row by row vs the PyTorch evaluation: ${relL2(Float32Array.from(alone), want)}`);
  const batched = await run(fx.input.data, fx.input.dims);
  assert.ok(relL2(batched, want) > 1e-3, 'one scale over the batch changes the rows (else this fixture does not show why statistics are taken per row)');
  await kernels.release();
  const forward = (await (await Explainer.load(fx.model)).forward(fx.input)).output.data;
  assert.ok(relL2(forward, want) <= 1e-5, `forward() gives the rows as run alone: ${relL2(forward, want)}`);
  const info = await runCli(['info', fx.model]);
  assert.ok(info.out.includes('read in standard ops (the counts above): ConvInteger ×1, Cast ×4, MatMulInteger ×3'), info.out.join('\n'));
  assert.ok(info.out.includes('unsupported ops: none'), info.out.join('\n'));
  assert.ok(info.out.some((l) => l.startsWith('dynamic quantization: DynamicQuantizeLinear ×3 read with statistics per row')), info.out.join('\n'));
});

test.run();
