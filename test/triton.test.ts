import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as ort from 'onnxruntime-node';
import * as path from 'path';
import * as protobuf from 'protobufjs';
import { parse } from 'prototxt-parser';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeModel } from '../rewriter/proto';
import { Explainer, tritonConfig } from '../runtime';
import { cliFailsWith, preloadScript, runCli, runCliProcess, tempDir } from './support/cli-harness';
import { loadFixture, relL2 } from './support/fixtures';

const dir = tempDir('triton');
const SCHEMA = path.resolve(__dirname, '../../test/support/triton/model-config-subset.proto');
const ModelConfig = new protobuf.Root().loadSync(SCHEMA, { keepCase: true }).lookupType('inference.ModelConfig');

/**
 * Checks a parsed text-format message against the schema: every field exists, repeated fields
 * hold lists, enums name a value, scalars have the field's type. Returns the message with
 * repeated fields as arrays (the text parser gives a single occurrence as a plain value).
 */
function conform(type: protobuf.Type, value: Record<string, unknown>, where: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    const field = type.fields[key];
    assert.ok(field, `${where}: '${key}' is not a field of ${type.name}`);
    field.resolve();
    const items = field.repeated ? (Array.isArray(v) ? v : [v]) : [v];
    if (!field.repeated) assert.not.ok(Array.isArray(v), `${where}.${key}: given several times, not repeated`);
    const checked = items.map((item, k) => {
      const at = `${where}.${key}${field.repeated ? `[${k}]` : ''}`;
      if (field.resolvedType instanceof protobuf.Type) return conform(field.resolvedType, (item ?? {}) as Record<string, unknown>, at);
      if (field.resolvedType instanceof protobuf.Enum) {
        assert.ok(typeof item === 'string' && item in field.resolvedType.values, `${at}: '${item}' is not a ${field.resolvedType.name}`);
        return item;
      }
      if (field.type === 'string') assert.type(item, 'string', at);
      else if (field.type === 'bool') assert.type(item, 'boolean', at);
      else assert.ok(Number.isInteger(item) && (!field.type.startsWith('u') || (item as number) >= 0), `${at}: ${item} is not a ${field.type}`);
      return item;
    });
    out[key] = field.repeated ? checked : checked[0];
  }
  return out;
}

function readConfig(file: string): Record<string, unknown> {
  const config = conform(ModelConfig, parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>, 'config');
  // Through the binary encoding and back: nothing lost or reinterpreted.
  const back = ModelConfig.toObject(ModelConfig.decode(ModelConfig.encode(ModelConfig.fromObject(config)).finish()), { enums: String, longs: Number });
  assert.equal(back, config, 'binary round trip');
  return config;
}

type Tensor = { name: string; data_type: string; dims: number[]; reshape?: Record<string, unknown> };

test('export-triton writes a model repository whose config.pbtxt parses against Triton\'s ModelConfig and declares the graph\'s tensors', async () => {
  const fx = loadFixture('resnet_bn');
  const r = await runCli(['export-triton', fx.model, '--method', 'deeplift', '--out', path.join(dir, 'repo'), '--name', 'resnet_deeplift', '--max-batch', '8']);
  assert.is(r.code, 0, r.err.join('|'));
  const config = readConfig(path.join(dir, 'repo', 'resnet_deeplift', 'config.pbtxt'));
  assert.is(config.name, 'resnet_deeplift');
  assert.is(config.backend, 'onnxruntime');
  assert.is(config.max_batch_size, 8);
  assert.ok(config.dynamic_batching, 'dynamic batching');
  const model = decodeModel(fs.readFileSync(path.join(dir, 'repo', 'resnet_deeplift', '1', 'model.onnx')));
  const row = fx.input.dims.slice(1);
  const declared = (list: unknown) => (list as Tensor[]).map((t) => [t.name, t.data_type, t.dims, t.reshape ? 'reshape' : '']);
  assert.equal(declared(config.input), [['input', 'TYPE_FP32', row, ''], ['seed', 'TYPE_FP32', [7], ''], ['baseline', 'TYPE_FP32', row, '']]);
  assert.equal(declared(config.output), [['output', 'TYPE_FP32', [7], ''], ['attribution', 'TYPE_FP32', row, ''], ['delta', 'TYPE_FP32', [1], 'reshape']]);
  assert.equal((config.input as Tensor[]).map((t) => t.name), model.graph!.input!.map((i) => i.name), 'the graph\'s inputs');
  assert.equal((config.output as Tensor[]).map((t) => t.name), model.graph!.output!.map((o) => o.name), 'the graph\'s outputs');
});

// The README says exports that fix their batch are batch-freed for Triton too: their outputs lost the declared shape
// with the fixed batch, and export-triton refused ("has no tensor type and shape Triton can declare").
test('export-triton of an export that fixes batch 4 (batch-freed): the outputs are declared with the probed shapes and the batch dynamic', async () => {
  const fx = loadFixture('batch4_reshape');
  const r = await runCli(['export-triton', fx.model, '--method', 'gradient', '--out', path.join(dir, 'repo'), '--name', 'fixed4']);
  assert.is(r.code, 0, r.err.join('|'));
  const config = readConfig(path.join(dir, 'repo', 'fixed4', 'config.pbtxt'));
  assert.is(config.max_batch_size, 32);
  const classes = (await (await Explainer.load(fx.model)).attribute(fx.input, { target: 0 })).outputs.output.dims[1];
  assert.equal((config.output as Tensor[]).map((t) => [t.name, t.dims]), [['output', [classes]], ['attribution', fx.input.dims.slice(1)]]);
  // The API's augmented graph declares them too.
  const { model } = await (await Explainer.load(fx.model)).augmented(fx.input.dims.slice(1), { method: 'gradient' });
  assert.match(tritonConfig({ name: 'fixed4', model, maxBatchSize: 8 }), new RegExp(`output \\{\\n  name: "output"\\n  data_type: TYPE_FP32\\n  dims: ${classes}\\n\\}`));
});

test('the exported model answers a batch formed from separate requests as each request alone (what dynamic batching does)', async () => {
  const fx = loadFixture('resnet_bn');
  const file = path.join(dir, 'repo', 'resnet_deeplift', '1', 'model.onnx');
  const session = await ort.InferenceSession.create(file, { logSeverityLevel: 4 });
  const n = fx.input.dims[0];
  const row = fx.input.data.length / n;
  const seed = new Float32Array(n * 7);
  fx.meta.target.forEach((t, r) => { seed[r * 7 + t] = 1; });
  const baseline = Float32Array.from({ length: fx.input.data.length }, (_, i) => 0.1 * Math.sin(i));
  const batched = await session.run({
    input: new ort.Tensor('float32', fx.input.data, fx.input.dims), seed: new ort.Tensor('float32', seed, [n, 7]), baseline: new ort.Tensor('float32', baseline, fx.input.dims),
  });
  const ex = await Explainer.load(fx.model);
  for (let r = 0; r < n; r++) {
    const one = await ex.attribute({ data: fx.input.data.slice(r * row, (r + 1) * row), dims: [1, ...fx.input.dims.slice(1)] }, { method: 'deeplift', target: fx.meta.target[r], baseline: { data: baseline.slice(r * row, (r + 1) * row), dims: [1, ...fx.input.dims.slice(1)] } });
    const got = (batched.attribution.data as Float32Array).slice(r * row, (r + 1) * row);
    assert.ok(relL2(got, one.attributions.data) <= 1e-5, `row ${r}: rel L2 ${relL2(got, one.attributions.data)}`);
    assert.ok(Math.abs((batched.delta.data as Float32Array)[r] - one.delta![0]) <= 1e-4, `row ${r}: delta`);
  }
  await session.release();
});

test('export-triton: a gradient method has no baseline input; bad names and batch sizes are one-line errors', async () => {
  const fx = loadFixture('mlp');
  const r = await runCli(['export-triton', fx.model, '--method', 'gradient', '--out', path.join(dir, 'repo')]);
  assert.is(r.code, 0, r.err.join('|'));
  const config = readConfig(path.join(dir, 'repo', 'model-gradient', 'config.pbtxt'));
  assert.equal((config.input as Tensor[]).map((t) => t.name), ['input', 'seed']);
  const protect = [fx.model];
  await cliFailsWith(['export-triton', fx.model, '--out', path.join(dir, 'repo'), '--name', 'a b'], /model name 'a b' may use letters/, protect);
  await cliFailsWith(['export-triton', fx.model, '--out', path.join(dir, 'repo'), '--max-batch', '0'], /--max-batch: 0 must be from 1 to 2147483647/, protect);
  await cliFailsWith(['export-triton', fx.model], /--out REPO .* is required/, protect);
  // Another model's version 2 was left beside the new config, and Triton serves the latest version.
  fs.mkdirSync(path.join(dir, 'repo', 'model-gradient', '2'));
  const before = fs.readFileSync(path.join(dir, 'repo', 'model-gradient', 'config.pbtxt'));
  await cliFailsWith(['export-triton', fx.model, '--method', 'deeplift', '--name', 'model-gradient', '--out', path.join(dir, 'repo')], /model-gradient holds version 2, which Triton would serve instead of the 1\/model\.onnx written here: remove it or give another --name$/, protect);
  assert.equal(fs.readFileSync(path.join(dir, 'repo', 'model-gradient', 'config.pbtxt')), before, 'config unchanged');
  fs.rmdirSync(path.join(dir, 'repo', 'model-gradient', '2'));
  // Methods rewrite saves but Triton cannot batch, and methods of several graphs, are refused with the reason (help offered them).
  await cliFailsWith(['export-triton', fx.model, '--out', path.join(dir, 'ig'), '--method', 'integrated-gradients'], /method 'integrated-gradients' takes the path's alphas and weights, which are no rows for Triton to batch; onnx-explain rewrite saves its graph \(methods: gradient, .*grad-cam\)$/, protect);
  await cliFailsWith(['export-triton', fx.model, '--out', path.join(dir, 'occ'), '--method', 'occlusion'], /method 'occlusion' runs several graphs/, protect);
  assert.not.ok(fs.existsSync(path.join(dir, 'ig')) || fs.existsSync(path.join(dir, 'occ')));
  const help = await runCli(['export-triton', '--help']);
  const offered = help.out.join('\n').match(/--method M +(.*) \(default gradient\)/)![1].split(' | ');
  assert.equal(offered, ['gradient', 'saliency', 'input-x-gradient', 'deeplift', 'guided-backprop', 'deconvnet', 'lrp-epsilon', 'lrp-alphabeta', 'lrp-zplus', 'lrp-epsilon-plus', 'lrp-epsilon-plus-flat', 'lrp-epsilon-alpha2-beta1', 'lrp-epsilon-alpha2-beta1-flat', 'lrp-epsilon-gamma-box', 'cam', 'grad-cam', 'guided-grad-cam']);
});

test.after(() => fs.rmSync(dir, { recursive: true, force: true }));

// A write that failed (a full disk, a file-size limit) left REPO/NAME/1/ behind, empty or with the model but no config.
test('export-triton whose write fails leaves no folder behind', () => {
  const repo = path.join(dir, 'limited', 'repo');
  const r = spawnSync('bash', ['-c', `ulimit -f 8; "${process.execPath}" "${path.resolve(__dirname, '../../bin/onnx-explain.js')}" export-triton "${loadFixture('cnn_maxpool').model}" --out "${repo}"`], { encoding: 'utf8', timeout: 60_000 });
  assert.is(r.status, 1, r.stderr);
  assert.match(r.stderr, /^onnx-explain: error: .*model\.onnx: larger than the file-size limit \(ulimit -f\)\n$/);
  assert.not.ok(fs.existsSync(path.join(dir, 'limited')), 'the folders it made are gone');
});

test('export-triton replacing an export never leaves the old config.pbtxt beside the new model: a run killed between the two writes leaves no config (moved aside, then removed by the next run); a write that fails puts the old pair back', () => {
  const repo = path.join(dir, 'replace');
  const model = loadFixture('cnn_maxpool').model;
  const config = path.join(repo, 'm', 'config.pbtxt');
  const modelFile = path.join(repo, 'm', '1', 'model.onnx');
  const run = (method: string, preload?: string) => runCliProcess(['export-triton', model, '--method', method, '--name', 'm', '--out', repo], preload);
  const hook = (name: string, body: string) => preloadScript(dir, name, body);
  assert.is(run('gradient').status, 0);
  const gradientConfig = fs.readFileSync(config, 'utf8');
  const gradientModel = fs.readFileSync(modelFile);
  // Killed right after the new model's rename.
  const killed = run('deeplift', hook('kill.js', "const r = fs.renameSync; fs.renameSync = function (a, b) { r(a, b); if (String(b).endsWith('model.onnx')) process.kill(process.pid, 'SIGKILL'); };"));
  assert.is(killed.signal, 'SIGKILL');
  assert.ok(decodeModel(fs.readFileSync(modelFile)).graph!.input!.some((i) => i.name === 'baseline'), 'the new (deeplift) model');
  assert.not.ok(fs.existsSync(config), 'no config describing the gradient graph beside it');
  assert.equal(fs.readdirSync(path.join(repo, 'm')).filter((f) => f.includes('.tmp-')).length, 1, 'the old config moved aside');
  assert.is(run('gradient').status, 0);
  assert.equal(fs.readdirSync(path.join(repo, 'm')).sort(), ['1', 'config.pbtxt'], 'swept by the next run');
  assert.equal(fs.readdirSync(path.join(repo, 'm', '1')), ['model.onnx'], 'the old model moved aside, swept too');
  // The config's write fails (a full disk once the model took the space), then the model's: the old pair is put back.
  assert.is(run('gradient').status, 0);
  const noConfig = run('deeplift', hook('enospc-config.js', "const o = fs.openSync; fs.openSync = function (f, ...a) { if (/config\\.pbtxt\\.tmp-/.test(String(f))) throw Object.assign(new Error('ENOSPC'), { code: 'ENOSPC' }); return o.call(this, f, ...a); };"));
  assert.is(noConfig.status, 1, noConfig.stderr);
  assert.match(noConfig.stderr, /^onnx-explain: error: .*config\.pbtxt: no space left on the device\n$/);
  assert.is(fs.readFileSync(config, 'utf8'), gradientConfig);
  assert.ok(fs.readFileSync(modelFile).equals(gradientModel));
  assert.equal(fs.readdirSync(path.join(repo, 'm')).sort(), ['1', 'config.pbtxt']);
  assert.equal(fs.readdirSync(path.join(repo, 'm', '1')), ['model.onnx']);
  const noModel = run('deeplift', hook('enospc-model.js', "const o = fs.openSync; fs.openSync = function (f, ...a) { if (/model\\.onnx\\.tmp-/.test(String(f))) throw Object.assign(new Error('ENOSPC'), { code: 'ENOSPC' }); return o.call(this, f, ...a); };"));
  assert.is(noModel.status, 1, noModel.stderr);
  assert.is(fs.readFileSync(config, 'utf8'), gradientConfig);
  assert.ok(fs.readFileSync(modelFile).equals(gradientModel));
  assert.equal(fs.readdirSync(path.join(repo, 'm')).sort(), ['1', 'config.pbtxt']);
});

test.run();
