import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Emitter } from '../rewriter/emitter';
import { Explainer } from '../runtime';
import { tinyModel } from './support/tiny-model';

// DeepLIFT §2.6 on the layouts genomics models take: one-hot DNA [N, 4, L], channels-last [N, L, 4]
// permuted for the Conv (Keras through tf2onnx, torch's x.permute), and the paper's own [N, 1, 4, L]
// under a Conv2d whose kernel spans the four rows — with and without padding. Each model is
// Conv (F filters, width K, padding P) → Relu → mean over positions → MatMul to 3 classes.
const [L, F, K, C] = [9, 3, 5, 3];
const W = Array.from({ length: F * 4 * K }, (_, i) => Math.sin(1.7 * i + 0.3)); // [F, 4, K]
const B = [0.2, -0.4, 0.1];
const W2 = Array.from({ length: F * C }, (_, i) => Math.cos(0.9 * i)); // [F, C]
const bases = [2, 0, 3, 3, 1, 0, 2, 1, 3]; // the sequence, one base per position
const oneHot = (channelsLast: boolean) => Float32Array.from({ length: 4 * L }, (_, i) => {
  const [c, p] = channelsLast ? [i % 4, Math.floor(i / 4)] : [Math.floor(i / L), i % L];
  return bases[p] === c ? 1 : 0;
});

type Layout = { name: string; row: number[]; channelsLast: boolean; axis: number; build: (em: Emitter, x: string, pad: number) => string };
const conv1d = (em: Emitter, x: string, pad: number) => em.op('Conv', [x, em.constFloat(W, [F, 4, K]), em.constFloat(B, [F])], { kernel_shape: [K], pads: [pad, pad], strides: [1], dilations: [1], group: 1 });
// The same filters as a Conv2d over [N, 1, 4, L] with kernel [4, K]: W[f, c, j] at row c.
const conv2d = (em: Emitter, x: string, pad: number) => em.op('Conv', [x, em.constFloat(W, [F, 1, 4, K]), em.constFloat(B, [F])], { kernel_shape: [4, K], pads: [0, pad, 0, pad], strides: [1, 1], dilations: [1, 1], group: 1 });
const head = (em: Emitter, z: string, axes: number[]) => em.matmul(em.reshape(em.reduceMean(em.op('Relu', [z]), axes), [0, F]), em.constFloat(W2, [F, C]));
const layouts: Layout[] = [
  { name: '[N, 4, L]', row: [4, L], channelsLast: false, axis: 1, build: (em, x, pad) => head(em, conv1d(em, x, pad), [2]) },
  { name: '[N, L, 4] transposed', row: [L, 4], channelsLast: true, axis: 2, build: (em, x, pad) => head(em, conv1d(em, em.transpose(x, [0, 2, 1]), pad), [2]) },
  { name: '[N, L, 4] transposed, axis −1', row: [L, 4], channelsLast: true, axis: -1, build: (em, x, pad) => head(em, conv1d(em, em.transpose(x, [0, 2, 1]), pad), [2]) },
  { name: '[N, 4, L] unsqueezed to [N, 1, 4, L] (the paper\'s Conv2d)', row: [4, L], channelsLast: false, axis: 1, build: (em, x, pad) => head(em, conv2d(em, em.unsqueeze(x, [1]), pad), [2, 3]) },
  // torch's F.pad(x, (P, P)) before an unpadded Conv (torch 1.13 exports no padding='same'): the Conv's own padding, written apart.
  { name: '[N, L, 4] transposed, then zeros padded by a Pad', row: [L, 4], channelsLast: true, axis: 2, build: (em, x, pad) => head(em, conv1d(em, em.pad(em.transpose(x, [0, 2, 1]), [0, 0, pad, 0, 0, pad]), 0), [2]) },
  // torch 1.13's F.pad writes its pads as a computation on constants.
  { name: '[N, L, 4] transposed, then a Pad of computed pads', row: [L, 4], channelsLast: true, axis: 2, build: (em, x, pad) => head(em, conv1d(em, em.op('Pad', [em.transpose(x, [0, 2, 1]), em.concat([em.constInt([0, 0]), em.constInt([pad]), em.constInt([0, 0]), em.constInt([pad])], 0), em.scalar(0)], { mode: 'constant' }), 0), [2]) },
  // x.view(x.size(0), 1, 4, L): a shape computed from the input's batch size (a Shape reads x beside the Reshape).
  { name: '[N, 4, L] viewed as [N, 1, 4, L] through its batch size', row: [4, L], channelsLast: false, axis: 1, build: (em, x, pad) => head(em, conv2d(em, em.op('Reshape', [x, em.concat([em.unsqueeze(em.op('Gather', [em.op('Shape', [x]), em.constInt([0], [])], { axis: 0 }), [0]), em.constInt([1, 4, L])], 0)]), pad), [2, 3]) },
  { name: '[N, L, 4] transposed and reshaped to [N, 1, 4, L]', row: [L, 4], channelsLast: true, axis: 2, build: (em, x, pad) => head(em, conv2d(em, em.reshape(em.transpose(x, [0, 2, 1]), [-1, 1, 4, L]), pad), [2, 3]) },
];

/**
 * DeepLIFT's rescale rule in float64 on the normalised model at a zero reference, written out:
 * z = Σ_c,j (W − M)[f,c,j]·x[c, p + j − P] + Σ_j M[f,j]·[p + j − P inside] + b (M the mean over c),
 * multipliers Δrelu(z)/Δz, then back through the mean and the linear maps.
 */
function reference(pad: number, target: number): number[] {
  const out = L + 2 * pad - K + 1;
  const x = oneHot(false);
  const mean = (f: number, j: number) => [0, 1, 2, 3].reduce((a, c) => a + W[(f * 4 + c) * K + j], 0) / 4;
  const z = (f: number, p: number, input: (c: number, q: number) => number) => {
    let s = B[f];
    for (let j = 0; j < K; j++) {
      const q = p + j - pad;
      if (q < 0 || q >= L) continue;
      s += mean(f, j);
      for (let c = 0; c < 4; c++) s += (W[(f * 4 + c) * K + j] - mean(f, j)) * input(c, q);
    }
    return s;
  };
  const attr = new Array(4 * L).fill(0);
  for (let f = 0; f < F; f++) {
    for (let p = 0; p < out; p++) {
      const [a, a0] = [z(f, p, (c, q) => x[c * L + q]), z(f, p, () => 0)];
      const m = Math.abs(a - a0) < 1e-12 ? (a > 0 ? 1 : 0) : (Math.max(a, 0) - Math.max(a0, 0)) / (a - a0);
      for (let j = 0; j < K; j++) {
        const q = p + j - pad;
        if (q < 0 || q >= L) continue;
        for (let c = 0; c < 4; c++) attr[c * L + q] += x[c * L + q] * (W[(f * 4 + c) * K + j] - mean(f, j)) * m * W2[f * C + target] / out;
      }
    }
  }
  return attr;
}

for (const pad of [0, 2]) {
  for (const layout of layouts) {
    test(`§2.6 on ${layout.name}, padding ${pad}: outputs unchanged, DeepLIFT as the normalised model's rescale rule in float64`, async () => {
      const ex = await Explainer.load(tinyModel(layout.row, 13, (em, x) => layout.build(em, x, pad)));
      const input = { data: oneHot(layout.channelsLast), dims: [1, ...layout.row] };
      const target = 1;
      const plain = await ex.attribute(input, { method: 'deeplift', target });
      const canon = await ex.attribute(input, { method: 'deeplift', target, onehotAxis: layout.axis });
      assert.ok(Math.abs(canon.outputs.y.data[target] - plain.outputs.y.data[target]) < 1e-5, 'outputs unchanged');
      const want = reference(pad, target);
      const got = Array.from(canon.attributions.data);
      // Channels-last attributions are the transpose of the channel-first ones.
      const at = (c: number, q: number) => (layout.channelsLast ? got[q * 4 + c] : got[c * L + q]);
      for (let c = 0; c < 4; c++) for (let q = 0; q < L; q++) assert.ok(Math.abs(at(c, q) - want[c * L + q]) < 1e-5, `base ${c} position ${q}: ${at(c, q)} vs ${want[c * L + q]}`);
      assert.ok(Math.abs(canon.delta![0]) < 1e-5, `delta ${canon.delta![0]}`);
    });
  }
}

// A dense first layer on the flattened one-hot rows (Keras' Flatten → Dense): H hidden units → Relu → 3 classes.
const H = 4;
const D = Array.from({ length: H * 4 * L }, (_, i) => Math.cos(0.9 * i + 0.2)); // [H, 4·L] over the [4, L] layout
const DB = [0.3, -0.1, 0.2, -0.4];
const D2 = Array.from({ length: H * C }, (_, i) => Math.sin(1.3 * i)); // [H, C]
const denseIndex = (channelsLast: boolean, c: number, q: number) => (channelsLast ? q * 4 + c : c * L + q);
/** The same weights laid out for the input's flattening: row j of [4·L, H] holds D[h, c·L + q] for the (c, q) j flattens. */
const denseWeights = (channelsLast: boolean) => {
  const out = new Array<number>(4 * L * H);
  for (let c = 0; c < 4; c++) for (let q = 0; q < L; q++) for (let h = 0; h < H; h++) out[denseIndex(channelsLast, c, q) * H + h] = D[h * 4 * L + c * L + q];
  return out;
};
const denseForms: { name: string; row: number[]; channelsLast: boolean; axis: number; build: (em: Emitter, x: string) => string }[] = [
  { name: 'Flatten → Gemm (transB) of [N, 4, L]', row: [4, L], channelsLast: false, axis: 1, build: (em, x) => em.op('Gemm', [em.op('Flatten', [x], { axis: 1 }), em.constFloat(D, [H, 4 * L]), em.constFloat(DB, [H])], { transB: 1 }) },
  { name: 'Reshape to [N, 4·L] → MatMul → Add of channels-last [N, L, 4]', row: [L, 4], channelsLast: true, axis: 2, build: (em, x) => em.add(em.matmul(em.reshape(x, [-1, 4 * L]), em.constFloat(denseWeights(true), [4 * L, H])), em.constFloat(DB, [H])) },
];

/**
 * DeepLIFT's rescale rule in float64 on the normalised dense layer at a zero reference: weights
 * `dw` [H, 4, P] whose positions `from` … `from` + L − 1 read the input (the others a Pad's zeros);
 * z = (dw − M)·x + b + Σ_q M[h, q] over those positions (M the mean over the four bases at q).
 */
function denseReference(dw: number[], from: number, target: number): number[] {
  const P = dw.length / (H * 4);
  const x = oneHot(false);
  const weight = (h: number, c: number, q: number) => dw[h * 4 * P + c * P + q + from];
  const mean = (h: number, q: number) => [0, 1, 2, 3].reduce((a, c) => a + weight(h, c, q), 0) / 4;
  const want = new Array(4 * L).fill(0);
  for (let h = 0; h < H; h++) {
    let [z, z0] = [DB[h], DB[h]];
    for (let q = 0; q < L; q++) {
      z0 += mean(h, q);
      z += mean(h, q);
      for (let c = 0; c < 4; c++) z += (weight(h, c, q) - mean(h, q)) * x[c * L + q];
    }
    const m = (Math.max(z, 0) - Math.max(z0, 0)) / (z - z0);
    for (let c = 0; c < 4; c++) for (let q = 0; q < L; q++) want[c * L + q] += x[c * L + q] * (weight(h, c, q) - mean(h, q)) * m * D2[h * C + target];
  }
  return want;
}

for (const form of denseForms) {
  test(`§2.6 on a dense first layer, ${form.name}: outputs unchanged, DeepLIFT as the normalised layer's rescale rule in float64`, async () => {
    const ex = await Explainer.load(tinyModel(form.row, 13, (em, x) => em.matmul(em.op('Relu', [form.build(em, x)]), em.constFloat(D2, [H, C]))));
    const input = { data: oneHot(form.channelsLast), dims: [1, ...form.row] };
    const target = 2;
    const plain = await ex.attribute(input, { method: 'deeplift', target });
    const canon = await ex.attribute(input, { method: 'deeplift', target, onehotAxis: form.axis });
    assert.ok(Math.abs(canon.outputs.y.data[target] - plain.outputs.y.data[target]) < 1e-5, 'outputs unchanged');
    const want = denseReference(D, 0, target);
    const got = canon.attributions.data;
    for (let c = 0; c < 4; c++) for (let q = 0; q < L; q++) assert.ok(Math.abs(got[denseIndex(form.channelsLast, c, q)] - want[c * L + q]) < 1e-5, `base ${c} position ${q}: ${got[denseIndex(form.channelsLast, c, q)]} vs ${want[c * L + q]}`);
    assert.ok(Math.abs(canon.delta![0]) < 1e-5, `delta ${canon.delta![0]}`);
  });
}

test('§2.6 on a dense layer behind a Pad of zeros (positions −2 … L + 1 flattened): the padded positions\' means are left out of the bias, as their inputs are no one-hot', async () => {
  const P = L + 4;
  const Dp = Array.from({ length: H * 4 * P }, (_, i) => Math.cos(0.7 * i + 0.4)); // [H, 4·P]
  const ex = await Explainer.load(tinyModel([4, L], 13, (em, x) => em.matmul(em.op('Relu', [em.op('Gemm', [em.op('Flatten', [em.pad(x, [0, 0, 2, 0, 0, 2])], { axis: 1 }), em.constFloat(Dp, [H, 4 * P]), em.constFloat(DB, [H])], { transB: 1 })]), em.constFloat(D2, [H, C]))));
  const input = { data: oneHot(false), dims: [1, 4, L] };
  const plain = await ex.attribute(input, { method: 'deeplift', target: 0 });
  const canon = await ex.attribute(input, { method: 'deeplift', target: 0, onehotAxis: 1 });
  assert.ok(Math.abs(canon.outputs.y.data[0] - plain.outputs.y.data[0]) < 1e-5, `outputs unchanged: ${canon.outputs.y.data[0]} vs ${plain.outputs.y.data[0]}`);
  assert.ok(Math.abs(canon.delta![0]) < 1e-5, `delta ${canon.delta![0]}`);
  const want = denseReference(Dp, 2, 0);
  canon.attributions.data.forEach((v, i) => assert.ok(Math.abs(v - want[i]) < 1e-5, `${i}: ${v} vs ${want[i]}`));
});

test('§2.6 refusals name the cause: a one-hot axis the Conv kernel does not span, padding over it, an axis past the input\'s', async () => {
  const cases: [number[], (em: Emitter, x: string) => string, number, RegExp][] = [
    [[4, L], (em, x) => head(em, em.op('Conv', [em.unsqueeze(x, [1]), em.constFloat(W.slice(0, F * 2 * K), [F, 1, 2, K])], { kernel_shape: [2, K], pads: [0, 0, 0, 0], strides: [1, 1], dilations: [1, 1], group: 1 }), [2, 3]), 1, /the one-hot axis is spatial axis 2 \(size 4\) of .*whose kernel \(size 2\) must span it whole, unpadded/],
    [[4, L], (em, x) => head(em, em.op('Conv', [em.unsqueeze(x, [1]), em.constFloat(W, [F, 1, 4, K])], { kernel_shape: [4, K], pads: [1, 0, 1, 0], strides: [1, 1], dilations: [1, 1], group: 1 }), [2, 3]), 1, /must span it whole, unpadded/],
    // tf2onnx's Keras padding='same' pads the rows the kernel spans: the windows see 2 or 3 of the 4 (outputs changed by 0.71).
    [[4, L], (em, x) => head(em, em.op('Conv', [em.unsqueeze(x, [1]), em.constFloat(W, [F, 1, 4, K])], { kernel_shape: [4, K], auto_pad: 'SAME_UPPER', strides: [1, 1], dilations: [1, 1], group: 1 }), [2, 3]), 1, /must span it whole, unpadded \(auto_pad SAME_UPPER pads it\)/],
    // The unit axis of the paper's [N, 1, 4, L] is no one-hot axis: W less its mean over it is zero (the model became a constant).
    [[1, 4, L], (em, x) => head(em, em.op('Conv', [x, em.constFloat(W, [F, 1, 4, K])], { kernel_shape: [4, K], pads: [0, 0, 0, 0], strides: [1, 1], dilations: [1, 1], group: 1 }), [2, 3]), 1, /axis 1 of input 'x' \[N, 1, 4, 9\] has size 1; a one-hot axis has a slot per value/],
    // A Pad over the one-hot axis itself.
    [[4, L], (em, x) => head(em, em.op('Conv', [em.pad(x, [0, 1, 0, 0, 0, 0]), em.constFloat([...W, ...W.slice(0, F * K)], [F, 5, K])], { kernel_shape: [K], pads: [0, 0], strides: [1], dilations: [1], group: 1 }), [2]), 1, /\(found Pad\)$/],
    [[L, 4], (em, x) => head(em, conv1d(em, em.reshape(x, [0, 4, L]), 0), [2]), 2, /must feed exactly one Conv, directly or through Transpose, Reshape, Squeeze, Unsqueeze, Pad, or a Gemm or MatMul through a Flatten \(found Reshape\)/],
  ];
  for (const [row, build, axis, message] of cases) {
    const ex = await Explainer.load(tinyModel(row, 13, build));
    await ex.attribute({ data: new Float32Array(row.reduce((a, d) => a * d, 1)), dims: [1, ...row] }, { method: 'deeplift', target: 0, onehotAxis: axis }).then(
      () => assert.unreachable(`axis ${axis} should be refused`),
      (e: Error) => assert.match(e.message, message),
    );
  }
  const ex = await Explainer.load(tinyModel([4, L], 13, (em, x) => head(em, conv1d(em, x, 0), [2])));
  for (const axis of [0, 3, -3]) {
    await ex.attribute({ data: new Float32Array(4 * L), dims: [1, 4, L] }, { method: 'deeplift', target: 0, onehotAxis: axis }).then(
      () => assert.unreachable(`axis ${axis} should be refused`),
      (e: Error) => assert.match(e.message, /input 'x' \[N, 4, 9\] has no such axis after its batch axis/),
    );
  }
});

test.run();
