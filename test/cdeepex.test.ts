import * as fs from 'fs';
import ndarray from 'ndarray';
import * as path from 'path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ADAM_IO } from '../rewriter/adam-step';
import { compose } from '../rewriter/compose';
import { buildConstrained, buildReconstruction, CONSTRAINED_IO, RECONSTRUCTION_IO } from '../rewriter/contrast-graphs';
import { GraphView } from '../rewriter/graph-view';
import { DataType, decodeModel, encodeModel } from '../rewriter/proto';
import { Explainer } from '../runtime';
import { ContrastiveExplainer } from '../runtime/contrastive';
import { prepareContrastGraphs } from './support/contrast-graphs';
import { constrainedSearch, constraintReport, ContrastGraphs, SearchOptions } from '../runtime/drivers/cdeepex';
import { hostData } from '../runtime/drivers/loop-session';
import { readNpy } from '../runtime/node/npy-file';
import { probeFacts } from '../runtime/probe';
import { floatTensor } from '../runtime/tensors';
import { relL2 } from './support/fixtures';
import { rejects } from './support/rejects';
import { tinyGraph, tinyModel } from './support/tiny-model';
import { conditionalGenerator } from './support/conditional-generator';
import { emittedNonNative } from './support/webgpu-native';

const DIR = path.resolve(__dirname, '../../models/cdeepex');
const model = (variant: string, which: string) => path.join(DIR, variant, `${which}.onnx`);
/** A 3-channel classifier [N, 3, 16, 16] (random weights). */
const RGB = path.resolve(__dirname, '../../models/fixtures/cnn_maxpool/model.onnx');
const ref = (name: string) => { const a = readNpy(path.join(DIR, 'reference', `${name}.npy`)); return { data: Float32Array.from(a.data as Float32Array), dims: a.dims }; };

let graphs: Promise<{ g: ContrastGraphs; d: Explainer; gen: Explainer }> | undefined;
function clean() {
  graphs ??= (async () => {
    const d = await Explainer.load(model('clean', 'classifier'));
    const gen = await Explainer.load(model('clean', 'generator'));
    return { g: await prepareContrastGraphs(d, gen), d, gen };
  })();
  return graphs;
}

async function run(g: ContrastGraphs, which: 'reconstruction' | 'constrained', feeds: Record<string, { data: Float32Array; dims: number[] }>, fetch: string[]) {
  const out = await g[which].run(Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, floatTensor(t.data, t.dims)])), fetch);
  return Object.fromEntries(await Promise.all(fetch.map(async (k) => [k, (await hostData(out[k])).slice()] as const)));
}

const zeros = (dims: number[]) => ({ data: new Float32Array(dims.reduce((a, b) => a * b, 1)), dims });
const adamInputs = (dims: number[]) => ({ [ADAM_IO.m]: zeros(dims), [ADAM_IO.v]: zeros(dims), [ADAM_IO.step]: zeros([1]) });

function alFeeds(z: { data: Float32Array; dims: number[] }) {
  const io = CONSTRAINED_IO;
  return {
    z, residual: ref('residual'), [io.z0]: ref('z0'), [io.classA]: ref('class_a'), [io.classB]: ref('class_b'), [io.others]: ref('others'),
    [io.lambda]: ref('lambda'), [io.rho]: ref('rho'), [io.muA]: ref('mu_a'), [io.muB]: ref('mu_b'),
  };
}

test('reconstruction graph: ‖G(z) − I‖² and its z-gradient match PyTorch autograd', async () => {
  const { g } = await clean();
  const z = ref('z');
  const out = await run(g, 'reconstruction', { z, [RECONSTRUCTION_IO.target]: ref('images'), ...adamInputs(z.dims) }, [RECONSTRUCTION_IO.loss, RECONSTRUCTION_IO.gradient]);
  assert.ok(relL2(out[RECONSTRUCTION_IO.loss], ref('recon_loss').data) < 1e-5, `loss ${out[RECONSTRUCTION_IO.loss]}`);
  assert.ok(relL2(out[RECONSTRUCTION_IO.gradient], ref('recon_grad').data) < 1e-4, `rel L2 ${relL2(out[RECONSTRUCTION_IO.gradient], ref('recon_grad').data)}`);
});

test('composed D(G(z) + r): augmented-Lagrangian objective, z-gradient and logits match PyTorch autograd', async () => {
  const { g } = await clean();
  const out = await run(g, 'constrained', alFeeds(ref('z')), [CONSTRAINED_IO.objective, CONSTRAINED_IO.gradient, g.logits]);
  assert.ok(relL2(out[g.logits], ref('al_logits').data) < 1e-5, 'logits');
  assert.ok(relL2(out[CONSTRAINED_IO.objective], ref('al_objective').data) < 1e-5, `objective ${out[CONSTRAINED_IO.objective]} vs ${ref('al_objective').data}`);
  const e = relL2(out[CONSTRAINED_IO.gradient], ref('al_grad').data);
  assert.ok(e < 1e-4, `gradient rel L2 ${e}`);
});

test('reconstruction and augmented-Lagrangian graphs emit only WebGPU-native ops', async () => {
  const { d, gen } = await clean();
  const g = (await gen.prepare([12])).view;
  const composed = compose({ generator: g, classifier: d.view, generatedRow: [1, 16, 16], residual: true });
  const view = new GraphView(composed.model, 'composed');
  const { facts } = await probeFacts(composed.model, [{ name: 'z', elemType: DataType.FLOAT, dims: [1, 12] }, { name: 'residual', elemType: DataType.FLOAT, dims: [1, 1, 16, 16] }], 'composed');
  const al = buildConstrained({ view, facts, latent: 'z', generated: 'image', logits: 'logits' });
  assert.equal(emittedNonNative([...g.nodes, ...d.view.nodes], al), []);
  const gp = await gen.prepare([12]);
  const rec = buildReconstruction({ view: gp.view, facts: gp.facts, latent: 'z', generated: 'image', adam: { beta1: 0.9, beta2: 0.999, epsilon: 1e-8 } });
  assert.equal(emittedNonNative(g.nodes, rec), []);
});

test('composed D(G(z) + r): z-gradient matches central differences (directional, float32 objective)', async () => {
  const { g } = await clean();
  const z = ref('z');
  // λ = 1, a small ρ and no inequality terms keep the objective O(10), where float32 rounding
  // (~1e-6) stays far below the change over a step of 3e-4; the network's ReLU/MaxPool kinks lie
  // ~1e-3 apart along these directions, so larger steps straddle them.
  const io = CONSTRAINED_IO;
  const feeds = (at: Float32Array) => ({ ...alFeeds({ data: at, dims: z.dims }), [io.lambda]: { data: Float32Array.of(1, 1, 1), dims: [3, 1] }, [io.rho]: { data: Float32Array.of(1e-3, 1e-3, 1e-3), dims: [3, 1] }, [io.others]: zeros([3, 10]) });
  const grad = (await run(g, 'constrained', feeds(z.data), [io.gradient]))[io.gradient];
  const h = 3e-4;
  for (let k = 0; k < 4; k++) {
    const v = Float32Array.from(z.data, (_, i) => Math.sin(7 * i + k));
    const f = async (s: number) => (await run(g, 'constrained', feeds(z.data.map((zi, i) => zi + s * v[i])), [io.objective]))[io.objective];
    const [plus, minus] = [await f(h), await f(-h)];
    for (let row = 0; row < 3; row++) {
      const fd = (plus[row] - minus[row]) / (2 * h);
      const analytic = grad.slice(row * 12, row * 12 + 12).reduce((a, gi, i) => a + gi * v[row * 12 + i], 0);
      assert.ok(Math.abs(fd - analytic) <= 2e-2 * (1 + Math.abs(analytic)), `direction ${k}, row ${row}: central difference ${fd}, gradient ${analytic}`);
    }
  }
});

test('compose: clashing names are renamed and the composed graph computes D(G(z))', async () => {
  // A generator whose input and output reuse the classifier's names ('input', 'logits').
  const bytes = tinyModel([12], 13, (em, x) => em.op('Sigmoid', [em.reshape(em.matmul(x, em.constFloat(Array.from({ length: 12 * 256 }, (_, k) => Math.sin(k)), [12, 256])), [-1, 1, 16, 16])]));
  const gModel = decodeModel(bytes);
  gModel.graph!.input![0].name = 'input';
  gModel.graph!.node!.forEach((n) => { n.input = n.input!.map((i) => (i === 'x' ? 'input' : i)); n.output = n.output!.map((o) => (o === 'y' ? 'logits' : o)); });
  gModel.graph!.output![0].name = 'logits';
  const gEx = await Explainer.load(encodeModel(gModel));
  const d = await Explainer.load(model('clean', 'classifier'));
  const composed = compose({ generator: new GraphView(gModel, 'G'), classifier: d.view, generatedRow: [1, 16, 16] });
  assert.is(composed.latent, 'input');
  assert.is(composed.outputs[0], 'classifier/logits');
  const z = { data: Float32Array.from({ length: 24 }, (_, k) => Math.cos(k)), dims: [2, 12] };
  const both = await (await Explainer.load(encodeModel(composed.model))).forward(z);
  const x = (await gEx.forward(z)).logits;
  const want = (await d.forward(x)).logits;
  assert.ok(relL2(both['classifier/logits'].data, want.data) < 1e-6);
  assert.ok(relL2(both.logits.data, x.data) < 1e-7, 'G(z) stays an output');
});

test('compose: a generator at opset 9 (Unsqueeze, Upsample, Softmax in their old forms) is rebound to the classifier\'s opset 13 and computes D(G(z))', async () => {
  // G: z [N, 12] → MatMul → [N, 64] → Softmax over the 64 (opset-9 meaning) → Reshape [N, 8, 8] → Unsqueeze axes=[1] → Upsample ×2 nearest.
  const gModel = tinyGraph(['N', 12], 9, (em, x) => {
    const h = em.op('Softmax', [em.matmul(x, em.constFloat(Array.from({ length: 12 * 64 }, (_, k) => Math.sin(0.7 * k)), [12, 64]))], { axis: 1 });
    const sq = em.op('Unsqueeze', [em.op('Reshape', [h, em.constInt([-1, 8, 8])])], { axes: [1] });
    return em.op('Upsample', [em.op('Mul', [sq, em.scalar(50)]), em.constFloat([1, 1, 2, 2], [4])], { mode: 'nearest' });
  }).model;
  const gEx = await Explainer.load(encodeModel(gModel));
  const d = await Explainer.load(model('clean', 'classifier'));
  const composed = compose({ generator: new GraphView(gModel, 'G'), classifier: d.view, generatedRow: [1, 16, 16] });
  assert.is(composed.model.opset_import!.find((o) => !o.domain)!.version, 13);
  const z = { data: Float32Array.from({ length: 24 }, (_, k) => Math.cos(k)), dims: [2, 12] };
  const both = await (await Explainer.load(encodeModel(composed.model))).forward(z);
  const want = (await d.forward((await gEx.forward(z)).y)).logits;
  assert.ok(relL2(both.logits.data, want.data) < 1e-6, `${both.logits.data} vs ${want.data}`);
});

test('compose: a flat generator output is reshaped to the classifier input; a mismatch is a one-line error naming both shapes', () => {
  const flat = decodeModel(tinyModel([12], 13, (em, x) => em.matmul(x, em.constFloat(new Float32Array(12 * 256), [12, 256]))));
  const d = new GraphView(decodeModel(fs.readFileSync(model('clean', 'classifier'))), 'D.onnx');
  const ok = compose({ generator: new GraphView(flat, 'G.onnx'), classifier: d, generatedRow: [256] });
  // The Reshape writes the classifier's input itself (no Identity copy after it).
  assert.ok(ok.model.graph!.node!.some((n) => n.op_type === 'Reshape' && n.output![0] === ok.classifierInput));
  const big = decodeModel(tinyModel([12], 13, (em, x) => em.matmul(x, em.constFloat(new Float32Array(12 * 784), [12, 784]))));
  assert.throws(() => compose({ generator: new GraphView(big, 'G.onnx'), classifier: d, generatedRow: [1, 28, 28] }), /G\.onnx output 'y' has shape \[N, 1, 28, 28\] but classifier D\.onnx input 'input' takes \[N, 1, 16, 16\]/);
  // Channels last [16, 16, 1] holds the values in the classifier's order (a reshape); [16, 16, 3] against
  // [3, 16, 16] is transposed (below); [8, 32, 3] against [3, 16, 16] is refused.
  const nhwc = (c: number, h = 16, w = 16) => decodeModel(tinyModel([12], 13, (em, x) => em.reshape(em.matmul(x, em.constFloat(new Float32Array(12 * 256 * c), [12, 256 * c])), [-1, h, w, c])));
  const channelsLast = compose({ generator: new GraphView(nhwc(1), 'G.onnx'), classifier: d, generatedRow: [16, 16, 1] });
  assert.ok(channelsLast.model.graph!.node!.some((n) => n.op_type === 'Reshape' && n.output![0] === channelsLast.classifierInput));
  const rgb = new GraphView(decodeModel(fs.readFileSync(RGB)), 'D3.onnx');
  assert.throws(() => compose({ generator: new GraphView(nhwc(3, 8, 32), 'G.onnx'), classifier: rgb, generatedRow: [8, 32, 3] }),
    (e: Error) => /the same number of values in another arrangement, which neither a reshape nor a channels-last\/first transpose reads/.test(e.message));
});

test('a channels-last generator ([N, 16, 16, 3]) for a channels-first classifier ([N, 3, 16, 16]): composed through a Transpose, the explanation in the classifier\'s layout', async () => {
  const weights = Array.from({ length: 12 * 768 }, (_, k) => Math.sin(0.37 * k) * 0.3);
  const gModel = tinyGraph(['N', 12], 13, (em, x) => em.op('Sigmoid', [em.reshape(em.matmul(x, em.constFloat(weights, [12, 768])), [-1, 16, 16, 3])])).model;
  const gen = await Explainer.load(encodeModel(gModel));
  const d = await Explainer.load(RGB);
  const ce = await ContrastiveExplainer.load(RGB, encodeModel(gModel));
  const image = Float32Array.from({ length: 768 }, (_, k) => 0.5 + 0.4 * Math.sin(0.11 * k));
  // Its output is a Softmax: the search reads the logits before it.
  const probs0 = Array.from((await d.forward({ data: image, dims: [1, 3, 16, 16] })).output.data);
  const order = [...probs0.keys()].sort((i, j) => probs0[j] - probs0[i]);
  const r = await ce.explain({ data: image, dims: [1, 3, 16, 16] }, { trueClass: order[0], probe: order[1], method: 'xgems' });
  // Independent: G's channels-last rows transposed to [3, 16, 16] on the host.
  const chw = (hwc: Float32Array) => Float32Array.from({ length: 768 }, (_, k) => hwc[(k % 256) * 3 + Math.floor(k / 256)]);
  const g0 = chw((await gen.forward(r.z0)).y.data);
  const ge = chw((await gen.forward(r.ze)).y.data);
  assert.ok(Math.abs(r.residual - image.reduce((s, v, k) => s + (v - g0[k]) ** 2, 0)) < 1e-3 * (1 + r.residual), 'residual = ‖I − G(z0)‖² in one layout');
  assert.ok(relL2(r.explanation.data, g0.map((v, k) => v - ge[k])) < 1e-5, 'E = G(z0) − G(ze), channels first');
  const probs = (await d.forward({ data: ge.map((v, k) => v + image[k] - g0[k]), dims: [1, 3, 16, 16] })).output.data;
  const top = Math.max(...r.logits.data);
  const exp = r.logits.data.map((v) => Math.exp(v - top));
  assert.ok(relL2(exp.map((v) => v / exp.reduce((a, b) => a + b, 0)), probs) < 1e-5, 'softmax of the logits at x(ze)');
});

test('a generator with a flat output ([N, 256] for a [N, 1, 16, 16] classifier) gives the same explanation', async () => {
  const g = decodeModel(fs.readFileSync(model('clean', 'generator')));
  const graph = g.graph!;
  const last = graph.node!.find((n) => n.output![0] === 'image')!;
  last.output = ['image_2d'];
  graph.node!.push({ op_type: 'Flatten', input: ['image_2d'], output: ['image'], attribute: [{ name: 'axis', type: 2, i: 1 }] });
  graph.output = [{ name: 'image', type: { tensor_type: { elem_type: DataType.FLOAT, shape: { dim: [{ dim_param: 'N' }, { dim_value: 256 }] } } } }];
  const samples = readNpy(path.join(DIR, 'samples.npy'));
  const image = { data: Float32Array.from((samples.data as Float32Array).subarray(15 * 256, 16 * 256)), dims: [1, 1, 16, 16] };
  const options = { trueClass: 1, probe: 8, starts: 2, reconstructionSteps: 60 };
  const classifier = fs.readFileSync(model('clean', 'classifier'));
  const want = await (await ContrastiveExplainer.load(classifier, fs.readFileSync(model('clean', 'generator')))).explain(image, options);
  const got = await (await ContrastiveExplainer.load(classifier, encodeModel(g))).explain(image, options);
  assert.equal(got.explanation.dims, [1, 1, 16, 16]);
  for (const k of ['explanation', 'z0', 'ze', 'logits'] as const) assert.ok(relL2(got[k].data, want[k].data) < 1e-6, `${k}: rel L2 ${relL2(got[k].data, want[k].data)}`);
});

test('a generator and a classifier whose tensors are called like the loop graphs\' own inputs and outputs (target, loss, next; objective, lambda) give the same explanation', async () => {
  const renamed = (file: string, names: string[]) => {
    const m = decodeModel(fs.readFileSync(file));
    const graph = m.graph!;
    const outputs = new Set((graph.output ?? []).map((o) => o.name));
    const inner = graph.node!.map((n) => n.output![0]).filter((o) => !outputs.has(o)).slice(0, names.length);
    const map = new Map(inner.map((o, k) => [o, names[k]]));
    for (const n of graph.node!) {
      n.input = n.input!.map((t) => map.get(t) ?? t);
      n.output = n.output!.map((t) => map.get(t) ?? t);
    }
    return encodeModel(m);
  };
  const samples = readNpy(path.join(DIR, 'samples.npy'));
  const image = { data: Float32Array.from((samples.data as Float32Array).subarray(15 * 256, 16 * 256)), dims: [1, 1, 16, 16] };
  const options = { trueClass: 1, probe: 8, starts: 2, reconstructionSteps: 60 };
  const want = await (await ContrastiveExplainer.load(fs.readFileSync(model('clean', 'classifier')), fs.readFileSync(model('clean', 'generator')))).explain(image, options);
  const got = await (await ContrastiveExplainer.load(renamed(model('clean', 'classifier'), ['objective', 'lambda']), renamed(model('clean', 'generator'), ['target', 'loss', 'next']))).explain(image, options);
  for (const k of ['explanation', 'z0', 'ze', 'logits'] as const) assert.ok(relL2(got[k].data, want[k].data) < 1e-6, `${k}: rel L2 ${relL2(got[k].data, want[k].data)}`);
});

/** Runs one explanation and checks it against independent forwards of G and D. */
async function checkExplanation(ce: ContrastiveExplainer, d: Explainer, gen: Explainer, index: number, probe: number, method: string) {
  const samples = readNpy(path.join(DIR, 'samples.npy'));
  const image = Float32Array.from((samples.data as Float32Array).subarray(index * 256, (index + 1) * 256));
  const logits0 = (await d.forward({ data: image, dims: [1, 1, 16, 16] })).logits.data;
  const a = logits0.indexOf(Math.max(...logits0));
  const r = await ce.explain({ data: image, dims: [1, 1, 16, 16] }, { trueClass: a, probe, method });
  assert.ok(r.constraints.satisfied, `sample ${index}: ${JSON.stringify(r.constraints)}`);
  // Independent forwards: G(z0), G(ze), then D(G(ze) + I − G(z0)); the constraints on its log-softmax.
  const g0 = (await gen.forward(r.z0)).image.data;
  const ge = (await gen.forward(r.ze)).image.data;
  assert.ok(relL2(r.explanation.data, g0.map((v, k) => v - ge[k])) < 1e-5, 'E = G(z0) − G(ze)');
  const x = ge.map((v, k) => v + image[k] - g0[k]);
  const logits = (await d.forward({ data: x, dims: [1, 1, 16, 16] })).logits.data;
  assert.ok(relL2(r.logits.data, logits) < 1e-5, 'logits at x(ze)');
  const top = Math.max(...logits);
  const lse = top + Math.log(logits.reduce((s, v) => s + Math.exp(v - top), 0));
  const llh = logits.map((v) => v - lse);
  assert.ok(Math.abs(llh[a] - llh[probe]) <= 1e-3, `llh_A = llh_B: ${llh[a]} vs ${llh[probe]}`);
  if (method === 'cdeepex') llh.forEach((v, i) => assert.ok(v <= Math.min(llh[a], llh[probe]) + 1e-3, `class ${i} above A and B`));
  assert.ok(Math.abs(r.residual - image.reduce((s, v, k) => s + (v - g0[k]) ** 2, 0)) < 1e-3 * (1 + r.residual), 'residual = ‖I − G(z0)‖²');
  return r;
}

for (const method of ['cdeepex', 'xgems']) {
  test(`${method} on clean digits: constraints hold, x(ze) gives the logits, E = G(z0) − G(ze)`, async () => {
    const { d, gen } = await clean();
    const ce = await ContrastiveExplainer.load(model('clean', 'classifier'), model('clean', 'generator'));
    for (const [index, probe] of [[15, 8], [30, 5], [46, 4]]) await checkExplanation(ce, d, gen, index, probe, method);
  });
}

test('a conditional generator G(z, y, scale) with y and scale held (--generator-feed): constraints hold on independent forwards of G(·, y) and D; a latent not left alone, or an input not held, is one line', async () => {
  const cond = conditionalGenerator();
  const classifier = fs.readFileSync(model('clean', 'classifier'));
  const held = { y: { data: BigInt64Array.from([7n]), dims: [1] }, scale: { data: Float32Array.from([0.9]), dims: [] } };
  const ce = await ContrastiveExplainer.load(classifier, cond, { generatorFeeds: held });
  const samples = readNpy(path.join(DIR, 'samples.npy'));
  const image = Float32Array.from((samples.data as Float32Array).subarray(15 * 256, 16 * 256));
  const d = await Explainer.load(classifier);
  const a = Array.from((await d.forward({ data: image, dims: [1, 1, 16, 16] })).logits.data).reduce((best, v, k, all) => (v > all[best] ? k : best), 0);
  const r = await ce.explain({ data: image, dims: [1, 1, 16, 16] }, { trueClass: a, probe: 8 });
  assert.ok(r.constraints.satisfied, JSON.stringify(r.constraints));
  // G(·, y = 7, scale = 0.9) run on the original conditional graph, fed y and scale.
  const gen = await Explainer.load(cond, { wrt: 'z', warn: () => {} });
  const at = async (z: { data: Float32Array; dims: number[] }) => (await gen.forward(z, { y: held.y, scale: held.scale })).image.data;
  const [g0, ge] = [await at(r.z0), await at(r.ze)];
  assert.ok(relL2(r.explanation.data, g0.map((v, k) => v - ge[k])) < 1e-5, 'E = G(z0, y) − G(ze, y)');
  const logits = (await d.forward({ data: ge.map((v, k) => v + image[k] - g0[k]), dims: [1, 1, 16, 16] })).logits.data;
  assert.ok(relL2(r.logits.data, logits) < 1e-5, 'logits at x(ze)');
  const lse = Math.log(logits.reduce((acc, v) => acc + Math.exp(v), 0));
  const llh = Array.from(logits, (v) => v - lse);
  assert.ok(Math.abs(llh[a] - llh[8]) <= 1e-3, `llh_A = llh_B: ${llh[a]} vs ${llh[8]}`);
  llh.forEach((v, i) => assert.ok(v <= Math.min(llh[a], llh[8]) + 1e-3, `class ${i} above A and B`));
  assert.ok(Math.abs(r.residual - image.reduce((acc, v, k) => acc + (v - g0[k]) ** 2, 0)) < 1e-3 * (1 + r.residual), 'residual = ‖I − G(z0, y)‖²');
  // Another class code gives another reconstruction.
  const other = await (await ContrastiveExplainer.load(classifier, cond, { generatorFeeds: { ...held, y: { data: BigInt64Array.from([2n]), dims: [1] } } })).explain({ data: image, dims: [1, 1, 16, 16] }, { trueClass: a, probe: 8 });
  assert.ok(relL2(other.generatedZ0.data, r.generatedZ0.data) > 1e-6);
  // The models as a Blob (a File) and an ArrayBuffer, as Explainer.load takes them, the generator's held inputs too (its bytes were read as a path).
  const buffer = cond.buffer.slice(cond.byteOffset, cond.byteOffset + cond.byteLength) as ArrayBuffer;
  const again = await (await ContrastiveExplainer.load(new Blob([classifier]), buffer, { generatorFeeds: held })).explain({ data: image, dims: [1, 1, 16, 16] }, { trueClass: a, probe: 8 });
  assert.equal(Array.from(again.explanation.data), Array.from(r.explanation.data));
  await rejects(() => ContrastiveExplainer.load(classifier, cond, { generatorFeeds: { y: held.y } }), /holding 'y' leaves the generator the inputs 'z', 'scale'; hold all but its latent input/);
  await rejects(() => ContrastiveExplainer.load(classifier, cond, { generatorFeeds: { ...held, z: zeros([1, 12]) } }), /leaves the generator no input/);
  await rejects(() => ContrastiveExplainer.load(classifier, cond, { generatorFeeds: { ...held, y: { data: Float32Array.from([1.5]), dims: [1] } } }), /input 'y' takes integers; the value held for it has fractional values/);
  await rejects(() => ContrastiveExplainer.load(classifier, cond, { generatorFeeds: { ...held, y: { data: BigInt64Array.from([1n, 2n]), dims: [2] } } }), /input 'y' takes rows of \[\]; the value held for it has shape \[2\] \(give one row\)/);
  await rejects(() => ContrastiveExplainer.load(classifier, cond), /the generator must have exactly one float input; it has 'z', 'y', 'scale'.*--generator-feed/);
});

test('explain refuses search options of the wrong kind in one line (starts 0 reached a TypeError, −1 a RangeError; negative and fractional steps, retries and outer iterations ran), names an input without dims, and a conditional generator with a float label names --generator-feed', async () => {
  const ce = await ContrastiveExplainer.load(model('clean', 'classifier'), model('clean', 'generator'));
  const image = { data: new Float32Array(256), dims: [1, 1, 16, 16] };
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ starts: 0 }, /^contrast: starts 0 must be an integer ≥ 1$/],
    [{ starts: -1 }, /starts -1 must be an integer ≥ 1/],
    [{ starts: 2.5 }, /starts 2\.5 must be an integer ≥ 1/],
    [{ starts: '4' }, /starts "4" must be an integer ≥ 1/],
    [{ reconstructionSteps: -5 }, /reconstructionSteps -5 must be an integer ≥ 1/],
    [{ innerSteps: 0 }, /innerSteps 0 must be an integer ≥ 1/],
    [{ maxOuter: -1 }, /maxOuter -1 must be an integer ≥ 1/],
    [{ retries: 1.5 }, /retries 1\.5 must be an integer ≥ 0/],
    [{ lr: '0.1' }, /lr "0\.1" must be a finite number > 0/],
    [{ probe: '3' }, /probe "3" is not a class index \(an integer, 0\.\.9\)/],
  ];
  for (const [options, message] of bad) await rejects(() => ce.explain(image, { trueClass: 1, probe: 3, ...options } as never), message);
  await rejects(() => ce.explain(new Float32Array(256) as never, { trueClass: 1, probe: 3 }), /input 'image' must be a tensor with data and dims \(or an ndarray\), got a Float32Array without dims/);
  await rejects(() => ce.explain([[0]] as never, { trueClass: 1, probe: 3 }), /got an array/);
  // G(z, y) with y a one-hot float label: Explainer's message named --wrt and --feed, which contrast does not take.
  const g = decodeModel(conditionalGenerator());
  const graph = g.graph!;
  graph.node![0] = { op_type: 'MatMul', input: ['y', 'class_table'], output: ['class_code'] };
  graph.input![1] = { name: 'y', type: { tensor_type: { elem_type: DataType.FLOAT, shape: { dim: [{ dim_param: 'N' }, { dim_value: 10 }] } } } };
  await rejects(() => ContrastiveExplainer.load(model('clean', 'classifier'), encodeModel(g)), /the generator must have exactly one float input; it has 'z', 'y', 'scale' \(a conditional generator's other inputs are held with --generator-feed/);
  const held = await ContrastiveExplainer.load(model('clean', 'classifier'), encodeModel(g), { generatorFeeds: { y: { data: Float32Array.from({ length: 10 }, (_, k) => (k === 7 ? 1 : 0)), dims: [1, 10] }, scale: { data: Float32Array.from([1]), dims: [] } } });
  assert.ok((await held.explain(image, { trueClass: 1, probe: 3, starts: 1, reconstructionSteps: 2, maxOuter: 1, innerSteps: 1, retries: 0 })).explanation.data.length === 256);
});

test('explain takes an ndarray view (a transposed one is read through its strides) and returns E in the input\'s shape', async () => {
  const ce = await ContrastiveExplainer.load(model('clean', 'classifier'), model('clean', 'generator'));
  const samples = readNpy(path.join(DIR, 'samples.npy'));
  const image = Float32Array.from((samples.data as Float32Array).subarray(15 * 256, 16 * 256));
  const options = { trueClass: 3, probe: 8, method: 'xgems' };
  const plain = await ce.explain({ data: image, dims: [1, 1, 16, 16] }, options);
  // The same image stored transposed, viewed back through swapped strides.
  const stored = Float32Array.from({ length: 256 }, (_, k) => image[(k % 16) * 16 + Math.floor(k / 16)]);
  const view = ndarray(stored, [16, 16]).transpose(1, 0);
  const viewed = await ce.explain(view, options);
  assert.equal(viewed.explanation.dims, [16, 16]);
  assert.equal(Array.from(viewed.explanation.data), Array.from(plain.explanation.data));
});

test('cdeepex on biased digits where both searches from z0 stall at a third class: a restart meets every constraint', async () => {
  const d = await Explainer.load(model('biased', 'classifier'));
  const gen = await Explainer.load(model('biased', 'generator'));
  const ce = await ContrastiveExplainer.load(model('biased', 'classifier'), model('biased', 'generator'));
  // Samples 3 (a 0) and 20 (a 4) asked "why not 8?": without restarts the searches from z0 fail.
  const samples = readNpy(path.join(DIR, 'samples.npy'));
  for (const [index, a] of [[3, 0], [20, 4]]) {
    const image = { data: Float32Array.from((samples.data as Float32Array).subarray(index * 256, (index + 1) * 256)), dims: [1, 1, 16, 16] };
    const alone = await ce.explain(image, { trueClass: a, probe: 8, retries: 0 });
    assert.not.ok(alone.constraints.satisfied, `sample ${index}: the search from z0 alone now succeeds; pick a case it misses`);
    await checkExplanation(ce, d, gen, index, 8, 'cdeepex');
  }
});

test('cdeepex on biased digits: ze is the nearest point SLSQP finds (scipy on float64 PyTorch), where the L-BFGS search alone ended 1.3–2.3× farther', async () => {
  const d = await Explainer.load(model('biased', 'classifier'));
  const g = await prepareContrastGraphs(d, await Explainer.load(model('biased', 'generator')));
  // models/make_cdeepex_nearest.py: z0 and the residual of its own reconstruction, ze by SLSQP.
  const { cases } = JSON.parse(fs.readFileSync(path.join(DIR, 'reference', 'nearest.json'), 'utf8')) as { cases: NearestCase[] };
  const options: SearchOptions = { starts: 8, reconstructionSteps: 300, lr: 0.05, seed: 0, tolerance: 1e-3, maxOuter: 40, innerSteps: 40, penalty: 1, retries: 3 };
  // The searches from z0 of cases 21 and 31 meet every constraint 3.0× and 6.4× farther than SLSQP's point: a restart from B's side reaches it.
  for (const c of [2, 44, 45, 21, 31].map((k) => cases[k])) {
    const r = await constrainedSearch(g, Float32Array.from(c.z0), Float32Array.from(c.residual), c.a, c.b, true, options);
    assert.ok(r.report.satisfied, `sample ${c.index}: constraints ${JSON.stringify(r.report)}`);
    const distance = Math.hypot(...r.ze.map((v, j) => v - c.z0[j]));
    assert.ok(distance <= 1.01 * c.distance, `sample ${c.index}: ‖ze − z0‖ ${distance} against SLSQP's ${c.distance}`);
    const apart = Math.hypot(...r.ze.map((v, j) => v - c.ze[j]));
    assert.ok(apart <= 0.05 * c.distance, `sample ${c.index}: ze is ${apart} from SLSQP's`);
  }
});

interface NearestCase { index: number; a: number; b: number; z0: number[]; residual: number[]; ze: number[]; distance: number }

// ContrastiveExplainer had no release(): its loop sessions went only with garbage collection
// (RSS 112 → 237 MB over 200 loads).
test('ContrastiveExplainer.release() during an explanation frees its sessions when it ends; the next explanation opens them again and gives the same result', async () => {
  const samples = readNpy(path.join(DIR, 'samples.npy'));
  const image = { data: Float32Array.from((samples.data as Float32Array).subarray(15 * 256, 16 * 256)), dims: [1, 1, 16, 16] };
  const options = { trueClass: 1, probe: 8, starts: 2, reconstructionSteps: 60, maxOuter: 3, innerSteps: 10 };
  const ce = await ContrastiveExplainer.load(model('clean', 'classifier'), model('clean', 'generator'));
  const alone = await ce.explain(image, options);
  let released: Promise<void> | undefined;
  const during = await ce.explain(image, { ...options, progress: () => { released ??= ce.release(); } });
  await released;
  assert.equal(during.explanation.data, alone.explanation.data);
  const again = await ce.explain(image, options);
  assert.equal(again.explanation.data, alone.explanation.data);
  await ce.release();
});

test('constraintReport: llh is log-softmax of the logits (torch.log_softmax of [5, 2, −1, 0.5] in float64), the equality llh_A − llh_B, the inequality the best other class above min(llh_A, llh_B)', () => {
  const r = constraintReport([5, 2, -1, 0.5], 0, 1, true, 0.01);
  [-0.0614476403, -3.0614476403, -6.0614476403, -4.5614476403].forEach((v, k) => assert.ok(Math.abs(r.llh[k] - v) < 1e-6, `llh ${r.llh}`));
  assert.ok(Math.abs(r.equality - 3) < 1e-9 && Math.abs(r.inequality + 1.5) < 1e-6, `${r.equality} ${r.inequality}`);
  assert.is(r.satisfied, false);
});

test.run();
