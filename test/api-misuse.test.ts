import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AttributeOptions, AttributeRequest, ContrastiveExplainer, ContrastLoadOptions, ContrastOptions, Explainer, ExplainerOptions, ExplainError, filterSensitivity, FilterOptions, folderCache, maximizationGraph, maximize, MaximizeOptions, TensorInput, tritonConfig, TritonSpec, visualize, VisualizeOptions } from '../runtime';
import { apiFailsWith, tempDir } from './support/cli-harness';
import { readNpy } from '../runtime/node/npy-file';
import { Emitter } from '../rewriter/emitter';
import { DataType, encodeModel, ModelProto, valueInfo } from '../rewriter/proto';
import { loadFixture } from './support/fixtures';

// What a JavaScript caller (no compiler to catch it) gets for mistakes in the API's arguments: one
// ExplainError line naming the argument — never a TypeError from inside, nor a result computed as
// if the mistake were not there.
const ROOT = path.resolve(__dirname, '../..');
const fx = loadFixture('cnn_maxpool');
const x = fx.input;
const row = { data: x.data.slice(0, x.data.length / x.dims[0]), dims: [1, ...x.dims.slice(1)] };
const fails = (run: () => Promise<unknown>, cause: RegExp, what: string) => apiFailsWith(run, cause, what, []);
const loose = (o: Record<string, unknown>) => o as unknown as AttributeRequest;

test('attribute refuses unknown option names and options that are not an object, rather than ignoring them', async () => {
  const ex = await Explainer.load(fx.model);
  await fails(() => ex.attribute(row, loose({ targets: 3 })), /unknown option 'targets'/, 'targets');
  await fails(() => ex.attribute(row, loose({ method: 'integrated-gradients', n_steps: 8 })), /unknown option 'n_steps'/, "Captum's n_steps");
  await fails(() => ex.attribute(row, 'deeplift' as unknown as AttributeRequest), /options must be an object.*"deeplift"/, 'a method name for the options');
  await fails(() => ex.attribute(row, null as unknown as AttributeRequest), /options must be an object.*null/, 'null options');
  await fails(() => ex.attribute(row, loose({ method: 'occlusion', window: [3, 4, 4], progress: 5 })), /progress must be a function/, 'progress');
  await fails(() => ex.attribute(row, loose({ noiseTunnel: 'smoothgrad', seed: NaN })), /seed NaN is not an integer/, 'seed NaN');
  await fails(() => ex.attribute(row, loose({ method: 'grad-cam', upsample: true, interpolate: 'bicubic' })), /interpolate 'bicubic'/, 'interpolate');
  await fails(() => ex.attribute(row, loose({ method: 'integrated-gradients', baselineToken: '0' })), /baselineToken "0" is not a token id/, 'baselineToken as a string');
  // Every documented option is still taken.
  const r = await ex.attribute(row, { method: 'occlusion', window: [3, 4, 4], stride: 4, fill: 'random', seed: 2, internalBatchSize: 8, target: 1, progress: () => undefined });
  assert.equal(r.targets, [1]);
});

test('attribute refuses an option its method does not read, as the CLI and Captum (a keyword the method does not take) do', async () => {
  const ex = await Explainer.load(fx.model);
  await fails(() => ex.attribute(row, { method: 'gradient', steps: 8 }), /^attribute: option 'steps' applies to integrated-gradients, internal-influence, layer-conductance and neuron-conductance, not to method 'gradient'$/, 'steps with gradient');
  await fails(() => ex.attribute(row, { method: 'deeplift', epsilon: 0.1 }), /option 'epsilon' applies to the LRP methods \(lrp-\*\), not to method 'deeplift'/, 'epsilon with deeplift');
  await fails(() => ex.attribute(row, { window: [3, 4, 4] }), /option 'window' applies to occlusion, not to method 'gradient'/, 'window with the default method');
  await fails(() => ex.attribute(row, { method: 'integrated-gradients', upsample: true }), /option 'upsample' applies to cam, grad-cam and guided-grad-cam, not to method 'integrated-gradients'/, 'upsample with integrated-gradients');
  await fails(() => ex.attribute(row, { seed: 3 }), /option 'seed' applies to .* \(or to any method with option 'noiseTunnel'\), not to method 'gradient'/, 'seed without a noise tunnel');
  // A random fill reads the seed in every perturbation method (review: feature-ablation and shapley-values were refused it).
  for (const method of ['feature-ablation', 'shapley-values'] as const) {
    const run = (seed: number) => ex.attribute(row, { method, fill: 'random', seed, featureMask: { data: Int32Array.from({ length: row.data.length }, (_, i) => i % 3), dims: row.dims }, target: 1 });
    assert.not.equal(Array.from((await run(5)).attributions.data), Array.from((await run(6)).attributions.data), `${method}: the seed draws the fill`);
  }
  // CAM reads relu (no ReLU by default); inside a noise tunnel any method reads the seed; an option left undefined is not given.
  const cam = path.join(ROOT, 'models/cam-fixtures/cam_gap');
  const camRow = readNpy(path.join(cam, 'input.npy'));
  const maps = await (await Explainer.load(path.join(cam, 'model.onnx'))).attribute({ data: camRow.data as Float32Array, dims: camRow.dims }, { method: 'cam', relu: true });
  assert.ok(Array.prototype.every.call(maps.attributions.data, (v: number) => v >= 0), 'CAM with relu: true');
  const r = await ex.attribute(row, { noiseTunnel: 'smoothgrad', seed: 3, samples: 2, steps: undefined, target: 1 });
  assert.equal(r.targets, [1]);
});

test('load, explain, maximize, filterSensitivity and visualize refuse unknown option names (a misspelt provider ran on the default)', async () => {
  await fails(() => Explainer.load(fx.model, { provder: 'cuda' } as unknown as ExplainerOptions), /Explainer\.load: unknown option 'provder' \(options: provider, /, 'provder');
  await fails(() => Explainer.load(fx.model, 'cpu' as unknown as ExplainerOptions), /Explainer\.load: the options must be an object/, 'a provider name for the options');
  // Options of the wrong kind failed as TypeErrors inside (options.cache.modelId is not a function, warnSink is not a function, fed.includes …).
  for (const [given, cause] of [[{ cache: -1 }, /cache must be a GraphCache/], [{ warn: '' }, /warn must be a function/], [{ fed: true }, /fed must be a list of input names/], [{ wrt: Object.create(null) }, /wrt must be an input name/], [{ unbatched: 1 }, /unbatched must be true or false/]] as const) {
    await fails(() => Explainer.load(fx.model, given as unknown as ExplainerOptions), cause, JSON.stringify(given));
  }
  const cdeepex = path.join(ROOT, 'models/cdeepex/clean');
  await fails(() => ContrastiveExplainer.load(path.join(cdeepex, 'classifier.onnx'), path.join(cdeepex, 'generator.onnx'), { outputs: 'logits' } as unknown as ContrastLoadOptions), /unknown option 'outputs'/, 'outputs');
  const ce = await ContrastiveExplainer.load(path.join(cdeepex, 'classifier.onnx'), path.join(cdeepex, 'generator.onnx'), { output: 'logits', provider: 'cpu' });
  const digit = { data: new Float32Array(256).fill(0.5), dims: [1, 1, 16, 16] };
  await fails(() => ce.explain(digit, { trueClass: 1, probe: 8, max_outer: 3 } as unknown as ContrastOptions), /ContrastiveExplainer\.explain: unknown option 'max_outer' \(options: trueClass, probe, method, progress, starts, /, 'explain');
  const ex = await Explainer.load(fx.model);
  await fails(() => maximize(ex, { target: 1, learning_rate: 0.1 } as unknown as MaximizeOptions), /maximize: unknown option 'learning_rate'/, 'maximize');
  await fails(() => filterSensitivity(ex, row, { layer: 'x', k: 3 } as unknown as FilterOptions), /filterSensitivity: unknown option 'k'/, 'filterSensitivity');
  // Boxes and a progress callback of the wrong kind failed as TypeErrors inside (boxIndices, progress is not a function).
  for (const boxes of [[[[0, 2], 5, [0, 4]]], 'abc', {}]) {
    await fails(() => filterSensitivity(ex, row, { layer: 'x', boxes } as unknown as FilterOptions), /filterSensitivity: boxes must be a list of boxes/, `boxes ${JSON.stringify(boxes)}`);
  }
  await fails(() => filterSensitivity(ex, row, { layer: 'x', progress: 1 } as unknown as FilterOptions), /filterSensitivity: progress must be a function/, 'progress 1');
  assert.throws(() => visualize({ columns: [{ title: 't', attributions: row }] }, { outlier_perc: 1 } as unknown as VisualizeOptions), /visualize: unknown option 'outlier_perc'/);
});

test('graph, camLayer, maximizationGraph, tritonConfig and folderCache refuse unknown option names as attribute and maximize do (graph({ metod }) built the plain gradient graph, maximizationGraph({ lpweight }) one without the Lp term); explain without a probe names it', async () => {
  const ex = await Explainer.load(fx.model);
  const rowDims = x.dims.slice(1);
  await fails(() => ex.graph(rowDims, { metod: 'deeplift' } as never), /graph: unknown option 'metod'/, 'graph');
  // camLayer({ layer: 'x' }) named the default layer as if 'x' were it.
  await fails(() => ex.camLayer(rowDims, { layer: 'x' } as never), /^camLayer: unknown option 'layer' \(options: output, explainSoftmax, method, onehotAxis, feeds\)$/, 'camLayer');
  await fails(() => maximizationGraph(ex, { target: 1, lpweight: 1 } as unknown as MaximizeOptions, rowDims), /maximizationGraph: unknown option 'lpweight'/, 'maximizationGraph');
  const model = await ex.graph(rowDims);
  assert.throws(() => tritonConfig({ name: 'm', model, maxBatchSize: 4, max_batch_size: 8 } as unknown as TritonSpec), /tritonConfig: unknown option 'max_batch_size'/);
  assert.throws(() => folderCache(tempDir('api-misuse-cache'), { maxbytes: 1 } as unknown as { maxBytes: number }), /folderCache: unknown option 'maxbytes'/);
  const cdeepex = path.join(ROOT, 'models/cdeepex/clean');
  const ce = await ContrastiveExplainer.load(path.join(cdeepex, 'classifier.onnx'), path.join(cdeepex, 'generator.onnx'));
  await fails(() => ce.explain({ data: new Float32Array(256), dims: [1, 1, 16, 16] }, { trueClass: 9 } as unknown as ContrastOptions), /ContrastiveExplainer\.explain: probe \(class B of "why A and not B\?"\) is required/, 'no probe');
});

test('seeds are integers from 0 to 2³² − 1 in every call that takes one (2³² repeated seed 0, 1.5 ran as 1); filterSensitivity without a layer and ContrastiveExplainer.load\'s unknown options name their call', async () => {
  const ex = await Explainer.load(fx.model);
  const bad = [2 ** 32, 1.5, -1, '3'];
  for (const seed of bad) {
    const cause = new RegExp(`seed ${String(seed).replace('.', '\\.')} is not an integer from 0 to 4294967295$`);
    await fails(() => ex.attribute(row, loose({ method: 'occlusion', window: [3, 4, 4], fill: 'random', seed })), cause, `attribute ${seed}`);
    await fails(() => maximize(ex, { target: 1, stages: 1, steps: 1, seed } as unknown as MaximizeOptions), cause, `maximize ${seed}`);
    await fails(() => filterSensitivity(ex, row, { layer: 'x', window: [3, 4, 4], fill: 'random', seed } as unknown as FilterOptions), cause, `filterSensitivity ${seed}`);
  }
  const top = await maximize(ex, { target: 1, stages: 1, steps: 1, seed: 2 ** 32 - 1 });
  assert.ok(Number.isFinite(top.final), 'the largest seed is taken');
  await fails(() => filterSensitivity(ex, row, {} as unknown as FilterOptions), /^filterSensitivity: layer \(the tensor whose channels are ranked, a name from info --layers\) is required$/, 'no layer');
  const cdeepex = path.join(ROOT, 'models/cdeepex/clean');
  const [d, g] = [path.join(cdeepex, 'classifier.onnx'), path.join(cdeepex, 'generator.onnx')];
  await fails(() => ContrastiveExplainer.load(d, g, { outptu: 'logits' } as unknown as ContrastLoadOptions), /^ContrastiveExplainer\.load: unknown option 'outptu' \(options: provider, .*output, generatorFeeds\)$/, 'load');
  const ce = await ContrastiveExplainer.load(d, g);
  await fails(() => ce.explain({ data: new Float32Array(256), dims: [1, 1, 16, 16] }, { trueClass: 1, probe: 8, seed: 2 ** 32 }), /^contrast: seed 4294967296 is not an integer from 0 to 4294967295$/, 'contrast');
});

test('augmented() given a row shape with its batch (axis 0 of the model dynamic) says a row shape leaves the batch out', async () => {
  const ex = await Explainer.load(fx.model);
  await fails(() => ex.augmented([1, ...row.dims.slice(1)]), /one axis too many — where axis 0 of the model's input is its batch, a row shape \(augmented\(\), graph\(\), rewrite --shape\) leaves the batch out; where the model takes one sample/, 'row shape with the batch');
});

test('targets that are not indices are named as such', async () => {
  const ex = await Explainer.load(fx.model);
  await fails(() => ex.attribute(x, loose({ target: '3' })), /target "3" is not an index/, "target '3' for several rows");
  await fails(() => ex.attribute(row, loose({ target: '3' })), /target "3" is not an index/, "target '3' for one row");
  await fails(() => ex.attribute(row, loose({ target: null })), /target null is not an index/, 'target null');
  await fails(() => ex.attribute(row, loose({ target: 1, contrast: '2' })), /contrast "2" is not an index/, "contrast '2'");
  await fails(() => ex.attribute(row, { target: 1.5 }), /target 1\.5 is not an integer index/, 'target 1.5');
});

test('tensor arguments: dims, window, baseline and feature mask of the wrong kind or length', async () => {
  const ex = await Explainer.load(fx.model);
  await fails(() => ex.attribute({ data: row.data, dims: row.dims.map(String) } as unknown as TensorInput), /dims \[1,3,16,16\]; they must be integers/, 'dims as strings');
  await fails(() => ex.attribute({ data: row.data, dims: [-1, -3, 16, 16] }), /dims \[-1,-3,16,16\]; they must be integers/, 'negative dims');
  // A nested list was read as inputs given by name ("lack the explained input"), a typed array as "got object".
  await fails(() => ex.attribute([[0.5, 0.25]] as unknown as TensorInput), /input 'input' must be a tensor with data and dims \(or an ndarray\), got an array$/, 'a nested list');
  await fails(() => ex.attribute(row.data as unknown as TensorInput), /got a Float32Array without dims$/, 'a bare typed array');
  // uint64 data, a DataView and array-like dims reached a BigInt conversion, "undefined values" or dims.reduce.
  await fails(() => ex.attribute({ data: new BigUint64Array(row.data.length), dims: row.dims } as unknown as TensorInput), /is float32, got an uint64 array/, 'uint64 data');
  await fails(() => ex.attribute({ data: new DataView(new ArrayBuffer(4 * row.data.length)), dims: row.dims } as unknown as TensorInput), /data must be a typed array or a list of numbers/, 'a DataView');
  const arrayLike = await ex.attribute({ data: row.data, dims: { ...row.dims, length: row.dims.length } as unknown as number[] });
  assert.equal(arrayLike.attributions.dims, row.dims, 'array-like dims');
  await fails(() => ex.attribute(row, loose({ method: 'occlusion', window: 4 })), /occlusion window 4 is not a list/, 'window as a number');
  await fails(() => ex.attribute(row, loose({ method: 'deeplift', baseline: '0.5' })), /baseline must be a float tensor.*"0\.5"/, 'baseline as a string');
  await fails(() => ex.attribute(row, { method: 'deeplift', baseline: { data: new BigInt64Array(row.data.length), dims: row.dims } }), /baseline must be a float tensor.*int64/, 'baseline of int64');
  // The sampled baselines' driver read these as a TypeError ("reading 'length'").
  for (const method of ['gradient-shap', 'deeplift-shap']) {
    await fails(() => ex.attribute(row, loose({ method, baseline: [row] })), /baseline must be a float tensor.*got an array/, `${method}: a baseline tuple`);
    await fails(() => ex.attribute(row, loose({ method, baseline: '0.5' })), /baseline must be a float tensor.*"0\.5"/, `${method}: a baseline string`);
  }
  // augmented() (what export-triton's API builds on) took a misspelt option, which graph() refuses.
  await fails(() => ex.augmented(row.dims.slice(1), { method: 'gradient', foo: 1 } as AttributeOptions), /^augmented: unknown option 'foo'/, 'augmented: an unknown option');
  // Captum's scalar and tuple `baselines`: spread as an object, a number named no input and the call ran from zeros.
  for (const baselines of [0.5, [row], row, '0.5', true]) {
    await fails(() => ex.attribute(row, loose({ method: 'deeplift', baselines })), /baselines must be an object of baselines by input name.*is baseline, got/, `baselines ${JSON.stringify(baselines).slice(0, 20)}`);
  }
  const mask = { data: new Int32Array([0, 1, 2, 3]), dims: row.dims };
  for (const method of ['feature-ablation', 'shapley-values', 'kernel-shap', 'lime']) {
    await fails(() => ex.attribute(row, { method, featureMask: mask }), /feature mask has 4 values but shape \[1,3,16,16\] needs 768/, `${method}: a mask shorter than its dims`);
  }
  await fails(() => ex.attribute(row, loose({ method: 'feature-ablation', featureMask: new Int32Array(768) })), /featureMask must be a tensor \{ data, dims \}/, 'a mask without dims');
});

test('an integer input read only through a Cast to float takes its own integers (int64, int32) as the same float values; a float64 input names its type', async () => {
  const castModel = (type: number) => {
    const em = new Emitter(13, DataType.FLOAT, 'cast');
    em.rename(em.matmul(em.cast('x', DataType.FLOAT), em.constFloat([0.5, -1, 2, 0.25, -0.75, 1.5], [3, 2])), 'y');
    const model: ModelProto = { ir_version: 8, opset_import: [{ domain: '', version: 13 }], graph: { name: 'cast', node: em.nodes, initializer: em.initializers, input: [valueInfo('x', type, ['N', 3])], output: [valueInfo('y', DataType.FLOAT, ['N', 2])] } };
    return encodeModel(model);
  };
  const ints = await Explainer.load(castModel(DataType.INT64));
  const values = [3, -2, 7, 0, 5, -1];
  const asFloats = await ints.attribute({ data: Float32Array.from(values), dims: [2, 3] }, { method: 'input-x-gradient', target: 1 });
  // They were refused: "input 'x' is float32, got an int64 array", the type the model declares.
  for (const data of [BigInt64Array.from(values.map(BigInt)), Int32Array.from(values)]) {
    const got = await ints.attribute({ data, dims: [2, 3] }, { method: 'input-x-gradient', target: 1 });
    assert.equal(Array.from(got.attributions.data), Array.from(asFloats.attributions.data), data.constructor.name);
    assert.equal(Array.from(got.attributions.data), values.map((v, i) => Math.fround(v * [-1, 0.25, 1.5][i % 3])), `${data.constructor.name}: x·W column 1`);
  }
  const doubles = await Explainer.load(castModel(DataType.DOUBLE));
  await fails(() => doubles.attribute({ data: BigInt64Array.from(values.map(BigInt)), dims: [2, 3] }), /input 'x' is float64, got an int64 array$/, 'float64 input, int64 data');
});

test('visualize refuses unknown methods and signs and attributions whose data do not fill their dims', () => {
  const figure = { columns: [{ title: 't', attributions: row }] };
  const throws = (run: () => unknown, cause: RegExp, what: string) => {
    let err: unknown;
    try { run(); } catch (e) { err = e; }
    assert.instance(err, ExplainError, `${what}: ${err}`);
    assert.match((err as Error).message, cause, what);
  };
  throws(() => visualize(figure, { method: 'heatmap' } as unknown as VisualizeOptions), /method 'heatmap' is not one of heat_map/, 'method typo (drew a blank picture)');
  throws(() => visualize(figure, { sign: 'pos' } as unknown as VisualizeOptions), /sign 'pos' is not one of positive/, 'sign typo (a TypeError)');
  throws(() => visualize(figure, { maxRows: -1 }), /maxRows -1/, 'maxRows');
  throws(() => visualize(figure, { alpha: 7 }), /alpha 7/, 'alpha');
  throws(() => visualize({ columns: [{ title: 't', attributions: { data: new Float32Array(3), dims: row.dims } }] }), /column 't' has 3 values but shape \[1,3,16,16\] needs 768/, 'short data');
  assert.ok(visualize(figure, { method: 'heat_map', sign: 'all', alpha: 1, maxRows: 1 }).width > 0);
});

test('every package the published type declarations import is a dependency that brings its types', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  const declarations = (dir: string): string[] => fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? declarations(path.join(dir, e.name)) : e.name.endsWith('.d.ts') ? [path.join(dir, e.name)] : []));
  const imported = new Set(['runtime', 'rewriter', 'rules'].flatMap((d) => declarations(path.join(ROOT, 'dist', d))).flatMap((f) => [...fs.readFileSync(f, 'utf8').matchAll(/from '([^.'][^']*)'|import\('([^.'][^']*)'\)/g)].map((m) => (m[1] ?? m[2]).split('/').slice(0, (m[1] ?? m[2]).startsWith('@') ? 2 : 1).join('/'))));
  assert.ok(imported.has('ndarray'), 'the declarations name ndarray (TensorInput)');
  for (const name of imported) {
    // Where TypeScript finds the package's types from our declarations: its own, or an @types package (which must then be ours to install).
    const found = ts.resolveModuleName(name, path.join(ROOT, 'dist/runtime/index.d.ts'), { moduleResolution: ts.ModuleResolutionKind.Node10 }, ts.sys).resolvedModule?.resolvedFileName ?? '';
    const own = name in pkg.dependencies && found.endsWith('.d.ts') && !found.includes(`node_modules/@types/`);
    assert.ok(own || `@types/${name}` in pkg.dependencies, `'${name}' (types: ${found || 'none'}): a user compiling with strict (skipLibCheck off) gets TS7016 in our .d.ts, and with skipLibCheck TensorInput becomes any; add @types/${name} to dependencies`);
  }
});

test('onnx-explain/browser has type declarations: the README page code compiles in strict mode', () => {
  // Inside the package, so that TypeScript resolves 'onnx-explain/browser' through package.json's exports (as a user's bundler project does).
  const file = path.join(ROOT, 'dist/test/browser-types-check.ts');
  fs.writeFileSync(file, [
    "import { Explainer, encodeModel, decodeImage, rgbaImageData, visualize, ort } from 'onnx-explain/browser';",
    "export async function page(bytes: Uint8Array, blob: Blob): Promise<ImageData> {",
    "  ort.env.wasm.numThreads = 1;",
    "  const ex = await Explainer.load(bytes, { provider: 'webgpu' });",
    "  const r = await ex.attribute({ data: new Float32Array(3 * 224 * 224), dims: [1, 3, 224, 224] }, { method: 'deeplift', target: 207 });",
    "  const aug: Uint8Array = encodeModel((await ex.augmented([3, 224, 224], { method: 'deeplift' })).model);",
    "  const image = await decodeImage(blob);",
    "  return rgbaImageData(visualize({ columns: [{ title: String(aug.length + image.width), attributions: r.attributions }] }));",
    '}',
  ].join('\n'));
  try {
    const program = ts.createProgram([file], { strict: true, noEmit: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler, lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'], types: [] });
    const errors = ts.getPreEmitDiagnostics(program).map((d) => `${d.file ? path.relative(ROOT, d.file.fileName) : ''}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`);
    assert.equal(errors, []);
  } finally {
    fs.rmSync(file, { force: true });
  }
});

test.run();
