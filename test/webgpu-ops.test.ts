import * as ort from 'onnxruntime-node';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as path from 'path';
import { canonicalForm } from '../rewriter/canonical-form';
import { decodeModel, encodeModel, ModelProto, NodeProto, toNumber } from '../rewriter/proto';
import { tinyModel } from './support/tiny-model';
import { methodNames } from '../rules/methods';
import { Explainer, readNpy } from '../runtime';
import { EXPORTERS, FIXTURES, fixtureNames, isReferenceCopy, loadFixture } from './support/fixtures';
import { nonNativeOps, WEBGPU_NATIVE } from '../rewriter/webgpu-ops';
import { integratedGradients } from '../rules/methods/integrated-gradients';
import { deadInitializers, deadNodes } from './support/dead-nodes';
import { methodNeeds } from './support/method-needs';


const opsetOf = (m: ModelProto) => toNumber((m.opset_import ?? []).find((o) => !o.domain)?.version ?? 0);

for (const [name, root] of [...fixtureNames().map((n) => [n, FIXTURES]), ...fixtureNames(EXPORTERS).map((n) => [n, EXPORTERS])]) {
  test(`${name}: every method's augmented graph (and the integrated-gradients path graph) adds only WebGPU-native ops, each one read, and loads in onnxruntime`, async () => {
    const fx = loadFixture(name, root);
    const ex = await Explainer.load(fx.model);
    const rowDims = fx.input.dims.slice(1);
    for (const method of methodNames) {
      const target = fx.meta.target[0];
      // Every method builds on every fixture: a rewrite that starts failing fails here.
      const { model, prepared } = await ex.augmented(rowDims, { method, target, ...methodNeeds(method) });
      const all = model.graph!.node!;
      const original = prepared.view.nodes.length;
      assert.equal(all.slice(0, original).map((n) => n.op_type), prepared.view.nodes.map((n) => n.op_type), `${name}/${method}: original nodes come first, unchanged`);
      const added = all.slice(original);
      assert.ok(added.length > 0, `${name}/${method}: nothing added`);
      const originalOf = new Map(prepared.view.nodes.flatMap((n) => (n.output ?? []).map((o) => [o, n] as const)));
      for (const copy of added.filter(isReferenceCopy)) {
        const orig = originalOf.get(copy.output![0].slice('ref/'.length));
        assert.is(copy.op_type, orig?.op_type, `${name}/${method}: '${copy.output![0]}' (${copy.op_type}) is not a copy of a forward node`);
      }
      assertEmitted(`${name}/${method}`, { model, prepared });
      for (const n of added) assert.ok(!n.domain || n.domain === 'ai.onnx', `${name}/${method}: node ${n.name} in domain ${n.domain}`);
      assert.is(opsetOf(model), Math.max(opsetOf(ex.model), 9), `${name}/${method}: opset import unchanged (7 and 8 read as 9)`);
      // onnxruntime checks every node against its schema at the model's opset when creating a session.
      let session: ort.InferenceSession | undefined;
      try {
        session = await ort.InferenceSession.create(encodeModel(model), { logSeverityLevel: 3, graphOptimizationLevel: 'disabled' });
      } catch (e) {
        assert.unreachable(`${name}/${method}: onnxruntime rejects the augmented model at opset ${opsetOf(model)}: ${String((e as Error).message).split('\n')[0]}`);
      }
      assert.ok(session!.outputNames.includes('attribution'), `${name}/${method}: 'attribution' output`);
      await session!.release();
    }
    // The integrated-gradients path graph: the forward copied on the path, the backward and the sum.
    assertEmitted(`${name}/integrated-gradients`, await ex.augmented(rowDims, { target: fx.meta.target[0] }, { method: integratedGradients, path: { steps: 4 } }));
  });
}

/** What a graph adds after the model's nodes, but for copies of them (reference pass, path points), is WebGPU-native and read by something. */
function assertEmitted(label: string, { model, prepared }: { model: ModelProto; prepared: { view: { nodes: NodeProto[] } } }): void {
  const original = prepared.view.nodes.length;
  const copy = (n: NodeProto) => isReferenceCopy(n) || (n.output ?? []).every((o) => !o || o.startsWith('path/'));
  const opset = opsetOf(model);
  assert.equal(nonNativeOps(model.graph!.node!.slice(original).filter((n) => !copy(n)), 0, opset), [], `${label}: emitted ops not native on WebGPU at opset ${opset}`);
  assert.equal(deadNodes(model, original), [], `${label}: added nodes nothing reads`);
  assert.equal(deadInitializers(model), [], `${label}: weights nothing reads`);
  // onnxruntime-web's WebGPU EP aborts (and stays broken for the page) on a Gemm whose C is 0-D.
  const zeroD = new Set([...(model.graph!.initializer ?? []).filter((t) => !t.dims?.length).map((t) => t.name),
    ...model.graph!.node!.filter((n) => n.op_type === 'Constant' && !n.attribute?.find((a) => a.name === 'value')?.t?.dims?.length).map((n) => n.output![0])]);
  const gemms = model.graph!.node!.slice(original).filter((n) => n.op_type === 'Gemm' && zeroD.has(n.input?.[2]));
  assert.equal(gemms.map((n) => n.name), [], `${label}: emitted Gemms with a 0-D C`);
}

// Text models (models/make_text.py: torch.onnx exports of BERT-, DistilBERT-, DeBERTa-, GPT-2- and
// Llama-style classifiers, an ORT-optimised and a dynamically quantised BERT), explained at the word
// embedding: DeepLIFT's picks at a GPT-2's last token copy its Gather.
const TEXT = path.resolve(__dirname, '../../models/text');
for (const name of ['bert_op13', 'bert_op17', 'bert_ort_opt', 'bert_q8', 'deberta_op14', 'distilbert_op11', 'gpt2_op14', 'gpt2_past_op14', 'llama_op14', 'bag_mean']) {
  test(`text model ${name}: gradient, DeepLIFT, LRP-ε and the integrated-gradients path add only WebGPU-native ops, each one read, and load in onnxruntime`, async () => {
    const ex = await Explainer.load(path.join(TEXT, name, 'model.onnx'), { warn: () => {} });
    const rowDims = [readNpy(path.join(TEXT, name, 'input_ids.npy')).dims[1], ...ex.tokens!.rowDims];
    for (const method of ['gradient', 'deeplift', 'lrp-epsilon']) {
      const built = await ex.augmented(rowDims, { method, target: 0 });
      assertEmitted(`${name}/${method}`, built);
      const session = await ort.InferenceSession.create(encodeModel(built.model), { logSeverityLevel: 3, graphOptimizationLevel: 'disabled' });
      await session.release();
    }
    assertEmitted(`${name}/integrated-gradients`, await ex.augmented(rowDims, { target: 0 }, { method: integratedGradients, path: { steps: 4 } }));
  });
}

// The ops the runtime notes measured as not native on one or both WebGPU backends.
const NOT_NATIVE = ['Sign', 'OneHot', 'LogSoftmax', 'Loop', 'Sum', 'Mean', 'ConstantOfShape', 'ScatterElements', 'TopK', 'PRelu', 'Min', 'Max', 'Identity'];

test('the WebGPU list excludes every op measured as not native, and nonNativeOps reports them only after the original nodes, by opset', () => {
  assert.equal(NOT_NATIVE.filter((op) => WEBGPU_NATIVE.has(op)), []);
  const explicit = ['strides', 'dilations', 'pads', 'group'].map((name) => ({ name }));
  const nodes = [{ op_type: 'Max' }, { op_type: 'Conv', attribute: explicit }, ...NOT_NATIVE.map((op_type) => ({ op_type })), { op_type: 'Where' }, { op_type: 'Sign' }];
  assert.equal(nonNativeOps(nodes, 2, 13), NOT_NATIVE);
  assert.equal(nonNativeOps(nodes, nodes.length, 13), []);
  // Clip's attribute form (before opset 11) is placed on the CPU by onnxruntime's WebGPU EP.
  assert.equal(nonNativeOps([{ op_type: 'Clip' }], 0, 9), ['Clip']);
  assert.equal(nonNativeOps([{ op_type: 'Clip' }], 0, 11), []);
  // Kernels registered up to opset 21 or 22 (onnxruntime-web 1.30).
  const newer = ['Conv', 'ConvTranspose', 'MaxPool', 'Reshape', 'Transpose', 'Pad'].map((op_type) => ({ op_type, attribute: explicit }));
  assert.equal(nonNativeOps(newer, 0, 21), []);
  assert.equal(nonNativeOps(newer, 0, 22), ['Conv', 'ConvTranspose', 'MaxPool']);
  assert.equal(nonNativeOps(newer, 0, 23), ['Conv', 'ConvTranspose', 'MaxPool', 'Reshape', 'Transpose', 'Pad']);
  // JSEP rejects a Conv that leaves strides or dilations to their defaults; pads may come from auto_pad.
  assert.equal(nonNativeOps([{ op_type: 'Conv', attribute: [{ name: 'pads' }] }], 0, 13), ['Conv without strides, dilations, group']);
  const autoPad = { name: 'auto_pad', s: new TextEncoder().encode('SAME_UPPER') };
  assert.equal(nonNativeOps([{ op_type: 'ConvTranspose', attribute: [...explicit.filter((a) => a.name !== 'pads'), autoPad] }], 0, 13), []);
});

test('Conv and ConvTranspose defaults are written out on reading (JSEP rejects them left out), outputs unchanged; LRP\'s copies carry them', async () => {
  const bytes = tinyModel([2, 6, 6], 13, (em, x) => {
    const conv = em.op('Conv', [x, em.constFloat(Array.from({ length: 36 }, (_, k) => Math.sin(k)), [2, 2, 3, 3])], {});
    return em.op('ConvTranspose', [em.op('Relu', [conv]), em.constFloat(Array.from({ length: 16 }, (_, k) => Math.cos(k)), [2, 2, 2, 2])], { strides: [2, 2] });
  });
  const read = canonicalForm(decodeModel(bytes), 'tiny');
  for (const n of read.graph!.node!.filter((m) => m.op_type!.startsWith('Conv'))) {
    assert.equal(n.attribute!.map((a) => a.name).sort(), ['dilations', 'group', 'pads', 'strides'], n.op_type!);
  }
  const x = new ort.Tensor('float32', Float32Array.from({ length: 144 }, (_, k) => Math.sin(3 * k)), [2, 2, 6, 6]);
  const [a, b] = await Promise.all([bytes, encodeModel(read)].map(async (m) => (await (await ort.InferenceSession.create(m)).run({ x })).y.data as Float32Array));
  assert.equal(Array.from(b), Array.from(a));
  const ex = await Explainer.load(bytes);
  for (const method of ['lrp-zplus', 'lrp-alphabeta']) {
    const { model, prepared } = await ex.augmented([2, 6, 6], { method, target: 0 });
    assert.equal(nonNativeOps(model.graph!.node!.slice(prepared.view.nodes.length).filter((n) => !isReferenceCopy(n)), 0, 13), [], method);
  }
});

// A stacked LSTM at opset 9 (torch writes its per-layer state Slices with ends 2⁶³ − 1) failed on the default bundle's
// WebGPU backend: JSEP read the end as −1 and sliced nothing.
test('opset-1 Slice bounds beyond int32 are clamped on reading (JSEP truncates 2⁶³ − 1 to −1), outputs unchanged', async () => {
  const bytes = tinyModel([4, 3], 9, (em, x) => em.op('Relu', [em.op('Slice', [x], { starts: [-3], ends: [2 ** 40], axes: [1] })]));
  const read = canonicalForm(decodeModel(bytes), 'tiny');
  const slice = read.graph!.node!.find((n) => n.op_type === 'Slice')!;
  assert.equal(slice.attribute!.filter((a) => a.name === 'ends').map((a) => (a.ints ?? []).map(toNumber)), [[2 ** 31 - 1]]);
  assert.equal(slice.attribute!.filter((a) => a.name === 'starts').map((a) => (a.ints ?? []).map(toNumber)), [[-3]]);
  const x = new ort.Tensor('float32', Float32Array.from({ length: 24 }, (_, k) => Math.sin(3 * k)), [2, 4, 3]);
  const [a, b] = await Promise.all([bytes, encodeModel(read)].map(async (m) => (await (await ort.InferenceSession.create(m)).run({ x })).y.data as Float32Array));
  assert.equal(Array.from(b), Array.from(a));
});

test.run();
