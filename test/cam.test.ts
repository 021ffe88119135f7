import * as fs from 'fs';
import * as path from 'path';
import * as ort from 'onnxruntime-node';
import { PNG } from 'pngjs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Emitter, float } from '../rewriter/emitter';
import { DataType, encodeModel, valueInfo } from '../rewriter/proto';
import { Explainer } from '../runtime';
import { readNpy, writeNpy } from '../runtime/node/npy-file';
import { runCli, tempDir } from './support/cli-harness';
import { CAM_FIXTURES, loadFixture, relL2 } from './support/fixtures';
import { rejects } from './support/rejects';
import { twinCnn } from './support/twin-cnn';

const ROOT = CAM_FIXTURES;
const NAMES = ['cam_gap', 'cam_mean', 'cam_seq', 'cam_video'];

function camFixture(name: string) {
  const dir = path.join(ROOT, name);
  const x = readNpy(path.join(dir, 'input.npy'));
  return {
    model: path.join(dir, 'model.onnx'),
    inputFile: path.join(dir, 'input.npy'),
    x: { data: x.data as Float32Array, dims: x.dims },
    meta: JSON.parse(fs.readFileSync(path.join(dir, 'meta.json'), 'utf8')) as { target: number[]; layers: Record<string, string> },
    ref: (file: string) => readNpy(path.join(dir, `${file}.npy`)),
  };
}

const relu = (a: ArrayLike<number>) => Float32Array.from(a, (v) => Math.max(v, 0));

for (const name of NAMES) {
  test(`${name}: CAM equals the hook reference Σ_k w[t,k]·A_k`, async () => {
    const f = camFixture(name);
    const r = await (await Explainer.load(f.model)).attribute(f.x, { method: 'cam', target: f.meta.target });
    const ref = f.ref('cam');
    assert.equal(r.attributions.dims, ref.dims);
    assert.ok(relL2(r.attributions.data, ref.data as Float32Array) < 1e-5, `rel L2 ${relL2(r.attributions.data, ref.data as Float32Array)}`);
  });

  test(`${name}: Grad-CAM at two layers (with and without ReLU) and upsampled equals PyTorch hooks`, async () => {
    const f = camFixture(name);
    const ex = await Explainer.load(f.model);
    for (const [key, layer] of Object.entries(f.meta.layers)) {
      const ref = f.ref(`gradcam_${key}`).data as Float32Array;
      const raw = await ex.attribute(f.x, { method: 'grad-cam', layer, target: f.meta.target, relu: false });
      assert.equal(raw.attributions.dims, f.ref(`gradcam_${key}`).dims);
      assert.ok(relL2(raw.attributions.data, ref) < 1e-5, `${layer} no ReLU: rel L2 ${relL2(raw.attributions.data, ref)}`);
      const on = await ex.attribute(f.x, { method: 'grad-cam', layer, target: f.meta.target });
      assert.ok(relL2(on.attributions.data, relu(ref)) < 1e-5, `${layer} ReLU: rel L2 ${relL2(on.attributions.data, relu(ref))}`);
      assert.ok(ref.some((v) => v < 0), 'the reference has negative parts, so ReLU matters');
    }
    const up = await ex.attribute(f.x, { method: 'grad-cam', layer: f.meta.layers.last, target: f.meta.target, upsample: true });
    const refUp = f.ref('gradcam_up');
    assert.equal(up.attributions.dims, refUp.dims);
    assert.ok(relL2(up.attributions.data, refUp.data as Float32Array) < 1e-5, `upsampled rel L2 ${relL2(up.attributions.data, refUp.data as Float32Array)}`);
  });

  test(`${name}: Guided Grad-CAM equals Captum's guided backprop × nearest-upsampled ReLU(Grad-CAM), from hooks and from our guided backprop`, async () => {
    const f = camFixture(name);
    const ex = await Explainer.load(f.model);
    const r = await ex.attribute(f.x, { method: 'guided-grad-cam', layer: f.meta.layers.last, target: f.meta.target });
    const ref = f.ref('guided_gradcam').data as Float32Array;
    assert.equal(r.attributions.dims, f.x.dims);
    assert.ok(relL2(r.attributions.data, ref) < 1e-5, `vs hooks: rel L2 ${relL2(r.attributions.data, ref)}`);
    // Independently: guided backprop (tested against hooks elsewhere) × the Grad-CAM reference upsampled by floor(dst·in/out).
    const guided = (await ex.attribute(f.x, { method: 'guided-backprop', target: f.meta.target })).attributions.data;
    const cam = f.ref('gradcam_last');
    const [n, c] = f.x.dims;
    const size = f.x.dims.slice(2);
    const small = cam.dims.slice(2);
    const per = size.reduce((a, b) => a * b, 1);
    const perSmall = small.reduce((a, b) => a * b, 1);
    const want = new Float32Array(f.x.data.length);
    for (let r0 = 0; r0 < n; r0++) for (let ch = 0; ch < c; ch++) for (let i = 0; i < per; i++) {
      const coords = size.map((_, k) => Math.floor(i / size.slice(k + 1).reduce((a, b) => a * b, 1)) % size[k]);
      const src = coords.map((v, k) => Math.floor((v * small[k]) / size[k]));
      const j = src.reduce((a, v, k) => a * small[k] + v, 0);
      want[(r0 * c + ch) * per + i] = guided[(r0 * c + ch) * per + i] * Math.max(0, (cam.data as Float32Array)[r0 * perSmall + j]);
    }
    assert.ok(relL2(r.attributions.data, want) < 1e-5, `vs guided × upsampled: rel L2 ${relL2(r.attributions.data, want)}`);
  });
}

/** x [N, 2, 3, 4] averaged over axes 1 and 3, then a linear layer of the 3 values left: no pooling CAM can read. */
function meanOverChannels(): Uint8Array {
  const em = new Emitter(13, DataType.FLOAT, 'm');
  em.rename(em.matmul(em.reduceMean('x', [1, 3], false), em.constFloat(Array.from({ length: 9 }, (_, i) => Math.cos(i)), [3, 3])), 'y');
  return encodeModel({ ir_version: 8, opset_import: [{ domain: '', version: 13 }], graph: { name: 'm', node: em.nodes, initializer: em.initializers, input: [valueInfo('x', DataType.FLOAT, ['N', 2, 3, 4])], output: [{ name: 'y' }] } });
}

/** x [N, 2, 3, 3] → GlobalAveragePool → Tanh → Flatten → · W [2, 3]: an activation between the pooling and the linear layer. */
function activationAfterPooling(): Uint8Array {
  const em = new Emitter(13, DataType.FLOAT, 'm');
  const pooled = em.op('Flatten', [em.op('Tanh', [em.op('GlobalAveragePool', ['x'])])], { axis: 1 });
  em.rename(em.matmul(pooled, em.constFloat([1, -1, 0.5, 2, -0.5, 1], [2, 3])), 'y');
  return encodeModel({ ir_version: 8, opset_import: [{ domain: '', version: 13 }], graph: { name: 'm', node: em.nodes, initializer: em.initializers, input: [valueInfo('x', DataType.FLOAT, ['N', 2, 3, 3])], output: [{ name: 'y' }] } });
}

test('CAM errors name what is missing; Grad-CAM errors name the layer', async () => {
  const cases: [string | Uint8Array, object, RegExp][] = [
    [loadFixture('cnn_maxpool').model, { method: 'cam' }, /CAM needs global average pooling \(GlobalAveragePool, ReduceMean over the spatial axes, or an AveragePool over the whole map\) before the linear layer Gemm node '.*'; its input comes from MaxPool node/],
    [loadFixture('mlp').model, { method: 'cam' }, /CAM needs global average pooling .* its input comes from Relu node/],
    [activationAfterPooling(), { method: 'cam' }, /its input comes from Tanh node '[^']+'; the pooling GlobalAveragePool node '[^']+' above it is followed by Tanh, which CAM cannot pass \(only Flatten, Reshape, Squeeze, Identity, Dropout\)$/],
    [meanOverChannels(), { method: 'cam' }, /CAM needs global average pooling .* its input comes from ReduceMean node '.*', which averages axes 1,3 of 'x' \[N, 2, 3, 4\]/],
    [loadFixture('mlp').model, { method: 'grad-cam' }, /Grad-CAM needs a layer \(--layer NAME; onnx-explain info --layers lists them\): no convolution's feature map \[N, C, …\] leads to '[^']+'$/],
    [camFixture('cam_gap').model, { method: 'grad-cam', layer: 'nope' }, /layer 'nope': no such tensor in the main graph/],
    [camFixture('cam_gap').model, { method: 'grad-cam', layer: '/body/body.7/Relu_output_0', output: '/body/body.4/Relu_output_0' }, /the explained tensor '\/body\/body\.4\/Relu_output_0' does not depend on layer '\/body\/body\.7\/Relu_output_0'/],
    [camFixture('cam_gap').model, { method: 'grad-cam', layer: '/body/body.9/Flatten_output_0' }, /Grad-CAM needs a layer of rank 3 or more .* has shape \[N, 16\]/],
  ];
  for (const [model, options, message] of cases) {
    const ex = await Explainer.load(model);
    const dims = ex.input.dims.map((d, k) => (k === 0 ? 1 : d));
    try {
      await ex.attribute({ data: new Float32Array(dims.reduce((a, b) => a * b, 1)), dims }, { target: 0, ...options });
      assert.unreachable(`no error for ${model} ${JSON.stringify(options)}`);
    } catch (e) {
      assert.match((e as Error).message, message, (e as Error).message);
    }
  }
});

// Grad-CAM and guided Grad-CAM without --layer were refused, as Captum's LayerGradCam needs one.
/**
 * x [N, 3, 6, 6] → a squeeze-and-excitation gate (GlobalAveragePool → 1×1 Conv → Sigmoid, times x) → 3×3 Conv →
 * SiLU (x·Sigmoid(x): two readers, where the walk along the convolution's map stopped) → the classifier's
 * GlobalAveragePool (or ReduceMean over axes 2, 3) → Flatten → Gemm.
 */
function pooledClassifier(reduceMean: boolean, opset = 13): { model: Uint8Array; x: { data: Float32Array; dims: number[] }; layer: string } {
  const em = new Emitter(opset, DataType.FLOAT, 'pooled');
  const gate = em.op('Sigmoid', [em.op('Conv', [em.op('GlobalAveragePool', ['x']), em.constFloat([0.5, -0.3, 0.8, 0.2, 0.9, -0.6, -0.4, 0.7, 0.1], [3, 3, 1, 1])], { kernel_shape: [1, 1], pads: [0, 0, 0, 0], strides: [1, 1] })]);
  const conv = em.op('Conv', [em.mul('x', gate), em.constFloat(Array.from({ length: 4 * 27 }, (_, i) => Math.sin(i * 0.53) * 0.4), [4, 3, 3, 3])], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [1, 1] });
  const silu = em.mul(conv, em.op('Sigmoid', [conv]));
  // From opset 18 the axes are an input (an initializer, as torch's dynamo export writes [-1, -2]).
  const pooled = !reduceMean ? em.op('Flatten', [em.op('GlobalAveragePool', [silu])], { axis: 1 })
    : opset >= 18 ? em.op('ReduceMean', [silu, em.constInt([-1, -2])], { keepdims: 0 }) : em.op('ReduceMean', [silu], { axes: [2, 3], keepdims: 0 });
  em.rename(em.op('Gemm', [pooled, em.constFloat([0.6, -0.2, 0.3, 0.9, -0.5, 0.4, 0.1, -0.8], [4, 2])]), 'y');
  const model = encodeModel({ ir_version: 8, opset_import: [{ domain: '', version: opset }], graph: { name: 'pooled', node: em.nodes, initializer: em.initializers, input: [valueInfo('x', DataType.FLOAT, ['N', 3, 6, 6])], output: [{ name: 'y' }] } });
  return { model, x: { data: Float32Array.from({ length: 2 * 108 }, (_, i) => Math.cos(i * 0.47)), dims: [2, 3, 6, 6] }, layer: silu };
}

test('Grad-CAM without a layer takes the map the classifier\'s global pooling reads (a ResNet block\'s output, an EfficientNet\'s SiLU, not a squeeze-and-excitation gate\'s), says which, and equals Grad-CAM at that layer', async () => {
  const cases: [Uint8Array | string, { data: Float32Array; dims: number[] }, string][] = [
    [camFixture('cam_gap').model, camFixture('cam_gap').x, '/body/body.7/Relu_output_0'],
    [loadFixture('resnet_bn').model, loadFixture('resnet_bn').input, '/body/body.4/relu2/Relu_output_0'],
    [loadFixture('mobilenet').model, loadFixture('mobilenet').input, '/body/pw/pw.1/HardSwish_output_0'],
    ...([[false, 13], [true, 13], [true, 18]] as const).map(([mean, opset]): [Uint8Array, { data: Float32Array; dims: number[] }, string] => { const p = pooledClassifier(mean, opset); return [p.model, p.x, p.layer]; }),
  ];
  for (const [model, x, layer] of cases) {
    for (const method of ['grad-cam', 'guided-grad-cam']) {
      const ex = await Explainer.load(model, { warn: () => {} });
      const chosen = await ex.attribute(x, { method, target: 1 });
      // A row whose map is negative everywhere (zero after the ReLU) is noted too.
      assert.equal(ex.warnings.filter((w) => !/the map is zero at every position for row/.test(w)), [`${method}: layer '${layer}', the feature map the global pooling reads (--layer picks another)`]);
      const given = await ex.attribute(x, { method, target: 1, layer });
      assert.equal(Array.from(chosen.attributions.data), Array.from(given.attributions.data));
    }
  }
});

// A segmentation head's own convolution was the default layer: the explained logit is read from it value by value, so its
// gradient is one channel at one position and Grad-CAM returned that channel's map (PaddleOCR's DB text detector).
// torchvision's segmentation heads (FCN, DeepLabV3, LR-ASPP) upsample their logits to the input size with a bilinear Resize.
// A TFLite BlazeFace (tf2onnx) concatenates its heads' anchors: the default was a head's convolution, its map zero at most anchors.
for (const kind of ['dense', 'upsampled', 'concatenated heads'] as const) {
  test(`Grad-CAM without a layer on a ${kind === 'concatenated heads' ? 'detector\'s concatenated anchors' : 'dense output'} passes over the map${kind === 'concatenated heads' ? 's' : ''} the explained value is read from (bias, activation, reshape${kind === 'upsampled' ? ', a bilinear upsampling' : kind === 'dense' ? '' : ', Transpose and Concat'}) for the convolution before`, async () => {
    const em = new Emitter(13, DataType.FLOAT, 'seg');
    const act = em.op('Relu', [em.op('Conv', ['x', em.constFloat(Array.from({ length: 108 }, (_, i) => Math.sin(i * 0.37) * 0.5), [4, 3, 3, 3])], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [1, 1] })]);
    const conv1x1 = (w: number[], out: number) => em.op('Conv', [act, em.constFloat(w, [out, 4, 1, 1])], { kernel_shape: [1, 1], pads: [0, 0, 0, 0], strides: [1, 1] });
    const head = conv1x1([0.7, -0.4, 0.2, 0.9, -0.3, 0.5, 0.8, -0.6], 2);
    const logits = em.op('Sigmoid', [em.add(head, em.constFloat([0.1, -0.2], [1, 2, 1, 1]))]);
    const anchors = (t: string) => em.reshape(em.op('Transpose', [t], { perm: [0, 2, 3, 1] }), [0, -1, 1]);
    const dense = kind === 'upsampled' ? em.op('Resize', [logits, '', em.constFloat([1, 1, 2, 2], [4])], { mode: 'linear' })
      : kind === 'concatenated heads' ? em.concat([anchors(logits), anchors(conv1x1([0.3, 0.6, -0.5, 0.4], 1))], 1) : logits;
    em.rename(em.op('Flatten', [dense], { axis: 1 }), 'y');
    const model = encodeModel({ ir_version: 8, opset_import: [{ domain: '', version: 13 }], graph: { name: 'seg', node: em.nodes, initializer: em.initializers, input: [valueInfo('x', DataType.FLOAT, ['N', 3, 6, 6])], output: [{ name: 'y' }] } });
    const x = { data: Float32Array.from({ length: 2 * 108 }, (_, i) => Math.cos(i * 0.61)), dims: [2, 3, 6, 6] };
    const ex = await Explainer.load(model, { warn: () => {} });
    const target = { dense: 36 + 15, upsampled: 144 + 12 * 5 + 7, 'concatenated heads': 72 + 20 }[kind];
    const chosen = await ex.attribute(x, { method: 'grad-cam', target, relu: false });
    assert.equal(ex.warnings, [`grad-cam: layer '${act}', the last convolution's feature map (--layer picks another)`]);
    const given = await ex.attribute(x, { method: 'grad-cam', target, relu: false, layer: act });
    assert.equal(Array.from(chosen.attributions.data), Array.from(given.attributions.data));
  });
}

// The default was the attention's one-channel mask [N, 1, H, W] (its convolution came last), not a feature map.
// Skipping the gate's convolution instead took the channel attention's pooling before it (the map before the block).
test('Grad-CAM without a layer takes a spatial attention\'s gated map, not its one-channel gate (CBAM: channel attention, then f · sigmoid(conv(f)))', async () => {
  const em = new Emitter(13, DataType.FLOAT, 'cbam');
  const conv = (x: string, out: number, inC: number, k: number) => em.op('Conv', [x, em.constFloat(Array.from({ length: out * inC * k * k }, (_, i) => Math.sin(i * 0.37 + out) * 0.5), [out, inC, k, k])], { kernel_shape: [k, k], pads: Array(4).fill((k - 1) / 2), strides: [1, 1] });
  const r = em.op('Relu', [conv('x', 4, 3, 3)]);
  const f = em.mul(r, em.op('Sigmoid', [conv(em.op('GlobalAveragePool', [r]), 4, 4, 1)]));
  const gated = em.mul(f, em.op('Sigmoid', [conv(f, 1, 4, 3)]));
  em.rename(em.matmul(em.op('Flatten', [gated], { axis: 1 }), em.constFloat(Array.from({ length: 288 }, (_, i) => Math.cos(i * 0.29) * 0.1), [144, 2])), 'y');
  const model = encodeModel({ ir_version: 8, opset_import: [{ domain: '', version: 13 }], graph: { name: 'cbam', node: em.nodes, initializer: em.initializers, input: [valueInfo('x', DataType.FLOAT, ['N', 3, 6, 6])], output: [{ name: 'y' }] } });
  assert.is(await (await Explainer.load(model)).camLayer([3, 6, 6]), gated);
});

// A detector joining two levels' heads into one list of anchors: the default layer is one level's map, and an anchor of the
// other level does not depend on it (the map was zero without a word; RetinaNet, FCOS, SSDlite, YOLO at P3 vs P4).
test('Grad-CAM without a layer notes a row whose map is zero everywhere: negative before the ReLU, or a target that does not depend on the default layer', async () => {
  const em = new Emitter(13, DataType.FLOAT, 'levels');
  const conv = (t: string, w: number[], out: number, inC: number, k: number, stride = 1) => em.op('Conv', [t, em.constFloat(w, [out, inC, k, k])], { kernel_shape: [k, k], pads: k === 3 ? [1, 1, 1, 1] : [0, 0, 0, 0], strides: [stride, stride] });
  const p3 = em.op('Relu', [conv('x', Array.from({ length: 108 }, (_, i) => Math.sin(i * 0.37) * 0.5), 4, 3, 3)]);
  const p4 = em.op('Relu', [conv(p3, Array.from({ length: 144 }, (_, i) => Math.cos(i * 0.29) * 0.4), 4, 4, 3, 2)]);
  const head = (t: string) => em.reshape(em.op('Transpose', [conv(t, [0.7, -0.4, 0.2, 0.9, -0.3, 0.5, 0.8, -0.6], 2, 4, 1)], { perm: [0, 2, 3, 1] }), [0, -1, 2]);
  em.rename(em.concat([head(p3), head(p4)], 1), 'y');
  const model = encodeModel({ ir_version: 8, opset_import: [{ domain: '', version: 13 }], graph: { name: 'levels', node: em.nodes, initializer: em.initializers, input: [valueInfo('x', DataType.FLOAT, ['N', 3, 6, 6])], output: [{ name: 'y' }] } });
  const ex = await Explainer.load(model, { warn: () => {} });
  const x = { data: Float32Array.from({ length: 2 * 108 }, (_, i) => Math.cos(i * 0.61)), dims: [2, 3, 6, 6] };
  // The default is the second level's map (the last convolution); anchor 10 is the first level's (36 anchors at 6×6, then 9 at 3×3).
  const r = await ex.attribute(x, { method: 'grad-cam', target: [[10, 1], [10, 1]], relu: false });
  assert.equal(ex.warnings[0], `grad-cam: layer '${p4}', the last convolution's feature map (--layer picks another)`);
  assert.ok(r.attributions.data.every((v) => v === 0), 'anchor 10 does not depend on the second level');
  assert.ok(ex.warnings.some((w) => /^grad-cam: the map is zero at every position for rows 0, 1: negative everywhere before the ReLU \(--no-relu shows it\), or the target does not depend on the default layer/.test(w)), ex.warnings.join('\n'));
});

// torch before opset 17 writes a transformer's LayerNorm out (ReduceMean, Sub, Pow, ReduceMean over the last axis of the
// tokens [N, L, D]), and RMSNorm at every opset: a statistic's ReduceMean over axis 2 of a rank-3 tensor was taken for the
// classifier's global pooling, and the default layer was a tensor inside the final norm (a map over the channels, [N, 1, D];
// CaiT, ConViT, CrossViT, CvT, XCiT, TNT, wav2vec2-like models at opset 13) where opset 17's LayerNormalization left the patch embedding.
for (const norm of ['LayerNorm at opset 13', 'LayerNormalization at opset 17', 'RMSNorm'] as const) {
  test(`Grad-CAM without a layer on a token model with a final ${norm} takes the patch embedding, not a statistic of the norm`, async () => {
    const opset = norm.endsWith('17') ? 17 : 13;
    const em = new Emitter(opset, DataType.FLOAT, 'tok');
    const patches = em.op('Conv', ['x', em.constFloat(Array.from({ length: 48 }, (_, i) => Math.sin(i * 0.37) * 0.5), [4, 3, 2, 2])], { kernel_shape: [2, 2], pads: [0, 0, 0, 0], strides: [2, 2] });
    const tokens = em.transpose(em.reshape(patches, [0, 4, 4]), [0, 2, 1]);
    const rms = (t: string) => em.div(t, em.op('Sqrt', [em.add(em.reduceMean(em.op('Pow', [t, em.scalar(2)]), [-1]), em.scalar(1e-5))]));
    const normed = norm === 'RMSNorm' ? rms(tokens)
      : opset === 13 ? rms(em.sub(tokens, em.reduceMean(tokens, [-1])))
        : em.op('LayerNormalization', [tokens, em.constFloat([1, 1, 1, 1], [4]), em.constFloat([0, 0, 0, 0], [4])], { axis: -1 });
    const first = em.op('Gather', [normed, em.constInt([0], [])], { axis: 1 });
    em.rename(em.op('Gemm', [first, em.constFloat(Array.from({ length: 12 }, (_, i) => Math.cos(i * 0.9)), [4, 3])]), 'y');
    const model = encodeModel({ ir_version: 8, opset_import: [{ domain: '', version: opset }], graph: { name: 'tok', node: em.nodes, initializer: em.initializers, input: [valueInfo('x', DataType.FLOAT, ['N', 3, 4, 4])], output: [{ name: 'y' }] } });
    const x = { data: Float32Array.from({ length: 2 * 48 }, (_, i) => Math.cos(i * 0.61)), dims: [2, 3, 4, 4] };
    const ex = await Explainer.load(model, { warn: () => {} });
    const r = await ex.attribute(x, { method: 'grad-cam', target: 1 });
    assert.equal(ex.warnings, [`grad-cam: layer '${patches}', the last convolution's feature map (--layer picks another)`]);
    assert.equal(r.attributions.dims, [2, 1, 2, 2]);
  });
}

// BiT (timm's ResNetV2), DLA and DPN classify with a 1×1 Conv over the pooled map and a Flatten: CAM was refused as not
// coming from one linear layer ("it comes from Flatten node").
test('CAM reads a 1×1 Conv over global average pooling, then Flatten, as the linear layer (BiT, DLA): CAM/(h·w) = Grad-CAM without ReLU', async () => {
  const em = new Emitter(13, DataType.FLOAT, 'pw');
  const act = em.op('Relu', [em.op('Conv', ['x', em.constFloat(Array.from({ length: 108 }, (_, i) => Math.sin(i * 0.37) * 0.5), [4, 3, 3, 3])], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [1, 1] })]);
  const pooled = em.op('GlobalAveragePool', [act]);
  const head = em.op('Conv', [pooled, em.constFloat(Array.from({ length: 12 }, (_, i) => Math.cos(i * 0.9)), [3, 4, 1, 1]), em.constFloat([0.1, -0.2, 0.3], [3])], { kernel_shape: [1, 1] });
  em.rename(em.op('Flatten', [head], { axis: 1 }), 'y');
  const model = encodeModel({ ir_version: 8, opset_import: [{ domain: '', version: 13 }], graph: { name: 'pw', node: em.nodes, initializer: em.initializers, input: [valueInfo('x', DataType.FLOAT, ['N', 3, 6, 6])], output: [{ name: 'y' }] } });
  const x = { data: Float32Array.from({ length: 2 * 108 }, (_, i) => Math.cos(i * 0.61)), dims: [2, 3, 6, 6] };
  const ex = await Explainer.load(model, { warn: () => {} });
  const cam = (await ex.attribute(x, { method: 'cam', target: [1, 2] })).attributions;
  const grad = (await ex.attribute(x, { method: 'grad-cam', target: [1, 2], relu: false })).attributions;
  assert.equal(cam.dims, [2, 1, 6, 6]);
  assert.ok(relL2(cam.data.map((v) => v / 36), grad.data) < 1e-6, `rel L2 ${relL2(cam.data.map((v) => v / 36), grad.data)}`);
});


test('CAM past an inference Dropout after the linear layer (a copy, as an Identity there is): Σ_k W[t, k]·A_k, and a final Softmax behind a Dropout, or a multi-label head\'s final Sigmoid (CheXNet), is explained at its logits', async () => {
  const W = Array.from({ length: 8 }, (_, i) => Math.cos(i * 0.9));
  const build = (head: 'none' | 'softmax' | 'sigmoid') => {
    const em = new Emitter(13, DataType.FLOAT, 'do');
    const pooled = em.op('Flatten', [em.op('GlobalAveragePool', ['x'])], { axis: 1 });
    const logits = em.op('Dropout', [em.matmul(pooled, em.constFloat(W, [4, 2]))]);
    em.rename(head === 'softmax' ? em.op('Dropout', [em.op('Softmax', [logits], { axis: 1 })]) : head === 'sigmoid' ? em.op('Sigmoid', [logits]) : logits, 'y');
    return encodeModel({ ir_version: 8, opset_import: [{ domain: '', version: 13 }], graph: { name: 'do', node: em.nodes, initializer: em.initializers, input: [valueInfo('x', DataType.FLOAT, ['N', 4, 2, 3])], output: [{ name: 'y' }] } });
  };
  const x = { data: Float32Array.from({ length: 2 * 24 }, (_, i) => Math.sin(i * 0.43)), dims: [2, 4, 2, 3] };
  const target = [1, 0];
  const want = Float32Array.from({ length: 12 }, (_, k) => {
    const [n, p] = [Math.floor(k / 6), k % 6];
    return [0, 1, 2, 3].reduce((s, c) => s + W[c * 2 + target[n]] * x.data[(n * 4 + c) * 6 + p], 0);
  });
  for (const head of ['none', 'softmax', 'sigmoid'] as const) {
    const cam = (await (await Explainer.load(build(head))).attribute(x, { method: 'cam', target })).attributions;
    assert.equal(cam.dims, [2, 1, 2, 3]);
    assert.ok(relL2(cam.data, want) < 1e-6, `${head}: rel L2 ${relL2(cam.data, want)}`);
  }
});

test('Grad-CAM on a raw waveform [N, L] (wav2vec2, wake-word CNNs): the map [N, 1, T] upsamples along L as F.interpolate(linear); guided Grad-CAM = guided backprop × the nearest-resized map', async () => {
  // x [N, 32] → Unsqueeze → Conv1d(1→4, 3, stride 2) → Relu → Conv1d(4→4, 3, stride 2) → Relu → GlobalAveragePool → Flatten → Gemm(4→3).
  const em = new Emitter(13, DataType.FLOAT, 'wave');
  const conv = (x: string, cin: number, phase: number) => em.op('Relu', [em.op('Conv', [x, em.constFloat(Array.from({ length: 4 * cin * 3 }, (_, i) => Math.sin(i * 0.83 + phase)), [4, cin, 3])], { kernel_shape: [3], pads: [1, 1], strides: [2] })]);
  const layer = conv(conv(em.unsqueeze('x', [1]), 1, 0), 4, 1);
  em.rename(em.op('Gemm', [em.op('Flatten', [em.op('GlobalAveragePool', [layer])], { axis: 1 }), em.constFloat(Array.from({ length: 12 }, (_, i) => Math.cos(i * 0.7)), [4, 3])]), 'y');
  const model = encodeModel({ ir_version: 8, opset_import: [{ domain: '', version: 13 }], graph: { name: 'wave', node: em.nodes, initializer: em.initializers, input: [valueInfo('x', DataType.FLOAT, ['N', 32])], output: [{ name: 'y' }] } });
  const x = { data: Float32Array.from({ length: 64 }, (_, i) => Math.sin(i * 0.41) + 0.3 * Math.cos(i * 1.9)), dims: [2, 32] };
  const ex = await Explainer.load(model, { warn: () => {} });
  const target = [1, 2];
  const map = (await ex.attribute(x, { method: 'grad-cam', target, layer })).attributions;
  assert.equal(map.dims, [2, 1, 8]);
  const resized = (mode: 'linear' | 'nearest') => Float32Array.from({ length: 64 }, (_, k) => {
    const [r, i] = [Math.floor(k / 32), k % 32];
    const at = (j: number) => map.data[r * 8 + j];
    if (mode === 'nearest') return at(Math.floor(i / 4));
    const src = Math.max(0, (i + 0.5) / 4 - 0.5);
    const j = Math.min(Math.floor(src), 7);
    return at(j) + (src - j) * (at(Math.min(j + 1, 7)) - at(j));
  });
  const up = (await ex.attribute(x, { method: 'grad-cam', target, layer, upsample: true })).attributions;
  assert.equal(up.dims, [2, 1, 32]);
  assert.ok(relL2(up.data, resized('linear')) < 1e-6, `upsampled: rel L2 ${relL2(up.data, resized('linear'))}`);
  const guided = (await ex.attribute(x, { method: 'guided-backprop', target })).attributions;
  const both = (await ex.attribute(x, { method: 'guided-grad-cam', target, layer })).attributions;
  const want = guided.data.map((g, k) => g * resized('nearest')[k]);
  assert.equal(both.dims, [2, 32]);
  assert.ok(relL2(both.data, want) < 1e-6, `guided Grad-CAM: rel L2 ${relL2(both.data, want)}`);
});

test('Grad-CAM of an intermediate tensor (a pooled feature): is A_k/(h·w) and is reported among the outputs', async () => {
  const f = camFixture('cam_gap');
  const ex = await Explainer.load(f.model);
  const pooled = '/body/body.9/Flatten_output_0';
  const r = await ex.attribute(f.x, { method: 'grad-cam', layer: f.meta.layers.last, output: pooled, target: 3, relu: false });
  // y = mean(A_3): ∂y/∂A_c = δ_c3 / (h·w), so the map is A_3 / (h·w).
  const a = (await ex.attribute(f.x, { method: 'layer-activation', layer: f.meta.layers.last })).attributions;
  const [n, c, h, w] = a.dims;
  const want = new Float32Array(n * h * w);
  for (let r0 = 0; r0 < n; r0++) for (let i = 0; i < h * w; i++) want[r0 * h * w + i] = a.data[(r0 * c + 3) * h * w + i] / (h * w);
  assert.ok(relL2(r.attributions.data, want) < 1e-5, `rel L2 ${relL2(r.attributions.data, want)}`);
  assert.equal(r.outputs[pooled].dims, [3, 16]);
});

test('rewrite --method grad-cam / cam saves one graph (inputs input, seed; output attribution) that plain onnxruntime runs to the API numbers', async () => {
  const f = camFixture('cam_gap');
  const dir = tempDir('cam');
  for (const [method, extra] of [['grad-cam', ['--layer', f.meta.layers.mid, '--upsample']], ['cam', []]] as [string, string[]][]) {
    const out = path.join(dir, `${method}.onnx`);
    const r = await runCli(['rewrite', f.model, '--method', method, '--out', out, ...extra]);
    assert.is(r.code, 0, r.err.join('|'));
    const session = await ort.InferenceSession.create(out);
    assert.equal(session.inputNames, ['input', 'seed']);
    const seed = new Float32Array(3 * 5);
    f.meta.target.forEach((t, row) => { seed[row * 5 + t] = 1; });
    const got = (await session.run({ input: new ort.Tensor('float32', f.x.data, f.x.dims), seed: new ort.Tensor('float32', seed, [3, 5]) })).attribution;
    const api = await (await Explainer.load(f.model)).attribute(f.x, { method, target: f.meta.target, layer: method === 'grad-cam' ? f.meta.layers.mid : undefined, upsample: method === 'grad-cam' });
    assert.equal([...got.dims], api.attributions.dims);
    assert.ok(relL2(got.data as Float32Array, api.attributions.data) < 1e-6);
  }
});

test('attribute --method grad-cam --out x.png overlays the upsampled map; --no-relu, --interpolate reach the graph', async () => {
  const f = camFixture('cam_gap');
  const dir = tempDir('cam-cli');
  const png = path.join(dir, 'gradcam.png');
  const r = await runCli(['attribute', f.model, '--input', f.inputFile, '--method', 'grad-cam', '--layer', f.meta.layers.last, '--target', '1', '--out', png]);
  assert.is(r.code, 0, r.err.join('|'));
  assert.ok(PNG.sync.read(fs.readFileSync(png)).width > 16);
  const npy = path.join(dir, 'raw.npy');
  const r2 = await runCli(['attribute', f.model, '--input', f.inputFile, '--method', 'grad-cam', '--layer', f.meta.layers.last, '--target', f.meta.target.join(','), '--no-relu', '--out', npy]);
  assert.is(r2.code, 0, r2.err.join('|'));
  assert.ok(relL2(readNpy(npy).data as Float32Array, f.ref('gradcam_last').data as Float32Array) < 1e-5);
  const bad = await runCli(['attribute', f.model, '--input', f.inputFile, '--method', 'grad-cam', '--layer', f.meta.layers.last, '--interpolate', 'cubic']);
  assert.is(bad.code, 1);
  assert.match(bad.err[0], /--interpolate: 'cubic' is not one of bilinear, nearest/);
});

test('a video model: Grad-CAM to .npy; a PNG figure of its 5-D attributions is refused before any work, in one line', async () => {
  const f = camFixture('cam_video');
  const dir = tempDir('cam-video');
  const npy = path.join(dir, 'gradcam.npy');
  const r = await runCli(['attribute', f.model, '--input', f.inputFile, '--method', 'grad-cam', '--layer', f.meta.layers.last, '--upsample', '--target', f.meta.target.join(','), '--out', npy]);
  assert.is(r.code, 0, r.err.join('|'));
  assert.ok(relL2(readNpy(npy).data as Float32Array, f.ref('gradcam_up').data as Float32Array) < 1e-5);
  for (const method of ['grad-cam', 'gradient']) {
    const png = await runCli(['attribute', f.model, '--input', f.inputFile, '--method', method, '--layer', f.meta.layers.last, '--target', '1', '--out', path.join(dir, 'fig.png')].filter((a, k, all) => method === 'grad-cam' || (a !== '--layer' && all[k - 1] !== '--layer')));
    assert.is(png.code, 1);
    assert.equal(png.err, ['onnx-explain: error: cannot draw attributions of shape [3,3,4,8,8]: expected an image ([N,C,H,W], [N,H,W]) or a sequence ([N,L], [N,C,L]); save them as .npy']);
    assert.equal(png.out, [], 'nothing computed');
    assert.not.ok(fs.existsSync(path.join(dir, 'fig.png')));
  }
  const layerPng = await runCli(['attribute', f.model, '--input', f.inputFile, '--method', 'gradient', '--layer', f.meta.layers.last, '--out', path.join(dir, 'fig.png')]);
  assert.equal([layerPng.code, layerPng.out, layerPng.err], [1, [], [`onnx-explain: error: --out ${path.join(dir, 'fig.png')}: a PNG figure shows input attributions; save layer attributions as .npy`]]);
});

test('info --layers lists the layers of rank 3 or more with their shapes (a video map\'s too), Grad-CAM\'s default marked', async () => {
  const f = camFixture('cam_gap');
  const r = await runCli(['info', f.model, '--layers']);
  assert.is(r.code, 0, r.err.join('|'));
  assert.ok(r.out.includes(`  ${f.meta.layers.last}  [N, 16, 4, 4]  (Relu)  Grad-CAM's default`), r.out.join('\n'));
  assert.ok(r.out.includes(`  ${f.meta.layers.mid}  [N, 16, 8, 8]  (Relu)`));
  const layers = r.out.slice(r.out.findIndex((l) => l.startsWith('layers (')));
  assert.not.ok(layers.some((l) => l.includes('Flatten_output_0')), 'no 2-D tensors among the layers');
  const video = await runCli(['info', camFixture('cam_video').model, '--layers']);
  assert.ok(video.out.includes(`  ${camFixture('cam_video').meta.layers.last}  [N, 8, 2, 2, 2]  (Relu)  Grad-CAM's default`), video.out.join('\n'));
});

test('a channels-last image model [N, H, W, 3]: Grad-CAM and CAM upsampled to its height and width, and guided Grad-CAM, equal its channels-first twin\'s; visualize draws them beside input methods', async () => {
  const [h, w] = [7, 5];
  const data = Float32Array.from({ length: 3 * h * w }, (_, i) => Math.sin(i * 1.3));
  const hwc = Float32Array.from({ length: 3 * h * w }, (_, i) => data[(i % 3) * h * w + Math.floor(i / 3)]);
  const options = { method: 'grad-cam', layer: 'features', target: 2, upsample: true };
  const first = await (await Explainer.load(twinCnn(false))).attribute({ data, dims: [1, 3, h, w] }, options);
  const last = await (await Explainer.load(twinCnn(true))).attribute({ data: hwc, dims: [1, h, w, 3] }, options);
  assert.equal(first.attributions.dims, [1, 1, h, w]);
  assert.equal(last.attributions.dims, [1, 1, h, w]);
  assert.ok(relL2(last.attributions.data, first.attributions.data) < 1e-6);
  const cam = await Promise.all([[false, data, [1, 3, h, w]], [true, hwc, [1, h, w, 3]]].map(async ([hwcModel, x, dims]) => (await Explainer.load(twinCnn(hwcModel as boolean))).attribute({ data: x as Float32Array, dims: dims as number[] }, { ...options, layer: undefined, method: 'cam' })));
  assert.ok(relL2(cam[1].attributions.data, cam[0].attributions.data) < 1e-6, 'CAM reads the Transpose + ReduceMean pooling');
  const guided = await Promise.all([[false, data, [1, 3, h, w]], [true, hwc, [1, h, w, 3]]].map(async ([hwcModel, x, dims]) => (await Explainer.load(twinCnn(hwcModel as boolean))).attribute({ data: x as Float32Array, dims: dims as number[] }, { ...options, method: 'guided-grad-cam' })));
  assert.equal(guided[1].attributions.dims, [1, h, w, 3]);
  assert.ok(relL2(guided[1].attributions.data, Float32Array.from(guided[1].attributions.data, (_, i) => guided[0].attributions.data[(i % 3) * h * w + Math.floor(i / 3)])) < 1e-6, 'guided Grad-CAM: the twin\'s, transposed');
  const dir = tempDir('cam-hwc');
  fs.writeFileSync(path.join(dir, 'm.onnx'), twinCnn(true));
  writeNpy(path.join(dir, 'x.npy'), hwc, [1, h, w, 3]);
  const figure = path.join(dir, 'fig.png');
  // --steps goes to the one method that reads it; each map method gets the options it reads.
  const r = await runCli(['visualize', path.join(dir, 'm.onnx'), '--input', path.join(dir, 'x.npy'), '--methods', 'gradient,grad-cam,guided-grad-cam,integrated-gradients', '--steps', '8', '--layer', 'features', '--out', figure]);
  assert.is(r.code, 0, r.err.join('|'));
  assert.ok(fs.statSync(figure).size > 0);
  const alone = await runCli(['visualize', path.join(dir, 'm.onnx'), '--input', path.join(dir, 'x.npy'), '--methods', 'gradient', '--layer', 'features', '--out', figure]);
  assert.equal([alone.code, alone.err], [1, ['onnx-explain: error: visualize: --layer picks the layer of the class activation maps (grad-cam, guided-grad-cam) or of neuron-conductance\'s neuron; the other methods are drawn at the input']]);
});

const VIT_HEAD = Array.from({ length: 12 }, (_, i) => Math.sin(i * 1.1 + 0.4));

/** A ViT in miniature: 2×2 patches of [N, 3, 8, 8] by a stride-2 Conv ('patches' [N, 4, 4, 4]), as tokens with a class token first ('tokens' [N, 17, 4]), Tanh(·W), the mean over the tokens, a linear head. */
function tinyVit(): Uint8Array {
  const em = new Emitter(13, DataType.FLOAT, 'vit');
  const patches = em.rename(em.op('Conv', ['x', em.constFloat(Array.from({ length: 48 }, (_, i) => Math.sin(i * 0.61) * 0.6), [4, 3, 2, 2])], { kernel_shape: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0] }), 'patches');
  const grid = em.transpose(em.reshape(patches, [0, 4, 16]), [0, 2, 1]);
  const batch = em.op('Slice', [em.op('Shape', ['x']), em.constInt([0]), em.constInt([1]), em.constInt([0])]);
  const cls = em.op('Expand', [em.constFloat([0.3, -0.2, 0.5, 0.1], [1, 1, 4]), em.concat([batch, em.constInt([1, 4])], 0)]);
  const tokens = em.rename(em.concat([cls, grid], 1), 'tokens');
  const mixed = em.rename(em.op('Tanh', [em.matmul(tokens, em.constFloat(Array.from({ length: 16 }, (_, i) => Math.cos(i * 0.77)), [4, 4]))]), 'mixed');
  em.rename(em.matmul(em.reduceMean(mixed, [1], false), em.constFloat(VIT_HEAD, [4, 3])), 'y');
  return encodeModel({ ir_version: 8, opset_import: [{ domain: '', version: 13 }], graph: { name: 'vit', node: em.nodes, initializer: em.initializers, input: [valueInfo('x', DataType.FLOAT, ['N', 3, 8, 8])], output: [{ name: 'y' }] } });
}

test('Grad-CAM on a ViT\'s token layer with tokenGrid [4, 4] (class token left out) equals Grad-CAM on the patch map the tokens are, raw and upsampled; bad grids are refused in one line', async () => {
  const ex = await Explainer.load(tinyVit());
  const x = { data: Float32Array.from({ length: 2 * 3 * 64 }, (_, i) => Math.sin(i * 0.37)), dims: [2, 3, 8, 8] };
  for (const upsample of [false, true]) {
    const options = { method: 'grad-cam', target: [0, 2], relu: false, upsample };
    const onMap = await ex.attribute(x, { ...options, layer: 'patches' });
    const onTokens = await ex.attribute(x, { ...options, layer: 'tokens', tokenGrid: [4, 4] as [number, number] });
    assert.equal(onTokens.attributions.dims, upsample ? [2, 1, 8, 8] : [2, 1, 4, 4]);
    assert.ok(relL2(onTokens.attributions.data, onMap.attributions.data) < 1e-6, `upsample ${upsample}`);
  }
  await rejects(() => ex.attribute(x, { method: 'grad-cam', target: 0, layer: 'tokens', tokenGrid: [5, 4] }), /Grad-CAM with a token grid of 5×4: 'tokens' \[N, 17, 4\] holds 17 tokens, fewer than the grid's 20/);
  await rejects(() => ex.attribute(x, { method: 'guided-grad-cam', target: 0, layer: 'tokens' }), /cannot upsample a map of shape \[N, 1, 4\] to the input 'x' of shape \[N, 3, 8, 8\] \(different ranks\); a token layer \[N, tokens, channels\] is mapped onto the image with --token-grid H,W/);
  await rejects(() => ex.attribute(x, { method: 'grad-cam', target: 0, layer: 'patches', tokenGrid: [4, 4] }), /needs a token layer \[N, tokens, channels\] with the batch first; 'patches' has shape \[N, 4, 4, 4\]/);
  const dir = tempDir('vit');
  fs.writeFileSync(path.join(dir, 'vit.onnx'), tinyVit());
  writeNpy(path.join(dir, 'x.npy'), x.data, x.dims);
  const cli = await runCli(['attribute', path.join(dir, 'vit.onnx'), '--input', path.join(dir, 'x.npy'), '--method', 'grad-cam', '--layer', 'tokens', '--token-grid', '4,4', '--target', '0,2', '--out', path.join(dir, 'vit.png')]);
  assert.is(cli.code, 0, cli.err.join('|'));
  const bad = await runCli(['attribute', path.join(dir, 'vit.onnx'), '--input', path.join(dir, 'x.npy'), '--method', 'grad-cam', '--layer', 'tokens', '--token-grid', '4']);
  assert.equal(bad.err, ["onnx-explain: error: --token-grid: '4' is not H,W (two positive integers: the patch grid)"]);
});

test('CAM over a mean of channels-last tokens [N, L, K] (a transformer\'s pooling): M[l] = Σ_k W[k, t]·A[l, k] at each token, whose mean is the logit; upsampling it is refused in one line, except where the input has the same positions', async () => {
  const ex = await Explainer.load(tinyVit());
  const x = { data: Float32Array.from({ length: 2 * 3 * 64 }, (_, i) => Math.sin(i * 0.37)), dims: [2, 3, 8, 8] };
  const target = [0, 2];
  const cam = await ex.attribute(x, { method: 'cam', target });
  assert.equal(cam.attributions.dims, [2, 1, 17]);
  const tokens = (await ex.attribute(x, { method: 'layer-activation', layer: 'mixed' })).attributions;
  assert.equal(tokens.dims, [2, 17, 4]);
  const want = Float32Array.from({ length: 34 }, (_, i) => {
    const [n, l] = [Math.floor(i / 17), i % 17];
    return [0, 1, 2, 3].reduce((a, k) => a + VIT_HEAD[k * 3 + target[n]] * tokens.data[(n * 17 + l) * 4 + k], 0);
  });
  assert.ok(relL2(cam.attributions.data, want) < 1e-6, `rel L2 ${relL2(cam.attributions.data, want)}`);
  for (let n = 0; n < 2; n++) {
    const mean = cam.attributions.data.slice(n * 17, n * 17 + 17).reduce((a, b) => a + b, 0) / 17;
    assert.ok(Math.abs(mean - cam.outputs.y.data[n * 3 + target[n]]) < 1e-6, `row ${n}: mean ${mean}`);
  }
  await rejects(() => ex.attribute(x, { method: 'cam', target: 0, upsample: true }), /CAM cannot upsample the map of the channels-last tensor 'mixed' \[N, 17, 4\]: which input axes its positions span is not known/);
  // A sequence input [N, L, D] laid out as its tokens: the map is at the input's positions already.
  const em = new Emitter(13, DataType.FLOAT, 'seq');
  em.rename(em.matmul(em.reduceMean(em.op('Tanh', [em.matmul('x', em.constFloat(Array.from({ length: 15 }, (_, i) => Math.sin(i)), [3, 5]))]), [1], false), em.constFloat(Array.from({ length: 10 }, (_, i) => Math.cos(i)), [5, 2])), 'y');
  const seq = await Explainer.load(encodeModel({ ir_version: 8, opset_import: [{ domain: '', version: 13 }], graph: { name: 'seq', node: em.nodes, initializer: em.initializers, input: [valueInfo('x', DataType.FLOAT, ['N', 4, 3])], output: [{ name: 'y' }] } }));
  const s = { data: Float32Array.from({ length: 12 }, (_, i) => Math.cos(i * 0.7)), dims: [1, 4, 3] };
  const plain = await seq.attribute(s, { method: 'cam', target: 1 });
  const up = await seq.attribute(s, { method: 'cam', target: 1, upsample: true });
  assert.equal([up.attributions.dims, Array.from(up.attributions.data)], [[1, 1, 4], Array.from(plain.attributions.data)]);
});

test('a Keras-style pooling (Transpose to channels last, mean over height and width) of a map whose width equals its channel count: CAM is Σ_k W[k, t]·A_k over the channels-first map', async () => {
  // A [N, 8, 4, 8]: 8 channels, height 4, width 8 — the width could pass for the channel axis of a token map.
  const em = new Emitter(13, DataType.FLOAT, 'keras');
  const W = Array.from({ length: 24 }, (_, i) => Math.sin(i * 0.9));
  em.rename(em.matmul(em.reduceMean(em.transpose('x', [0, 2, 3, 1]), [1, 2], false), em.constFloat(W, [8, 3])), 'y');
  const ex = await Explainer.load(encodeModel({ ir_version: 8, opset_import: [{ domain: '', version: 13 }], graph: { name: 'keras', node: em.nodes, initializer: em.initializers, input: [valueInfo('x', DataType.FLOAT, ['N', 8, 4, 8])], output: [{ name: 'y' }] } }));
  const x = { data: Float32Array.from({ length: 256 }, (_, i) => Math.cos(i * 0.31)), dims: [1, 8, 4, 8] };
  const r = await ex.attribute(x, { method: 'cam', target: 2 });
  assert.equal(r.attributions.dims, [1, 1, 4, 8]);
  const want = Array.from({ length: 32 }, (_, p) => Array.from({ length: 8 }, (_, k) => W[k * 3 + 2] * x.data[k * 32 + p]).reduce((a, b) => a + b, 0));
  assert.ok(relL2(r.attributions.data, want) < 1e-6, `rel L2 ${relL2(r.attributions.data, want)}`);
});


// The same head as exporters spell it: CAM refused an AveragePool over the whole map (old Keras ResNet50s) and a no-op
// after the linear layer; Grad-CAM's default took the map before the SiLU where tf2onnx moves it channels last to pool it.
test('a classifier\'s head in other spellings — GlobalAveragePool → Gemm; an AveragePool over the whole map → Flatten → MatMul → Dropout → Add; channels last, then ReduceMean over height and width → Gemm → a float Cast; flattened to [N, C, H·W], then a mean: CAM and Grad-CAM equal, Grad-CAM\'s default the SiLU\'s map in each', async () => {
  const W = Array.from({ length: 108 }, (_, i) => Math.sin(i * 0.37) * 0.5);
  const L = Array.from({ length: 12 }, (_, i) => Math.cos(i * 0.7));
  const bias = [0.1, -0.2, 0.3];
  const x = { data: Float32Array.from({ length: 2 * 108 }, (_, i) => Math.cos(i * 0.61)), dims: [2, 3, 6, 6] };
  const spell = async (form: 'gap' | 'avgpool' | 'nhwc' | 'flatten') => {
    const em = new Emitter(13, DataType.FLOAT, form);
    const conv = em.op('Conv', ['x', em.constFloat(W, [4, 3, 3, 3])], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [1, 1] });
    const silu = em.mul(conv, em.op('Sigmoid', [conv]));
    const y = form === 'gap' ? em.op('Gemm', [em.op('Flatten', [em.op('GlobalAveragePool', [silu])]), em.constFloat(L, [4, 3]), em.constFloat(bias, [3])])
      : form === 'avgpool' ? em.add(em.op('Dropout', [em.matmul(em.op('Flatten', [em.op('AveragePool', [silu], { kernel_shape: [6, 6], pads: [0, 0, 0, 0], strides: [1, 1] })]), em.constFloat(L, [4, 3]))]), em.constFloat(bias, [3]))
        : form === 'flatten' ? em.op('Gemm', [em.reduceMean(em.reshape(silu, [0, 4, -1]), [2], false), em.constFloat(L, [4, 3]), em.constFloat(bias, [3])])
        : em.cast(em.op('Gemm', [em.reduceMean(em.transpose(silu, [0, 2, 3, 1]), [1, 2], false), em.constFloat(L, [4, 3]), em.constFloat(bias, [3])]), DataType.FLOAT);
    em.rename(y, 'y');
    const ex = await Explainer.load(encodeModel({ ir_version: 8, opset_import: [{ domain: '', version: 13 }], graph: { name: form, node: em.nodes, initializer: em.initializers, input: [valueInfo('x', DataType.FLOAT, ['N', 3, 6, 6])], output: [{ name: 'y' }] } }), { warn: () => {} });
    const cam = await ex.attribute(x, { method: 'cam', target: 1 });
    const gradCam = await ex.attribute(x, { method: 'grad-cam', target: 1 });
    return { cam: cam.attributions.data, gradCam: gradCam.attributions.data, layer: ex.warnings[0], silu };
  };
  const want = await spell('gap');
  // torch's x.flatten(2).mean(2): the default was the flattened [N, C, H·W] tensor, which no image overlay takes.
  for (const form of ['avgpool', 'nhwc', 'flatten'] as const) {
    const got = await spell(form);
    assert.ok(relL2(got.cam, want.cam) < 1e-6, `${form}: CAM rel L2 ${relL2(got.cam, want.cam)}`);
    assert.ok(relL2(got.gradCam, want.gradCam) < 1e-6, `${form}: Grad-CAM rel L2 ${relL2(got.gradCam, want.gradCam)}`);
    assert.is(got.layer, `grad-cam: layer '${got.silu}', the feature map the global pooling reads (--layer picks another)`);
  }
});

test('Grad-CAM without a layer on a head without pooling (VGG-like: Flatten → Gemm) takes the map past activations and normalisations written out: x·σ(x), Max(x, 0), a BatchNorm as Sub, Div, Mul and Add', async () => {
  const forms: [string, (em: Emitter, conv: string) => string][] = [
    ['SiLU as x·σ(x)', (em, c) => em.mul(c, em.op('Sigmoid', [c]))],
    ['Relu as Max(x, 0)', (em, c) => em.op('Max', [c, em.scalar(0)])],
    ['BatchNorm written out, then Relu', (em, c) => em.op('Relu', [em.add(em.mul(em.div(em.sub(c, em.constFloat([0.1, -0.2, 0.3, 0], [1, 4, 1, 1])), em.constFloat([1.2, 0.8, 1.1, 0.9], [1, 4, 1, 1])), em.constFloat([0.9, 1.1, 1, 1.3], [1, 4, 1, 1])), em.constFloat([0.05, 0, -0.1, 0.2], [1, 4, 1, 1]))])],
  ];
  for (const [what, activation] of forms) {
    const em = new Emitter(13, DataType.FLOAT, 'vgg');
    const conv = em.op('Conv', ['x', em.constFloat(Array.from({ length: 108 }, (_, i) => Math.sin(i * 0.37) * 0.5), [4, 3, 3, 3])], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [1, 1] });
    const map = activation(em, conv);
    em.rename(em.op('Gemm', [em.op('Flatten', [map]), em.constFloat(Array.from({ length: 144 * 3 }, (_, i) => Math.cos(i * 0.13)), [144, 3])]), 'y');
    const ex = await Explainer.load(encodeModel({ ir_version: 8, opset_import: [{ domain: '', version: 13 }], graph: { name: 'vgg', node: em.nodes, initializer: em.initializers, input: [valueInfo('x', DataType.FLOAT, ['N', 3, 6, 6])], output: [{ name: 'y' }] } }), { warn: () => {} });
    assert.is(await ex.camLayer([3, 6, 6], { method: 'grad-cam' }), map, what);
  }
});

// A squeeze-and-excitation block after the last convolution of a head without pooling: its pooling (torch's F.avg_pool2d
// exports a Pad of no width before it) was taken for the classifier's, and the Pad's output, which only the gate reads, for the map.
test('Grad-CAM without a layer passes over a squeeze-and-excitation gate\'s pooling (GlobalAveragePool, or a Pad of no width and an AveragePool over the map): the gated map', async () => {
  for (const pooling of ['gap', 'pad-avgpool'] as const) {
    const em = new Emitter(13, DataType.FLOAT, 'se');
    const act = em.op('Relu', [em.op('Conv', ['x', em.constFloat(Array.from({ length: 108 }, (_, i) => Math.sin(i * 0.37) * 0.5), [4, 3, 3, 3])], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [1, 1] })]);
    const pooled = pooling === 'gap' ? em.op('GlobalAveragePool', [act]) : em.op('AveragePool', [em.op('Pad', [act, em.constInt([0, 0, 0, 0, 0, 0, 0, 0])])], { kernel_shape: [6, 6], pads: [0, 0, 0, 0], strides: [6, 6] });
    const gate = em.op('Sigmoid', [em.op('Conv', [pooled, em.constFloat(Array.from({ length: 16 }, (_, i) => Math.cos(i)), [4, 4, 1, 1])], { kernel_shape: [1, 1], pads: [0, 0, 0, 0], strides: [1, 1] })]);
    const gated = em.mul(act, gate);
    em.rename(em.op('Gemm', [em.op('Flatten', [gated]), em.constFloat(Array.from({ length: 144 * 3 }, (_, i) => Math.cos(i * 0.13)), [144, 3])]), 'y');
    const ex = await Explainer.load(encodeModel({ ir_version: 8, opset_import: [{ domain: '', version: 13 }], graph: { name: 'se', node: em.nodes, initializer: em.initializers, input: [valueInfo('x', DataType.FLOAT, ['N', 3, 6, 6])], output: [{ name: 'y' }] } }), { warn: () => {} });
    assert.is(await ex.camLayer([3, 6, 6], { method: 'grad-cam' }), gated, pooling);
  }
});

// A two-input model (an EEG branch and an ECG branch, each Conv → Relu → GlobalAveragePool, concatenated
// into one head): the default layer was the last pooled map in graph order whatever input was explained,
// so `--wrt eeg` drew the ECG branch's map (Garyneil/emotion_rt). It is now a map computed from the explained input.
test('Grad-CAM without a layer on a two-branch model takes a map of the explained input', async () => {
  const em = new Emitter(13, DataType.FLOAT, 'two');
  const branch = (x: string, cin: number, seed: number, name: string) => {
    const act = em.rename(em.op('Relu', [em.op('Conv', [x, em.constFloat(Array.from({ length: 4 * cin * 3 }, (_, i) => Math.sin(i * seed) * 0.5), [4, cin, 3])], { kernel_shape: [3], pads: [1, 1], strides: [1] })]), name);
    return em.op('Flatten', [em.op('GlobalAveragePool', [act])]);
  };
  const joined = em.op('Concat', [branch('a', 3, 0.37, 'mapA'), branch('b', 1, 0.71, 'mapB')], { axis: 1 });
  em.rename(em.op('Gemm', [joined, em.constFloat(Array.from({ length: 24 }, (_, i) => Math.cos(i * 0.9)), [8, 3])]), 'y');
  const model = encodeModel({ ir_version: 8, opset_import: [{ domain: '', version: 13 }], graph: { name: 'two', node: em.nodes, initializer: em.initializers, input: [valueInfo('a', DataType.FLOAT, ['N', 3, 'T']), valueInfo('b', DataType.FLOAT, ['N', 1, 'T'])], output: [{ name: 'y' }] } });
  const a = { data: Float32Array.from({ length: 2 * 3 * 10 }, (_, i) => Math.cos(i * 0.47)), dims: [2, 3, 10] };
  const b = { data: Float32Array.from({ length: 2 * 10 }, (_, i) => Math.sin(i * 0.29)), dims: [2, 1, 10] };
  for (const [wrt, x, feeds, layer] of [['a', a, { b }, 'mapA'], ['b', b, { a }, 'mapB']] as const) {
    const ex = await Explainer.load(model, { warn: () => {}, wrt });
    const chosen = await ex.attribute(x, { method: 'grad-cam', target: 1, feeds });
    assert.equal(ex.warnings.filter((w) => !/the map is zero at every position for row/.test(w)), [`grad-cam: layer '${layer}', the feature map the global pooling reads (--layer picks another)`]);
    const given = await ex.attribute(x, { method: 'grad-cam', target: 1, feeds, layer });
    assert.equal(Array.from(chosen.attributions.data), Array.from(given.attributions.data));
  }
});

// Gemm's alpha scales the class weights: CAM's map is Σ_k α·W[t, k]·A_k (Zhou et al.'s weights of the logits as computed).
test('CAM through a Gemm with alpha = 0.5 and transB: the map is Σ_k α·W[t, k]·A_k', async () => {
  const em = new Emitter(13, DataType.FLOAT, 'm');
  const W = [1, -1, 0.5, 2, -0.5, 1];
  const pooled = em.op('Flatten', [em.op('GlobalAveragePool', ['x'])], { axis: 1 });
  em.rename(em.op('Gemm', [pooled, em.constFloat(W, [3, 2]), em.constFloat([0.1, -0.2, 0.3], [3])], { transB: 1, alpha: float(0.5) }), 'y');
  const model = encodeModel({ ir_version: 8, opset_import: [{ domain: '', version: 13 }], graph: { name: 'm', node: em.nodes, initializer: em.initializers, input: [valueInfo('x', DataType.FLOAT, ['N', 2, 3, 3])], output: [{ name: 'y' }] } });
  const x = Float32Array.from({ length: 18 }, (_, i) => Math.sin(i + 1));
  for (const target of [0, 2]) {
    const r = await (await Explainer.load(model)).attribute({ data: x, dims: [1, 2, 3, 3] }, { method: 'cam', target });
    const expected = Array.from({ length: 9 }, (_, p) => 0.5 * (W[2 * target] * x[p] + W[2 * target + 1] * x[9 + p]));
    assert.ok(Array.from(r.attributions.data).every((v, p) => Math.abs(v - expected[p]) < 1e-6), `target ${target}: ${Array.from(r.attributions.data)} ≠ ${expected}`);
  }
});

test.run();
