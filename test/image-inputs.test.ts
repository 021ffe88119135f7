import * as fs from 'fs';
import * as path from 'path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Preprocess } from '../runtime/image';
import { readNpy } from '../runtime/node/npy-file';
import { browserMissing, openPage } from '../examples/web/headless';
import { skip } from './support/skip';
import { loadFixture } from './support/fixtures';
import { runCli, tempDir } from './support/cli-harness';
// The public API's (Node) image helpers, as the README names them.
import { Explainer, imageToTensor, readImage } from '../runtime';
import { Emitter, float } from '../rewriter/emitter';
import { DataType, encodeModel, valueInfo } from '../rewriter/proto';

/** models/make_image_inputs.py: a photo crop as PNG and 4:2:0 JPEG, and what Pillow + torchvision make of each. */
const DIR = path.resolve(__dirname, '../../models/image-inputs');
const CASES: [string, number[], Preprocess][] = [
  ['torchvision_32x32', [1, 3, 32, 32], 'torchvision'],
  ['torchvision_24x32', [1, 3, 24, 32], 'torchvision'],
  ['gray_32x32', [1, 1, 32, 32], 'torchvision'],
  ['none_20x28', [1, 3, 20, 28], 'none'],
  ['tf_20x28', [1, 3, 20, 28], 'tf'],
  ['caffe_20x28', [1, 3, 20, 28], 'caffe'],
];

function differences(a: ArrayLike<number>, b: ArrayLike<number>): { max: number; mean: number } {
  assert.is(a.length, b.length);
  let max = 0, sum = 0;
  for (let i = 0; i < a.length; i++) { const d = Math.abs(a[i] - b[i]); max = Math.max(max, d); sum += d; }
  return { max, mean: sum / a.length };
}

for (const [name, dims, preset] of CASES) {
  test(`a PNG read with --preprocess ${preset} at [${dims}] is the tensor its Python pipeline makes of it (${name})`, () => {
    const { tensor } = imageToTensor(readImage(path.join(DIR, 'photo.png')), dims, preset, 'photo.png');
    const want = readNpy(path.join(DIR, `photo.${name}.npy`));
    assert.equal(tensor.dims, want.dims);
    // Shrinking 161×119 to 37 rows needs Pillow's antialiasing: a plain bilinear lookup is ~100 levels off at edges.
    assert.ok(differences(tensor.data, want.data as Float32Array).max <= 1e-6, name);
  });
}

test('a model of free height and width reads the image at its own size with ToTensor and Normalize alone (no zoom cropped back)', () => {
  const img = readImage(path.join(DIR, 'photo.png'));
  const { tensor } = imageToTensor(img, [1, 3, -1, -1], 'torchvision', 'free.onnx');
  assert.equal(tensor.dims, [1, 3, img.height, img.width]);
  const [mean, std, f] = [[0.485, 0.456, 0.406], [0.229, 0.224, 0.225], Math.fround];
  const want = new Float32Array(tensor.data.length);
  const hw = img.height * img.width;
  for (let i = 0; i < hw; i++) for (let c = 0; c < 3; c++) want[c * hw + i] = f(f(f(Math.round(img.data[i * 3 + c] * 255) / 255) - f(mean[c])) / f(std[c]));
  assert.ok(differences(tensor.data, want).max === 0);
});

const CIFAR = { mean: [0.4914, 0.4822, 0.4465], std: [0.2470, 0.2435, 0.2616] };
const MNIST = { mean: [0.1307], std: [0.3081] };

test("a mean and std replace the preset's normalisation as torchvision's Normalize (CIFAR-10's on RGB, MNIST's on luminance)", () => {
  const img = readImage(path.join(DIR, 'photo.png'));
  for (const [name, dims, norm] of [['cifar_32x32', [1, 3, 32, 32], CIFAR], ['mnist_32x32', [1, 1, 32, 32], MNIST]] as const) {
    const { tensor } = imageToTensor(img, [...dims], 'torchvision', 'photo.png', { mean: [...norm.mean], std: [...norm.std] });
    assert.ok(differences(tensor.data, readNpy(path.join(DIR, `photo.${name}.npy`)).data as Float32Array).max <= 1e-6, name);
  }
  assert.throws(() => imageToTensor(img, [1, 3, 32, 32], 'torchvision', 'm.onnx', { mean: [0.5, 0.5], std: [0.5] }), /^m\.onnx: mean has 2 values; give one, or one per channel \(3\)$/);
  assert.throws(() => imageToTensor(img, [1, 3, 32, 32], 'torchvision', 'm.onnx', { mean: [0.5], std: [0] }), /^m\.onnx: std \[0\] must be finite and positive$/);
  assert.throws(() => imageToTensor(img, [1, 3, 32, 32], 'tf', 'm.onnx', MNIST), /give them with --preprocess torchvision or none, not tf$/);
});

test('the CLI takes --mean/--std for image inputs (attribute), refuses them alone, for arrays and with Keras presets, and maximize bounds its image by them', async () => {
  const dir = tempDir('image-normalization');
  const png = path.join(DIR, 'photo.png');
  const model = loadFixture('resnet_bn').model;
  const out = path.join(dir, 'a.npy');
  const r = await runCli(['attribute', model, '--input', png, '--mean', CIFAR.mean.join(','), '--std', CIFAR.std.join(','), '--method', 'gradient', '--target', '1', '--out', out]);
  assert.is(r.code, 0, r.err.join('|'));
  const ex = await Explainer.load(model);
  const { tensor } = imageToTensor(readImage(png), ex.input.dims, 'torchvision', 'photo.png', CIFAR);
  const want = await ex.attribute(tensor, { method: 'gradient', target: 1 });
  assert.ok(differences(readNpy(out).data as Float32Array, want.attributions.data).max <= 1e-6);
  for (const [args, message] of [
    [['--mean', '0.5'], /^onnx-explain: error: --std is missing: --mean and --std come together/],
    [['--mean', '0.5', '--std', '0.2', '--preprocess', 'caffe'], /give them with --preprocess torchvision or none, not caffe$/],
  ] as const) {
    const bad = await runCli(['attribute', model, '--input', png, ...args, '--out', path.join(dir, 'never.npy')]);
    assert.is(bad.code, 1);
    assert.match(bad.err.join('\n'), message);
  }
  const npy = await runCli(['attribute', model, '--input', path.join(path.dirname(model), 'input.npy'), '--mean', '0.5', '--std', '0.2']);
  assert.match(npy.err.join('\n'), /--mean\/--std normalise image files \(PNG, JPEG\); .*input\.npy is read as it is$/);
  // The digits model reads [0, 1] pixels; with mean 0.5 and std 0.25 its pixels span [-2, 2] instead.
  const img = path.join(dir, 'max.npy');
  const m = await runCli(['maximize', path.resolve(__dirname, '../../models/digits/model.onnx'), '--target', '3', '--stages', '2', '--steps', '30', '--mean', '0.5', '--std', '0.25', '--out', img]);
  assert.is(m.code, 0, m.err.join('|'));
  const values = Array.from(readNpy(img).data as Float32Array);
  assert.ok(Math.min(...values) >= -2 - 1e-6 && Math.max(...values) <= 2 + 1e-6 && values.some((v) => v < 0 || v > 1), `range [${Math.min(...values)}, ${Math.max(...values)}]`);
});

// MATLAB's imageInputLayer normalises 0–255 pixels in the graph (zerocenter: minus the mean image), as Keras'
// Rescaling(1/255) does: a PNG read with torchvision's preset gave such models values near 0.
test('a float image input the graph itself centres on mean pixels or scales by 1/255 takes [0, 255] pixels from an image by default; one it centres on [0, 1] means takes [0, 1] values; others torchvision\'s preset', async () => {
  const model = (first: (em: Emitter) => string) => {
    const em = new Emitter(13, DataType.FLOAT, 'pix');
    em.rename(em.op('Flatten', [em.op('GlobalAveragePool', [first(em)])]), 'y');
    return encodeModel({ ir_version: 8, opset_import: [{ domain: '', version: 13 }], graph: { name: 'pix', node: em.nodes, initializer: em.initializers, input: [valueInfo('x', DataType.FLOAT, ['N', 3, 32, 32])], output: [{ name: 'y' }] } });
  };
  const kinds: [string, (em: Emitter) => string, string][] = [
    ['minus mean pixels', (em) => em.sub('x', em.constFloat([123.7, 116.3, 103.5], [1, 3, 1, 1])), 'pixels'],
    ['times 1/255', (em) => em.mul('x', em.scalar(1 / 255)), 'pixels'],
    ['NHWC, divided by 255', (em) => em.op('Transpose', [em.div(em.op('Transpose', ['x'], { perm: [0, 2, 3, 1] }), em.scalar(255))], { perm: [0, 3, 1, 2] }), 'pixels'],
    // Keras' Rescaling(1/127.5, offset=−1) (MobileNetV3): float32's 1/127.5 lies above 2/255 in float64.
    ['times 1/127.5 minus 1', (em) => em.sub(em.mul('x', em.scalar(1 / 127.5)), em.scalar(1)), 'pixels'],
    // The batch's size read beside the values (b = x.size(0)), a Resize inside the model, a BGR channel Gather: none reads a scale.
    ['its shape read, divided by 255', (em) => { em.op('Shape', ['x']); return em.div('x', em.scalar(255)); }, 'pixels'],
    ['resized, divided by 255', (em) => em.div(em.op('Resize', ['x', '', em.constFloat([1, 1, 2, 2], [4])], { mode: 'nearest' }), em.scalar(255)), 'pixels'],
    ['BGR, minus mean pixels', (em) => em.sub(em.op('Gather', ['x', em.constInt([2, 1, 0])], { axis: 1 }), em.constFloat([103.9, 116.8, 123.7], [1, 3, 1, 1])), 'pixels'],
    ['minus [0, 1] means', (em) => em.sub('x', em.constFloat([0.485, 0.456, 0.406], [1, 3, 1, 1])), 'none'],
    // The same normalisations as other exporters spell them.
    ['1/255 times it (the constant first)', (em) => em.mul(em.scalar(1 / 255), 'x'), 'pixels'],
    ['flattened, divided by 255', (em) => em.reshape(em.div(em.op('Flatten', ['x']), em.scalar(255)), [-1, 3, 32, 32]), 'pixels'],
    ['plus negated mean pixels (Keras\' caffe mode)', (em) => em.add(em.constFloat([-103.9, -116.8, -123.7], [1, 3, 1, 1]), 'x'), 'pixels'],
    ['x·(1/σ) + (−μ/σ) on pixels', (em) => em.add(em.mul('x', em.constFloat([1 / 58.4, 1 / 57.1, 1 / 57.4], [1, 3, 1, 1])), em.constFloat([-123.7 / 58.4, -116.3 / 57.1, -103.5 / 57.4], [1, 3, 1, 1])), 'pixels'],
    ['divided by σ, minus μ/σ on pixels', (em) => em.sub(em.div('x', em.constFloat([58.4, 57.1, 57.4], [1, 3, 1, 1])), em.constFloat([123.7 / 58.4, 116.3 / 57.1, 103.5 / 57.4], [1, 3, 1, 1])), 'pixels'],
    ['a BatchNormalization of mean pixels', (em) => em.op('BatchNormalization', ['x', em.constFloat([1, 1, 1], [3]), em.constFloat([0, 0, 0], [3]), em.constFloat([123.7, 116.3, 103.5], [3]), em.constFloat([3410, 3260, 3295], [3])], { epsilon: float(1e-5) }), 'pixels'],
    ['x·(1/σ) + (−μ/σ) on [0, 1] values', (em) => em.add(em.mul('x', em.constFloat([1 / 0.229, 1 / 0.224, 1 / 0.225], [1, 3, 1, 1])), em.constFloat([-0.485 / 0.229, -0.456 / 0.224, -0.406 / 0.225], [1, 3, 1, 1])), 'none'],
    // A CNN whose first layer is a BatchNorm trained on normalised values (variance near 1), and an affine map of slope 2: no pixel normalisation.
    ['a BatchNormalization of normalised values', (em) => em.op('BatchNormalization', ['x', em.constFloat([1, 1, 1], [3]), em.constFloat([0, 0, 0], [3]), em.constFloat([0.02, 0.107, 0.196], [3]), em.constFloat([1.1, 0.95, 1.02], [3])], { epsilon: float(1e-5) }), 'torchvision'],
    ['x·2 − 5', (em) => em.add(em.mul('x', em.scalar(2)), em.scalar(-5)), 'torchvision'],
    // torchvision's transform_input (Inception v3, GoogLeNet) re-scales normalised values: x·(σ/0.5) + (μ − 0.5)/0.5.
    ['torchvision\'s transform_input', (em) => em.add(em.mul('x', em.constFloat([0.458, 0.448, 0.45], [1, 3, 1, 1])), em.constFloat([-0.03, -0.088, -0.188], [1, 3, 1, 1])), 'torchvision'],
    ['a convolution first', (em) => em.op('Conv', ['x', em.constFloat(new Array(27).fill(0.1), [1, 3, 3, 3])], { strides: [1, 1], pads: [1, 1, 1, 1] }), 'torchvision'],
  ];
  for (const [what, first, preset] of kinds) assert.is((await Explainer.load(model(first))).imagePreset, preset, what);
  // Every CLI attribute asks for the preset: a MatMul's weight (a gigabyte: exit 2, or a heap abort) is not read as numbers.
  const matmul = await Explainer.load(model((em) => em.matmul('x', em.constFloat(new Array(32 * 16).fill(0.5), [32, 16]))));
  const read: string[] = [];
  const constant = matmul.view.constant.bind(matmul.view);
  matmul.view.constant = (name: string) => {
    const c = constant(name);
    return c && { dims: c.dims, get values() { read.push(name); return c.values; } };
  };
  assert.is(matmul.imagePreset, 'torchvision');
  assert.equal(read, [], 'no weight values read');
  // Through the CLI: input × ∂y₀/∂x = x/1024 on channel 0, up to 255/1024 for pixels (2.7/1024 with torchvision's preset).
  const dir = tempDir('pixel-scale');
  const file = path.join(dir, 'pix.onnx');
  fs.writeFileSync(file, model(kinds[0][1]));
  const out = path.join(dir, 'pix.npy');
  const r = await runCli(['attribute', file, '--input', path.join(DIR, 'photo.png'), '--method', 'input-x-gradient', '--target', '0', '--out', out]);
  assert.is(r.code, 0, r.err.join('|'));
  const max = (readNpy(out).data as Float32Array).reduce((a, v) => Math.max(a, v), 0);
  assert.ok(max > 0.05, `largest attribution ${max}`);
});

test('--preprocess caffe on a one-channel model is refused naming the channels', () => {
  assert.throws(() => imageToTensor(readImage(path.join(DIR, 'photo.png')), [1, 1, 32, 32], 'caffe', 'gray.onnx'),
    /^gray\.onnx: --preprocess caffe reverses three colour channels to BGR; the model's input has 1$/);
});

test('an RGBA PNG reads its stored colours, as Pillow\'s convert(\'RGB\'), whatever their opacity', () => {
  const d = differences(readImage(path.join(DIR, 'photo_alpha.png')).data, readImage(path.join(DIR, 'photo.png')).data);
  assert.ok(d.max === 0, JSON.stringify(d));
});

test("an RGB PNG with a transparent colour (tRNS) keeps that colour, as Pillow's convert('RGB')", () => {
  const levels = Float32Array.from(readImage(path.join(DIR, 'corner_trns.png')).data, (v) => Math.round(v * 255));
  const d = differences(levels, readNpy(path.join(DIR, 'corner_trns.rgb.npy')).data as Float32Array);
  assert.ok(d.max === 0, JSON.stringify(d));
});

test('a 4:2:0 JPEG decodes as libjpeg does under Pillow, within its IDCT rounding', () => {
  const img = readImage(path.join(DIR, 'photo420.jpg'));
  const want = readNpy(path.join(DIR, 'photo420.rgb.npy'));
  assert.equal([img.height, img.width, 3], want.dims);
  const levels = Float32Array.from(img.data, (v) => Math.round(v * 255));
  const d = differences(levels, want.data as Float32Array);
  // Repeating each chroma sample instead of libjpeg's triangle upsampling is 20–30 levels off at colour edges.
  assert.ok(d.max <= 3 && d.mean <= 0.25, JSON.stringify(d));
});

for (const [name, dims, preset] of CASES) {
  test(`a 4:2:0 JPEG read with --preprocess ${preset} at [${dims}] is the Python pipeline's tensor within the decoders' rounding (${name})`, () => {
    const { tensor } = imageToTensor(readImage(path.join(DIR, 'photo420.jpg')), dims, preset, 'photo420.jpg');
    const d = differences(tensor.data, readNpy(path.join(DIR, `photo420.${name}.npy`)).data as Float32Array);
    const level = { torchvision: dims[1] === 3 ? 1 / 255 / 0.225 : 1 / 255, tf: 2 / 255, caffe: 1, none: 1 / 255, pixels: 1 }[preset];
    assert.ok(d.max <= 3 * level && d.mean <= 0.2 * level, JSON.stringify(d));
  });
}

const BROWSER = "in Chromium, decodeImage gives Pillow's pixels (the JPEG with its ICC profile, the RGBA PNG's and the tRNS PNG's colours) and imageToTensor torchvision's tensor";
const missing = browserMissing();
if (missing) {
  skip(test, BROWSER, missing);
} else {
  test(BROWSER, async () => {
    const s = await openPage('/examples/web/');
    try {
      const { levels, tensor, alpha, trns } = await s.page.evaluate(`(async () => {
        const m = await import('/dist/browser/onnx-explain.mjs');
        const decoded = async (file) => m.decodeImage(await (await fetch('/models/image-inputs/' + file)).blob());
        const levels = (img) => Array.from(img.data, (v) => Math.round(v * 255));
        const img = await decoded('photo420.jpg');
        const tensor = Array.from(m.imageToTensor(img, [1, 3, 32, 32], 'torchvision', 'photo').tensor.data);
        return { levels: levels(img), tensor, alpha: levels(await decoded('photo_alpha.png')), trns: levels(await decoded('corner_trns.png')) };
      })()`) as { levels: number[]; tensor: number[]; alpha: number[]; trns: number[] };
      // Both decode with libjpeg-turbo; the file's ICC profile must not be applied.
      const d = differences(levels, readNpy(path.join(DIR, 'photo420.rgb.npy')).data as Float32Array);
      assert.ok(d.max === 0, JSON.stringify(d));
      // A 2D canvas premultiplies by alpha: transparent pixels came back black.
      const photo = Array.from(readImage(path.join(DIR, 'photo.png')).data, (v) => Math.round(v * 255));
      const a = differences(alpha, photo);
      assert.ok(a.max === 0, `RGBA PNG: ${JSON.stringify(a)}`);
      const t = differences(trns, readNpy(path.join(DIR, 'corner_trns.rgb.npy')).data as Float32Array);
      assert.ok(t.max === 0, `tRNS PNG: ${JSON.stringify(t)}`);
      assert.ok(differences(tensor, readNpy(path.join(DIR, 'photo420.torchvision_32x32.npy')).data as Float32Array).max <= 1e-6);
    } finally {
      await s.close();
    }
  });
}

test.run();
