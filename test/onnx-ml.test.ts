import * as fs from 'fs';
import * as ort from 'onnxruntime-node';
import * as path from 'path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { floats, strings } from '../rewriter/emitter';
import { onnxMlToStandard } from '../rewriter/onnx-ml';
import { AttrType, DataType, decodeModel, encodeModel, ModelProto, NodeProto, valueInfo } from '../rewriter/proto';
import { Explainer } from '../runtime';
import { centralDifferences } from './support/central';
import { runCli, tempDir } from './support/cli-harness';
import { relL2 } from './support/fixtures';
import { rejects } from './support/rejects';

const F = 4;
const scale = [0.5, 2, 1.5, 0.8];
const offset = [0.1, -0.3, 0.2, 0];
const coefficients = Array.from({ length: 3 * F }, (_, i) => Math.sin(1.7 * i + 0.3));
const intercepts = [0.2, -0.1, 0.05];
const x = Float32Array.from({ length: 3 * F }, (_, i) => Math.cos(0.9 * i + 0.2) * 1.5);

const ml = (op: string, input: string[], output: string[], attribute: NodeProto['attribute']): NodeProto => ({ op_type: op, domain: 'ai.onnx.ml', input, output, name: op, attribute });
const ints = (name: string, v: number[]) => ({ name, type: AttrType.INTS, ints: v });
const attr = (name: string, v: ReturnType<typeof floats> | ReturnType<typeof strings>) => (('floats' in v) ? { name, type: AttrType.FLOATS, floats: v.floats } : { name, type: AttrType.STRING, s: new TextEncoder().encode(v.strings[0]) });

/** StandardScaler → LinearClassifier (post_transform, int labels) [→ Normalizer]: outputs label and probabilities. */
function pipeline(transform: string, opts: { normalizer?: string; classes?: number; labels?: number[] } = {}): Uint8Array {
  const classes = opts.classes ?? 3;
  const nodes: NodeProto[] = [
    ml('Scaler', ['X'], ['scaled'], [attr('offset', floats(offset)), attr('scale', floats(scale))]),
    ml('LinearClassifier', ['scaled'], ['label', opts.normalizer ? 'raw_probabilities' : 'probabilities'], [
      attr('coefficients', floats(coefficients.slice(0, classes * F))), attr('intercepts', floats(intercepts.slice(0, classes))),
      ints('classlabels_ints', opts.labels ?? [0, 1, 2]), attr('post_transform', strings([transform])),
    ]),
  ];
  if (opts.normalizer) nodes.push(ml('Normalizer', ['raw_probabilities'], ['probabilities'], [attr('norm', strings([opts.normalizer]))]));
  const m: ModelProto = {
    ir_version: 8, opset_import: [{ domain: '', version: 13 }, { domain: 'ai.onnx.ml', version: 1 }], producer_name: 'skl2onnx-style',
    graph: { name: 'pipeline', node: nodes, input: [valueInfo('X', DataType.FLOAT, ['N', F])], output: [valueInfo('label', DataType.INT64, ['N']), valueInfo('probabilities', DataType.FLOAT, ['N', 2 ** Number(classes === 1) * classes])] },
  };
  return encodeModel(m);
}

async function run(model: Uint8Array, input: Float32Array, features = F): Promise<Record<string, number[]>> {
  const s = await ort.InferenceSession.create(model, { logSeverityLevel: 3 });
  const out = await s.run({ X: new ort.Tensor('float32', input, [input.length / features, features]) });
  await s.release();
  return Object.fromEntries(Object.entries(out).map(([k, t]) => [k, Array.from(t.data as ArrayLike<number | bigint>, Number)]));
}

const standard = (model: Uint8Array) => encodeModel(onnxMlToStandard(decodeModel(model), 'test'));

for (const [what, model] of [
  ['SOFTMAX', pipeline('SOFTMAX')], ['LOGISTIC + Normalizer L1', pipeline('LOGISTIC', { normalizer: 'L1' })],
  ['NONE + Normalizer L2', pipeline('NONE', { normalizer: 'L2' })], ['NONE + Normalizer MAX', pipeline('NONE', { normalizer: 'MAX' })],
  ['one score, two labels', pipeline('NONE', { classes: 1, labels: [3, 7] })],
] as const) {
  test(`Scaler → LinearClassifier (${what}): the standard form gives onnxruntime's kernels' labels and scores`, async () => {
    const [want, got] = [await run(model, x), await run(standard(model), x)];
    assert.equal(got.label, want.label);
    assert.ok(relL2(Float32Array.from(got.probabilities), Float32Array.from(want.probabilities)) < 1e-6, `${got.probabilities} vs ${want.probabilities}`);
  });
}

test('SOFTMAX pipeline: the gradient of the explained scores is scale·C[t] (closed form)', async () => {
  const ex = await Explainer.load(pipeline('SOFTMAX'));
  const r = await ex.attribute({ data: x, dims: [3, F] }, { target: [0, 2, 1] });
  const want = Float32Array.from([0, 2, 1].flatMap((t) => scale.map((s, j) => s * coefficients[t * F + j])));
  assert.ok(relL2(r.attributions.data, want) < 1e-6, `rel L2 ${relL2(r.attributions.data, want)}`);
});

test('LOGISTIC + Normalizer L1: the gradient of a probability equals central differences of onnxruntime\'s kernels; DeepLIFT sums to delta', async () => {
  const model = pipeline('LOGISTIC', { normalizer: 'L1' });
  const ex = await Explainer.load(model);
  const targets = [1, 0, 2];
  const r = await ex.attribute({ data: x, dims: [3, F] }, { target: targets });
  const fd = await centralDifferences(x, 1e-3, async (v) => (await run(model, v)).probabilities, (i) => Math.floor(i / F) * 3 + targets[Math.floor(i / F)]);
  assert.ok(relL2(r.attributions.data, fd) < 2e-3, `rel L2 ${relL2(r.attributions.data, fd)}`);
  const d = await ex.attribute({ data: x, dims: [3, F] }, { target: targets, method: 'deeplift' });
  for (const delta of d.delta!) assert.ok(Math.abs(delta) < 1e-6, `delta ${delta}`);
});

/**
 * ML.NET's multiclass export: every column of the training data is an input, so the string Label
 * (mapped to keys for a Label output) comes beside the float Features; the scores read only the features.
 */
function mlnetStyle(labelOnly = false): Uint8Array {
  const m: ModelProto = {
    ir_version: 6, opset_import: [{ domain: '', version: 11 }, { domain: 'ai.onnx.ml', version: 2 }], producer_name: 'ML.NET',
    graph: {
      name: 'mlnet',
      node: [
        ml('LabelEncoder', ['Label'], ['keys'], [{ name: 'keys_strings', type: AttrType.STRINGS, strings: ['a', 'b', 'c'].map((k) => new TextEncoder().encode(k)) }, ints('values_int64s', [1, 2, 3]), { name: 'default_int64', type: AttrType.INT, i: -1 }]),
        { op_type: 'Cast', input: ['keys'], output: ['Label.onnx'], name: 'cast', attribute: [{ name: 'to', type: AttrType.INT, i: DataType.UINT32 }] },
        ...(labelOnly ? [] : [
          ml('Scaler', ['Features'], ['scaled'], [attr('offset', floats(offset)), attr('scale', floats(scale))]),
          ml('LinearClassifier', ['scaled'], ['predicted', 'Score'], [attr('coefficients', floats(coefficients)), attr('intercepts', floats(intercepts)), ints('classlabels_ints', [1, 2, 3]), attr('post_transform', strings(['SOFTMAX']))]),
          { op_type: 'Identity', input: ['Score'], output: ['Score.onnx'], name: 'score' },
        ]),
      ],
      input: [{ ...valueInfo('Label', DataType.FLOAT, [1, 1]), type: { tensor_type: { elem_type: DataType.STRING, shape: { dim: [{ dim_value: 1 }, { dim_value: 1 }] } } } }, valueInfo('Features', DataType.FLOAT, [1, F])],
      output: [valueInfo('Label.onnx', DataType.UINT32, [1, 1]), ...(labelOnly ? [] : [valueInfo('Score.onnx', DataType.FLOAT, [1, 3])])],
    },
  };
  return encodeModel(m);
}

test('ML.NET-style string Label input: left out with the Label output it computes; the scores are explained (onnxruntime\'s kernels given a label; the gradient of a logit is scale·C[t]); a model whose every output reads a string is refused in one line', async () => {
  const model = mlnetStyle();
  const s = await ort.InferenceSession.create(model, { logSeverityLevel: 3 });
  const row = x.subarray(0, F);
  const want = (await s.run({ Label: new ort.Tensor('string', ['b'], [1, 1]), Features: new ort.Tensor('float32', row, [1, F]) }))['Score.onnx'].data as Float32Array;
  const ex = await Explainer.load(model);
  assert.equal(ex.outputNames, ['Score.onnx']);
  const r = await ex.attribute({ data: row, dims: [1, F] }, { target: 2, explainSoftmax: true });
  assert.ok(relL2(r.outputs['Score.onnx'].data, want) < 1e-6, `${r.outputs['Score.onnx'].data} vs ${want}`);
  const g = await ex.attribute({ data: row, dims: [1, F] }, { target: 2 });
  assert.ok(relL2(g.attributions.data, scale.map((k, j) => k * coefficients[2 * F + j])) < 1e-6, `${g.attributions.data}`);
  const refused = await Explainer.load(mlnetStyle(true)).catch((e: Error) => e);
  assert.instance(refused, Error);
  assert.match((refused as Error).message, /^<bytes>: every output is computed from the string input 'Label'; onnx-explain feeds numeric tensors only$/);
  const file = path.join(tempDir('mlnet'), 'mlnet.onnx');
  fs.writeFileSync(file, model);
  const info = await runCli(['info', file]);
  assert.ok(info.out.includes('input: Label [1, 1] string: left out with the nodes and outputs computed from it (Label.onnx): onnx-explain feeds numeric tensors only'), info.out.join('\n'));
});

/**
 * A scikit-learn pipeline with string columns as skl2onnx writes it (Titanic-style): numeric age and
 * fare, a one-hot encoded sex (unknown categories ignored) and an ordinal-encoded port, concatenated,
 * scaled and classified (SOFTMAX) into two classes.
 */
function categoricalPipeline(combined = false): Uint8Array {
  const bytes = (v: string[]) => v.map((k) => new TextEncoder().encode(k));
  const stringType = (dims: (number | string)[]) => ({ tensor_type: { elem_type: DataType.STRING, shape: { dim: dims.map((d) => (typeof d === 'string' ? { dim_param: d } : { dim_value: d })) } } });
  // Combined: one string tensor [N, 2] whose columns ArrayFeatureExtractor picks (a ColumnTransformer over a string frame).
  const picks: NodeProto[] = combined ? ['sex', 'port'].map((c, k) => ({ ...ml('ArrayFeatureExtractor', ['cats', `col${k}`], [c], []), name: `pick_${c}` })) : [];
  const m: ModelProto = {
    ir_version: 8, opset_import: [{ domain: '', version: 13 }, { domain: 'ai.onnx.ml', version: 2 }], producer_name: 'skl2onnx',
    graph: {
      name: 'titanic',
      node: [
        ...picks,
        ml('OneHotEncoder', ['sex'], ['sex_hot'], [{ name: 'cats_strings', type: AttrType.STRINGS, strings: bytes(['female', 'male']) }, { name: 'zeros', type: AttrType.INT, i: 1 }]),
        { op_type: 'Reshape', input: ['sex_hot', 'two'], output: ['sex_flat'], name: 'flat' },
        ml('LabelEncoder', ['port'], ['port_code'], [{ name: 'keys_strings', type: AttrType.STRINGS, strings: bytes(['C', 'Q', 'S']) }, attr('values_floats', floats([0.5, 1.5, -1])), { name: 'default_float', type: AttrType.FLOAT, f: 0.25 }]),
        { op_type: 'Concat', input: ['age', 'fare', 'sex_flat', 'port_code'], output: ['X'], name: 'concat', attribute: [{ name: 'axis', type: AttrType.INT, i: 1 }] },
        ml('Scaler', ['X'], ['scaled'], [attr('offset', floats([30, 20, 0.5, 0.5, 0])), attr('scale', floats([0.05, 0.1, 2, 2, 1]))]),
        ml('LinearClassifier', ['scaled'], ['label', 'probabilities'], [attr('coefficients', floats([0.8, -0.3, 1.2, 0.4, -0.5, 0.2, 0.9, -1.1, 0.6, 0.3])), attr('intercepts', floats([0.1, -0.1])), ints('classlabels_ints', [0, 1]), attr('post_transform', strings(['SOFTMAX']))]),
      ],
      initializer: [
        { name: 'two', dims: [2], data_type: DataType.INT64, int64_data: [-1, 2] },
        ...(combined ? [0, 1].map((k) => ({ name: `col${k}`, dims: [1], data_type: DataType.INT64, int64_data: [k] })) : []),
      ],
      input: [
        valueInfo('age', DataType.FLOAT, ['N', 1]), valueInfo('fare', DataType.FLOAT, ['N', 1]),
        ...(combined ? [{ name: 'cats', type: stringType(['N', 2]) }] : ['sex', 'port'].map((name) => ({ name, type: stringType(['N', 1]) }))),
      ],
      output: [valueInfo('label', DataType.INT64, ['N']), valueInfo('probabilities', DataType.FLOAT, ['N', 2])],
      value_info: combined ? ['sex', 'port'].map((name) => ({ name, type: stringType(['N', 1]) })) : [],
    },
  };
  return encodeModel(m);
}

test('string columns read by OneHotEncoder and LabelEncoder (skl2onnx\'s categorical features) are fed as strings: onnxruntime\'s kernels\' probabilities, unknown categories included; the numeric columns\' gradient is scale·C[t]; DeepLIFT sums; unfed, they are empty strings with a note (such models were refused)', async () => {
  const model = categoricalPipeline();
  const [age, fare, sex, port] = [[22, 38, 54], [7.25, 71.3, 8.05], ['male', 'female', 'other'], ['S', 'C', 'X']];
  const s = await ort.InferenceSession.create(model, { logSeverityLevel: 3 });
  const want = (await s.run({
    age: new ort.Tensor('float32', Float32Array.from(age), [3, 1]), fare: new ort.Tensor('float32', Float32Array.from(fare), [3, 1]),
    sex: new ort.Tensor('string', sex, [3, 1]), port: new ort.Tensor('string', port, [3, 1]),
  })).probabilities.data as Float32Array;
  const notes: string[] = [];
  const ex = await Explainer.load(model, { wrt: 'age', warn: (m) => notes.push(m) });
  const feeds = { fare: { data: Float32Array.from(fare), dims: [3, 1] }, sex: { data: sex, dims: [3, 1] }, port: { data: port, dims: [3, 1] } };
  const r = await ex.attribute({ data: Float32Array.from(age), dims: [3, 1] }, { target: 1, feeds, explainSoftmax: true });
  assert.ok(relL2(r.outputs.probabilities.data, want) < 1e-6, `${r.outputs.probabilities.data} vs ${want}`);
  const g = await ex.attribute({ data: Float32Array.from(age), dims: [3, 1] }, { target: 1, feeds });
  assert.ok(Array.from(g.attributions.data).every((v) => Math.abs(v - 0.05 * 0.2) < 1e-7), `${g.attributions.data}`);
  const d = await ex.attribute({ data: Float32Array.from(age), dims: [3, 1] }, { target: 1, feeds, method: 'deeplift', explainSoftmax: true });
  for (const delta of d.delta!) assert.ok(Math.abs(delta) < 1e-6, `delta ${delta}`);
  await ex.attribute({ data: Float32Array.from(age), dims: [3, 1] }, { target: 1, feeds: { fare: feeds.fare } });
  assert.ok(notes.includes("<bytes>: input 'sex' not given: using empty strings (in no category) [3,1] (give it with --feed sex=FILE.json, a list of strings)"), notes.join('\n'));
  // Codes (what graphs saved by rewrite take) are accepted as they are: 'male', 'female', 'other' are 1, 0, 2.
  const coded = await ex.attribute({ data: Float32Array.from(age), dims: [3, 1] }, { target: 1, explainSoftmax: true, feeds: { ...feeds, sex: { data: Float32Array.from([1, 0, 2]), dims: [3, 1] } } });
  assert.equal(Array.from(coded.outputs.probabilities.data), Array.from(r.outputs.probabilities.data));
  await rejects(() => ex.attribute({ data: Float32Array.from(age), dims: [3, 1] }, { target: 1, feeds: { ...feeds, sex: { data: Float32Array.from([1, 0.5, 3]), dims: [3, 1] } } }), /input 'sex' is a string column: give its values as strings \(a JSON list\), or as codes 0…2 of its categories \(2: in none\); got 0\.5/);
  const file = path.join(tempDir('categorical'), 'titanic.onnx');
  fs.writeFileSync(file, model);
  const info = await runCli(['info', file]);
  assert.ok(info.out.includes("input: sex [N, 1] string: a string column (categories 'female', 'male'): fed with --feed sex=FILE.json, a JSON list of strings (default: empty strings, in no category)"), info.out.join('\n'));
  // The same columns in one string tensor, picked by ArrayFeatureExtractor: one vocabulary for both.
  const combined = categoricalPipeline(true);
  const cats = ['male', 'S', 'female', 'C', 'other', 'X'];
  const wantCombined = (await (await ort.InferenceSession.create(combined, { logSeverityLevel: 3 })).run({
    age: new ort.Tensor('float32', Float32Array.from(age), [3, 1]), fare: new ort.Tensor('float32', Float32Array.from(fare), [3, 1]), cats: new ort.Tensor('string', cats, [3, 2]),
  })).probabilities.data as Float32Array;
  assert.ok(relL2(wantCombined, want) < 1e-6, 'the combined model is the same pipeline');
  const exCombined = await Explainer.load(combined, { wrt: 'age' });
  const rc = await exCombined.attribute({ data: Float32Array.from(age), dims: [3, 1] }, { target: 1, explainSoftmax: true, feeds: { fare: feeds.fare, cats: { data: cats, dims: [3, 2] } } });
  assert.ok(relL2(rc.outputs.probabilities.data, want) < 1e-6, `combined: ${rc.outputs.probabilities.data} vs ${want}`);
});

test('a model whose only input is a string column is explained at its one-hot rows (Captum\'s layer attribution at an embedding): DeepLIFT from the zero row gives each category its coefficient', async () => {
  const m: ModelProto = {
    ir_version: 8, opset_import: [{ domain: '', version: 13 }, { domain: 'ai.onnx.ml', version: 1 }], producer_name: 'skl2onnx',
    graph: {
      name: 'only-categories',
      node: [
        ml('OneHotEncoder', ['sex'], ['sex_hot'], [{ name: 'cats_strings', type: AttrType.STRINGS, strings: ['female', 'male', 'other'].map((k) => new TextEncoder().encode(k)) }, { name: 'zeros', type: AttrType.INT, i: 1 }]),
        { op_type: 'Reshape', input: ['sex_hot', 'three'], output: ['X'], name: 'flat' },
        ml('LinearClassifier', ['X'], ['label', 'probabilities'], [attr('coefficients', floats([0.8, -0.3, 1.2, 0.2, 0.9, -1.1])), attr('intercepts', floats([0.1, -0.1])), ints('classlabels_ints', [0, 1]), attr('post_transform', strings(['SOFTMAX']))]),
      ],
      initializer: [{ name: 'three', dims: [2], data_type: DataType.INT64, int64_data: [-1, 3] }],
      input: [{ name: 'sex', type: { tensor_type: { elem_type: DataType.STRING, shape: { dim: [{ dim_param: 'N' }, { dim_value: 1 }] } } } }],
      output: [valueInfo('label', DataType.INT64, ['N']), valueInfo('probabilities', DataType.FLOAT, ['N', 2])],
    },
  };
  const ex = await Explainer.load(encodeModel(m));
  assert.is(ex.tokens?.ids.name, 'sex');
  const d = await ex.attribute({ data: ['male', 'female', 'unknown'], dims: [3, 1] }, { target: 1, method: 'deeplift' });
  // Per row, the one-hot's attributions: the target's coefficient at the category's position (none for an unknown string).
  assert.equal(Array.from(d.attributions.data).map((v) => Math.round(v * 1e6) / 1e6), [0, 0.9, 0, 0.2, 0, 0, 0, 0, 0]);
});

test('ML.NET-style regression (its Target column copied to Target.output, its features to FeatureVector.output): the features and Score.output are explained without --wrt or --output, the Target fed zeros without a note', async () => {
  const m: ModelProto = {
    ir_version: 6, opset_import: [{ domain: '', version: 11 }, { domain: 'ai.onnx.ml', version: 2 }], producer_name: 'ML.NET',
    graph: {
      name: 'mlnet-regression',
      node: [
        ml('LinearRegressor', ['FeatureVector'], ['Score'], [attr('coefficients', floats([0.5, -2, 1.5])), attr('intercepts', floats([0.3]))]),
        ...['FeatureVector', 'Target', 'Score'].map((t): NodeProto => ({ op_type: 'Identity', input: [t], output: [`${t}.output`], name: `copy_${t}` })),
      ],
      input: [valueInfo('FeatureVector', DataType.FLOAT, ['N', 3]), valueInfo('Target', DataType.FLOAT, ['N', 1])],
      output: [valueInfo('FeatureVector.output', DataType.FLOAT, ['N', 3]), valueInfo('Target.output', DataType.FLOAT, ['N', 1]), valueInfo('Score.output', DataType.FLOAT, ['N', 1])],
    },
  };
  const notes: string[] = [];
  const ex = await Explainer.load(encodeModel(m), { warn: (w) => notes.push(w) });
  assert.is(ex.input.name, 'FeatureVector');
  const r = await ex.attribute({ data: Float32Array.from([1, 2, 3, -1, 0.5, 2]), dims: [2, 3] }, { target: 0 });
  assert.ok(r.outputs['Score.output'], 'Score.output explained');
  assert.equal(Array.from(r.attributions.data), [0.5, -2, 1.5, 0.5, -2, 1.5]);
  assert.equal(notes, []);
});

// burn-onnx's identity test models: with nothing computed, the copy is the model.
test('a model that only copies its input to its output (Identity) is explained there, not taken for an ML.NET column copy', async () => {
  const m: ModelProto = {
    ir_version: 8, opset_import: [{ domain: '', version: 16 }],
    graph: {
      name: 'passthrough',
      node: [{ op_type: 'Identity', input: ['x'], output: ['y'], name: 'copy' }],
      input: [valueInfo('x', DataType.FLOAT, ['N', 4])],
      output: [valueInfo('y', DataType.FLOAT, ['N', 4])],
    },
  };
  const ex = await Explainer.load(encodeModel(m));
  const r = await ex.attribute({ data: Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]), dims: [2, 4] }, { target: [2, 1] });
  assert.equal(Array.from(r.attributions.data), [0, 0, 1, 0, 0, 1, 0, 0]);
});

test('unsupported post transforms are refused in one line naming the node', async () => {
  const ex = await Explainer.load(pipeline('PROBIT')).catch((e: Error) => e);
  assert.instance(ex, Error);
  assert.match((ex as Error).message, /^<bytes>: node 'LinearClassifier' \(ai\.onnx\.ml\.LinearClassifier, opset 1\): post_transform PROBIT is not supported \(NONE, LOGISTIC, SOFTMAX are\)$/);
});

/** StandardScaler → LinearRegression with two targets (post_transform as given). */
function regression(transform: string): Uint8Array {
  const m: ModelProto = {
    ir_version: 8, opset_import: [{ domain: '', version: 13 }, { domain: 'ai.onnx.ml', version: 1 }], producer_name: 'skl2onnx-style',
    graph: {
      name: 'regression',
      node: [
        ml('Scaler', ['X'], ['scaled'], [attr('offset', floats(offset)), attr('scale', floats(scale))]),
        ml('LinearRegressor', ['scaled'], ['variable'], [attr('coefficients', floats(coefficients.slice(0, 2 * F))), attr('intercepts', floats(intercepts.slice(0, 2))), { name: 'targets', type: AttrType.INT, i: 2 }, attr('post_transform', strings([transform]))]),
      ],
      input: [valueInfo('X', DataType.FLOAT, ['N', F])], output: [valueInfo('variable', DataType.FLOAT, ['N', 2])],
    },
  };
  return encodeModel(m);
}

test('Scaler → LinearRegressor (two targets): the standard form gives onnxruntime\'s kernels\' values (with and without LOGISTIC); the gradient is scale·C[t] (closed form); DeepLIFT sums to delta', async () => {
  for (const transform of ['NONE', 'LOGISTIC']) {
    const [want, got] = [await run(regression(transform), x), await run(standard(regression(transform)), x)];
    assert.ok(relL2(Float32Array.from(got.variable), Float32Array.from(want.variable)) < 1e-6, `${transform}: ${got.variable} vs ${want.variable}`);
  }
  const ex = await Explainer.load(regression('NONE'));
  const targets = [1, 0, 1];
  const r = await ex.attribute({ data: x, dims: [3, F] }, { target: targets });
  const slope = Float32Array.from(targets.flatMap((t) => scale.map((s, j) => s * coefficients[t * F + j])));
  assert.ok(relL2(r.attributions.data, slope) < 1e-6, `rel L2 ${relL2(r.attributions.data, slope)}`);
  const d = await ex.attribute({ data: x, dims: [3, F] }, { target: targets, method: 'deeplift' });
  for (const delta of d.delta!) assert.ok(Math.abs(delta) < 1e-6, `delta ${delta}`);
});

/**
 * A ColumnTransformer-style preprocessing: columns 0, 2, 3 → SimpleImputer (NaN → per-column
 * values) → StandardScaler; columns 1, 4 → Binarizer(0.3); column 5 → Imputer of 0.25; the three
 * joined by FeatureVectorizer (the binarized pair padded to 3) → LinearClassifier (raw scores).
 */
function columnPipeline(): Uint8Array {
  const C = 7;
  const cols = (name: string, v: number[]) => ({ name, dims: [v.length], data_type: DataType.INT64, int64_data: v });
  const f = (name: string, v: number) => ({ name, type: AttrType.FLOAT, f: v });
  const nodes: NodeProto[] = [
    ml('ArrayFeatureExtractor', ['X', 'numeric'], ['numeric_x'], []),
    ml('Imputer', ['numeric_x'], ['imputed'], [attr('imputed_value_floats', floats([0.5, -0.2, 1])), f('replaced_value_float', NaN)]),
    ml('Scaler', ['imputed'], ['scaled'], [attr('offset', floats(offset.slice(0, 3))), attr('scale', floats(scale.slice(0, 3)))]),
    ml('ArrayFeatureExtractor', ['X', 'flags'], ['flags_x'], []),
    ml('Binarizer', ['flags_x'], ['binarized'], [f('threshold', 0.3)]),
    ml('ArrayFeatureExtractor', ['X', 'last'], ['last_x'], []),
    ml('Imputer', ['last_x'], ['last_imputed'], [attr('imputed_value_floats', floats([9])), f('replaced_value_float', 0.25)]),
    ml('FeatureVectorizer', ['scaled', 'binarized', 'last_imputed'], ['features'], [ints('inputdimensions', [3, 3, 1])]),
    ml('LinearClassifier', ['features'], ['label', 'probabilities'], [
      attr('coefficients', floats(Array.from({ length: 3 * C }, (_, i) => Math.sin(0.9 * i + 0.4)))), attr('intercepts', floats(intercepts)),
      ints('classlabels_ints', [0, 1, 2]), attr('post_transform', strings(['NONE'])),
    ]),
  ].map((n, k) => ({ ...n, name: `${n.op_type}_${k}` }));
  return encodeModel({
    ir_version: 8, opset_import: [{ domain: '', version: 13 }, { domain: 'ai.onnx.ml', version: 1 }], producer_name: 'skl2onnx-style',
    graph: {
      name: 'columns', node: nodes, initializer: [cols('numeric', [0, 2, 3]), cols('flags', [1, 4]), cols('last', [5])],
      input: [valueInfo('X', DataType.FLOAT, ['N', 6])], output: [valueInfo('label', DataType.INT64, ['N']), valueInfo('probabilities', DataType.FLOAT, ['N', 3])],
    },
  });
}

test('ArrayFeatureExtractor, Imputer (NaN and a value), Binarizer and FeatureVectorizer before a LinearClassifier: the standard form gives onnxruntime\'s kernels\' labels and scores, the gradient their central differences, DeepLIFT sums to delta', async () => {
  const model = columnPipeline();
  const rowsOf = (v: number[]) => Float32Array.from(v);
  const missing = rowsOf([NaN, 0.9, -0.4, 1.2, -0.5, 0.25, 0.7, 0.1, NaN, -0.6, 0.8, 1.1, -1.3, -0.2, 0.4, NaN, 0.0, 0.25]);
  const [want, got] = [await run(model, missing, 6), await run(standard(model), missing, 6)];
  assert.equal(got.label, want.label);
  assert.ok(relL2(Float32Array.from(got.probabilities), Float32Array.from(want.probabilities)) < 1e-6, `${got.probabilities} vs ${want.probabilities}`);
  // Finite values away from the threshold and the replaced value, where the function is smooth.
  const x6 = rowsOf([0.4, 0.9, -0.4, 1.2, -0.5, 0.6, 0.7, 0.1, 1.5, -0.6, 0.8, 1.1, -1.3, -0.2, 0.4, 0.35, 0.0, -0.7]);
  const ex = await Explainer.load(model);
  const targets = [2, 0, 1];
  const r = await ex.attribute({ data: x6, dims: [3, 6] }, { target: targets });
  const fd = await centralDifferences(x6, 1e-3, async (v) => (await run(model, v, 6)).probabilities, (i) => Math.floor(i / 6) * 3 + targets[Math.floor(i / 6)]);
  assert.ok(relL2(r.attributions.data, fd) < 2e-3, `rel L2 ${relL2(r.attributions.data, fd)}`);
  assert.ok([1, 4].every((c) => r.attributions.data[c] === 0), 'binarized columns have gradient 0');
  const d = await ex.attribute({ data: x6, dims: [3, 6] }, { target: targets, method: 'deeplift' });
  for (const delta of d.delta!) assert.ok(Math.abs(delta) < 1e-6, `delta ${delta}`);
});

/** Two depth-1 trees over features 0 and 2 voting for three classes (no ZipMap). */
function treeEnsemble(): Uint8Array {
  const node = ml('TreeEnsembleClassifier', ['X'], ['label', 'probabilities'], [
    ints('nodes_treeids', [0, 0, 0, 1, 1, 1]), ints('nodes_nodeids', [0, 1, 2, 0, 1, 2]), ints('nodes_featureids', [0, 0, 0, 2, 0, 0]),
    { name: 'nodes_modes', type: AttrType.STRINGS, strings: ['BRANCH_LEQ', 'LEAF', 'LEAF', 'BRANCH_LEQ', 'LEAF', 'LEAF'].map((m) => new TextEncoder().encode(m)) },
    attr('nodes_values', floats([0.5, 0, 0, -0.2, 0, 0])), ints('nodes_truenodeids', [1, 0, 0, 1, 0, 0]), ints('nodes_falsenodeids', [2, 0, 0, 2, 0, 0]),
    ints('class_treeids', [0, 0, 1, 1]), ints('class_nodeids', [1, 2, 1, 2]), ints('class_ids', [0, 1, 1, 2]), attr('class_weights', floats([0.7, 0.6, 0.4, 0.9])),
    ints('classlabels_int64s', [0, 1, 2]),
  ]);
  return encodeModel({
    ir_version: 8, opset_import: [{ domain: '', version: 13 }, { domain: 'ai.onnx.ml', version: 3 }],
    graph: { name: 'trees', node: [node], input: [valueInfo('X', DataType.FLOAT, ['N', F])], output: [valueInfo('label', DataType.INT64, ['N']), valueInfo('probabilities', DataType.FLOAT, ['N', 3])] },
  });
}

test('tree ensemble: feature ablation equals a loop of onnxruntime forwards with one feature zeroed; gradient methods are refused naming the node and the forward-only methods', async () => {
  const model = treeEnsemble();
  const ex = await Explainer.load(model);
  const targets = [1, 2, 0];
  const r = await ex.attribute({ data: x, dims: [3, F] }, { target: targets, method: 'feature-ablation' });
  const base = (await run(model, x)).probabilities;
  const want = new Float32Array(3 * F);
  for (let f = 0; f < F; f++) {
    const ablated = x.map((v, i) => (i % F === f ? 0 : v));
    const p = (await run(model, ablated)).probabilities;
    targets.forEach((t, row) => { want[row * F + f] = base[row * 3 + t] - p[row * 3 + t]; });
  }
  assert.equal(Array.from(r.attributions.data), Array.from(want));
  assert.ok(want.some((v) => v !== 0));
  const err = await ex.attribute({ data: x, dims: [3, F] }, { target: targets }).catch((e: Error) => e);
  assert.match((err as Error).message, /node 'TreeEnsembleClassifier' \(ai\.onnx\.ml\.TreeEnsembleClassifier, opset 3\) is a tree ensemble, piecewise constant in its input: no gradient or multiplier passes it; use a method that only runs the model forward \(feature-ablation, shapley-value-sampling, kernel-shap, lime, occlusion\)$/);
});

test.run();
