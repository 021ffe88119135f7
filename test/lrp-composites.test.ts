import * as fs from 'fs';
import * as path from 'path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Explainer } from '../runtime';
import { readNpy } from '../runtime/node/npy-file';
import { Emitter } from '../rewriter/emitter';
import { relL2 } from './support/fixtures';
import { rejects } from './support/rejects';
import { runCli, tempDir } from './support/cli-harness';
import { tinyModel } from './support/tiny-model';

// models/make_lrp_composites.py: a CNN with biases and inputs of both signs, relevances per composite written out
// layer by layer in float64 with PyTorch autograd (equal to Zennit 0.5's composites within 4·10⁻⁸).
const DIR = path.resolve(__dirname, '../../models/lrp-composites');
const meta = JSON.parse(fs.readFileSync(path.join(DIR, 'meta.json'), 'utf8'));
const tensor = (name: string) => { const a = readNpy(path.join(DIR, `${name}.npy`)); return { data: Float32Array.from(a.data as Float32Array), dims: a.dims }; };
const [low, high] = meta.box as [number, number];

for (const method of Object.keys(meta.sums)) {
  test(`${method} matches the layer-by-layer float64 reference (Zennit's composite)`, async () => {
    const ex = await Explainer.load(path.join(DIR, 'model.onnx'));
    const box = method === 'lrp-epsilon-gamma-box' ? { boxLow: low, boxHigh: high } : {};
    const r = await ex.attribute(tensor('input'), { method, target: meta.target, ...box });
    const err = relL2(r.attributions.data, tensor(method).data);
    assert.ok(err < 1e-5, `rel L2 ${err}`);
  });
}

test('epsilon is the ε rule\'s at weighted layers and stabilizer every other rule\'s (Zennit\'s epsilon and stabilizer): ε = 0.25 at the dense layers only', async () => {
  const ex = await Explainer.load(path.join(DIR, 'model.onnx'));
  const expected = tensor('lrp-epsilon-plus-flat-dense-epsilon').data;
  const apart = await ex.attribute(tensor('input'), { method: 'lrp-epsilon-plus-flat', target: meta.target, epsilon: meta.dense_epsilon, stabilizer: meta.epsilon });
  assert.ok(relL2(apart.attributions.data, expected) < 1e-5, `rel L2 ${relL2(apart.attributions.data, expected)}`);
  // Without it the stabiliser is ε too: z⁺ and flat are stabilised by 0.25.
  const together = await ex.attribute(tensor('input'), { method: 'lrp-epsilon-plus-flat', target: meta.target, epsilon: meta.dense_epsilon });
  assert.ok(relL2(together.attributions.data, expected) > 1e-3);
});

test('a composite is lrp-epsilon with the same rules given per layer (lrpRules by node name or output name)', async () => {
  const ex = await Explainer.load(path.join(DIR, 'model.onnx'));
  const x = tensor('input');
  const conv1 = ex.model.graph!.node!.find((n) => n.op_type === 'Conv')!;
  const conv2 = ex.model.graph!.node!.filter((n) => n.op_type === 'Conv')[1];
  for (const [method, first, rest] of [['lrp-epsilon-plus-flat', 'flat', 'zplus'], ['lrp-epsilon-alpha2-beta1', 'alpha2-beta1', 'alpha2-beta1']] as const) {
    const a = await ex.attribute(x, { method, target: meta.target });
    const b = await ex.attribute(x, { method: 'lrp-epsilon', target: meta.target, lrpRules: { [conv1.output![0]]: first, [conv2.name!]: rest } });
    assert.ok(relL2(b.attributions.data, a.attributions.data) < 1e-7, method);
  }
  // conv2 reads a ReLU's output, which has no negative part: γ runs it twice (W + γW⁺, W + γW⁻), not four times; z^B at conv1 three times.
  const convs = async (options: object) => (await ex.augmented([3, 16, 16], { target: 0, ...options })).model.graph!.node!.filter((n) => n.op_type === 'Conv').length;
  assert.is(await convs({ method: 'lrp-epsilon-gamma-box', boxLow: low, boxHigh: high }) - await convs({ method: 'lrp-epsilon' }), 2 + 3);
  // The cached session of one γ is not another's.
  const box = { boxLow: low, boxHigh: high };
  const [g1, g2] = [0.25, 2].map((gamma) => ex.attribute(x, { method: 'lrp-epsilon-gamma-box', target: meta.target, gamma, ...box }));
  assert.ok(relL2((await g2).attributions.data, (await g1).attributions.data) > 1e-3);
});

// One Gemm layer z = x·W + b, inputs of both signs: each rule's formula computed directly.
const x = [1.5, -0.5, 2];
const W = [0.4, -1, 0.3, 0.8, -0.6, 0.2]; // [3, 2] row-major
const b = [0.1, -0.3];
const w = (i: number, j: number) => W[i * 2 + j];
const z = [0, 1].map((j) => x.reduce((s, xi, i) => s + xi * w(i, j), b[j]));
const stab = (v: number) => v + 1e-6 * (v >= 0 ? 1 : -1);
const pos = (v: number) => Math.max(v, 0);
const neg = (v: number) => Math.min(v, 0);
const gemm = (em: Emitter, input: string) => em.op('Gemm', [input, em.constFloat(W, [3, 2]), em.constFloat(b, [2])]);

/** R_i = Σ_j share_ij / Σ_i′ share_i′j · R_j with the relevance z_j of target j (0 and 1 both). */
async function layerRule(rule: string, share: (i: number, j: number) => number, options = {}): Promise<[Float32Array, number[]]> {
  const ex = await Explainer.load(tinyModel([3], 13, gemm));
  const node = ex.model.graph!.node!.find((n) => n.op_type === 'Gemm')!;
  const r = await ex.attribute({ data: Float32Array.from([...x, ...x]), dims: [2, 3] }, { method: 'lrp-epsilon', target: [0, 1], lrpRules: { [node.name!]: rule as 'flat' }, ...options });
  const expected = [0, 1].flatMap((j) => x.map((_, i) => (share(i, j) / stab([0, 1, 2].reduce((s, k) => s + share(k, j), 0))) * z[j]));
  return [r.attributions.data, expected];
}
const near = (a: ArrayLike<number>, e: number[]) => e.every((v, i) => Math.abs(a[i] - v) <= 1e-5 * Math.max(1, Math.abs(v)));

test('the flat rule spreads R_j evenly, the w² rule by squared weights (bias left out)', async () => {
  for (const [rule, share] of [['flat', () => 1], ['wsquare', (i: number, j: number) => w(i, j) ** 2]] as const) {
    const [got, expected] = await layerRule(rule, share);
    assert.ok(near(got, expected), `${rule}: ${Array.from(got)} vs ${expected}`);
  }
});

test('the z^B rule shares z = Σ x w − l w⁺ − h w⁻ (biases cancel), with scalar and per-feature bounds', async () => {
  for (const [lo, hi] of [[-2, 2.5], [[-2, -1, -3], [2, 1, 3]]] as [number | number[], number | number[]][]) {
    const at = (v: number | number[], i: number) => (typeof v === 'number' ? v : v[i]);
    const [got, expected] = await layerRule('zbox', (i, j) => x[i] * w(i, j) - at(lo, i) * pos(w(i, j)) - at(hi, i) * neg(w(i, j)), { boxLow: lo, boxHigh: hi });
    assert.ok(near(got, expected), `${JSON.stringify([lo, hi])}: ${Array.from(got)} vs ${expected}`);
  }
});

test('LRP-γ: where z > 0, shares of (W + γW⁺)·x⁺ + (W + γW⁻)·x⁻ + b + γb⁺; where z < 0, of the swapped pairs + b + γb⁻', async () => {
  const v = [1.5, -0.5, -2];
  const zv = [0, 1].map((j) => v.reduce((s, vi, i) => s + vi * w(i, j), b[j]));
  assert.ok(zv[0] > 0 && zv[1] < 0, 'one output of each sign');
  const g = 0.5;
  const ex = await Explainer.load(tinyModel([3], 13, gemm));
  const node = ex.model.graph!.node!.find((n) => n.op_type === 'Gemm')!;
  const r = await ex.attribute({ data: Float32Array.from([...v, ...v]), dims: [2, 3] }, { method: 'lrp-epsilon', target: [0, 1], gamma: g, lrpRules: { [node.name!]: 'gamma' } });
  const expected = [0, 1].flatMap((j) => {
    const [keep, other] = zv[j] > 0 ? [pos, neg] : [neg, pos];
    const term = (i: number) => pos(v[i]) * (w(i, j) + g * keep(w(i, j))) + neg(v[i]) * (w(i, j) + g * other(w(i, j)));
    const total = [0, 1, 2].reduce((s, i) => s + term(i), 0) + b[j] + g * keep(b[j]);
    return v.map((_, i) => (term(i) / stab(total)) * zv[j]);
  });
  assert.ok(near(r.attributions.data, expected), `${Array.from(r.attributions.data)} vs ${expected}`);
});

// α-β and z⁺ split a constant operand of any weighted-category op by sign: GridSample's sampling grid (coordinates in
// [−1, 1]) was taken for weights, so its copies sampled at the grid's positive and negative parts.
test('α-β and z⁺ leave GridSample\'s constant grid alone (ε rule): an identity resampling passes R_i = x_i at the target', async () => {
  const grid = [-1, -1, 1, -1, -1, 1, 1, 1]; // [1, 2, 2, 2]: (x, y) of each output pixel, the input's own pixels
  const model = tinyModel([1, 2, 2], 16, (em, v) => em.op('Flatten', [em.op('GridSample', [v, em.constFloat(grid, [1, 2, 2, 2])], { align_corners: 1, mode: 'bilinear', padding_mode: 'zeros' })], { axis: 1 }));
  const ex = await Explainer.load(model);
  const input = { data: Float32Array.from([0.5, -1.5, 2, 0.25]), dims: [1, 1, 2, 2] };
  for (const method of ['lrp-zplus', 'lrp-alphabeta']) {
    const r = await ex.attribute(input, { method, target: 2 });
    assert.ok(near(r.attributions.data, [0, 0, 2, 0]), `${method}: ${Array.from(r.attributions.data)}`);
  }
});

test('first layers: every convolution that reads the input before any other gets the first rule (two branches: both flat)', async () => {
  const conv = (em: Emitter, input: string, channels: number, k: number) => em.op('Conv', [input, em.constFloat(Array.from({ length: 18 * channels }, (_, i) => Math.sin(i + k)), [2, channels, 3, 3])], { strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], group: 1 });
  let names: string[] = [];
  const model = tinyModel([1, 4, 4], 13, (em, input) => {
    const [a, c] = [conv(em, input, 1, 0), conv(em, input, 1, 5)];
    const deeper = conv(em, em.op('Relu', [em.add(a, c)]), 2, 9);
    names = [a, c, deeper];
    return em.op('Gemm', [em.op('Flatten', [em.op('Relu', [deeper])], { axis: 1 }), em.constFloat(Array.from({ length: 64 }, (_, i) => Math.cos(i)), [32, 2])]);
  });
  const ex = await Explainer.load(model);
  const input = { data: Float32Array.from({ length: 16 }, (_, i) => Math.sin(3 * i)), dims: [1, 1, 4, 4] };
  const a = await ex.attribute(input, { method: 'lrp-epsilon-plus-flat', target: 1 });
  const b = await ex.attribute(input, { method: 'lrp-epsilon', target: 1, lrpRules: { [names[0]]: 'flat', [names[1]]: 'flat', [names[2]]: 'zplus' } });
  assert.ok(relL2(b.attributions.data, a.attributions.data) < 1e-7);
  // lrp-epsilon-gamma-box's z^B is for a first convolution: a model of dense layers is ruled as lrp-epsilon.
  const mlp = await Explainer.load(tinyModel([3], 13, (em, v) => em.op('Gemm', [em.op('Relu', [gemm(em, v)]), em.constFloat([1, -2, 0.5, 1], [2, 2])])));
  const row = { data: Float32Array.from(x), dims: [1, 3] };
  const [c, d] = await Promise.all([mlp.attribute(row, { method: 'lrp-epsilon-gamma-box', target: 0 }), mlp.attribute(row, { method: 'lrp-epsilon', target: 0 })]);
  assert.equal(Array.from(c.attributions.data), Array.from(d.attributions.data));
});

test('bad LRP layer options are refused with one line naming the cause', async () => {
  const ex = await Explainer.load(path.join(DIR, 'model.onnx'));
  const x1 = { data: tensor('input').data.slice(0, 768), dims: [1, 3, 16, 16] };
  const relu = ex.model.graph!.node!.find((n) => n.op_type === 'Relu')!;
  await rejects(() => ex.attribute(x1, { method: 'lrp-epsilon', lrpRules: { [relu.name!]: 'flat' } }), /lrpRules names '.*Relu.*' \(Relu\), which is no layer with constant weights/);
  await rejects(() => ex.attribute(x1, { method: 'lrp-epsilon', lrpRules: { nowhere: 'flat' } }), /lrpRules names 'nowhere', which is no node or tensor/);
  const conv = ex.model.graph!.node!.find((n) => n.op_type === 'Conv')!;
  await rejects(() => ex.attribute(x1, { method: 'lrp-epsilon', lrpRules: { [conv.name!]: 'flat', [conv.output![0]]: 'zplus' } }), /lrpRules names node '\/conv1\/Conv' twice, as '\/conv1\/Conv' and as '\/conv1\/Conv_output_0': give it one rule/);
  await rejects(() => ex.attribute(x1, { method: 'lrp-epsilon', lrpRules: { [relu.name!]: 'gama' as 'gamma' } }), /'gama' is not one of epsilon, zplus/);
  await rejects(() => ex.attribute(x1, { method: 'gradient', lrpRules: { [relu.name!]: 'flat' } }), /lrpRules.*not to method 'gradient'/);
  await rejects(() => ex.attribute(x1, { method: 'lrp-epsilon', gamma: 0.5 }), /gamma \(--gamma\) is LRP-γ's: it applies to lrp-epsilon-gamma-box/);
  await rejects(() => ex.attribute(x1, { method: 'lrp-epsilon-plus', boxLow: 0, boxHigh: 1 }), /are the z\^B rule's/);
  await rejects(() => ex.attribute(x1, { method: 'lrp-epsilon-gamma-box' }), /node '\/conv1\/Conv' \(Conv, opset 13\): the z\^B rule needs boxLow and boxHigh/);
  await rejects(() => ex.attribute(x1, { method: 'lrp-epsilon-gamma-box', boxLow: 1, boxHigh: 0 }), /must lie below boxHigh/);
  await rejects(() => ex.attribute(x1, { method: 'lrp-epsilon-gamma-box', boxLow: [0, 0], boxHigh: [1, 1] }), /boxLow gives 2 values; the layer's input \[1,3,16,16\] has 3 on axis 1/);
  await rejects(() => ex.attribute(x1, { method: 'lrp-epsilon-gamma-box', boxLow: [0, 0, 0], boxHigh: [1, 1] }), /boxLow \(--box-low\) gives 3 values and boxHigh \(--box-high\) 2/);
});

test('CLI: --lrp-rule NAME=RULE (repeatable), --gamma, --box-low/--box-high per channel give the API\'s numbers', async () => {
  const dir = tempDir('lrp-rules');
  const out = path.join(dir, 'r.npy');
  const convs = (await Explainer.load(path.join(DIR, 'model.onnx'))).model.graph!.node!.filter((n) => n.op_type === 'Conv').map((n) => n.output![0]);
  const args = ['attribute', path.join(DIR, 'model.onnx'), '--input', path.join(DIR, 'input.npy'), '--target', meta.target.join(','), '--method', 'lrp-epsilon',
    '--lrp-rule', `${convs[0]}=zbox`, '--lrp-rule', `${convs[1]}=gamma`, '--gamma', '0.25', '--box-low', '-1,-1,-1', '--box-high', '1', '--out', out];
  const r = await runCli(args);
  assert.is(r.code, 0, r.err.join('\n'));
  assert.ok(relL2(readNpy(out).data as Float32Array, tensor('lrp-epsilon-gamma-box').data) < 1e-5);
  const other = await runCli(['attribute', path.join(DIR, 'model.onnx'), '--input', path.join(DIR, 'input.npy'), '--lrp-rule', `${convs[0]}=flat`]);
  assert.equal(other.err, ['onnx-explain: error: --lrp-rule applies to the LRP methods (lrp-*), not to method \'gradient\'']);
  const bad = await runCli([...args.slice(0, -2), '--lrp-rule', 'conv1']);
  assert.equal([bad.code, bad.err], [1, [`onnx-explain: error: --lrp-rule: 'conv1' is not NAME=RULE (rules: epsilon, zplus, alpha2-beta1, gamma, flat, wsquare, zbox)`]]);
});

test.run();
