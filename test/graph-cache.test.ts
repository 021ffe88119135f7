import * as fs from 'fs';
import * as path from 'path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Explainer, folderCache, loadModel } from '../runtime';
import { encodeModel } from '../rewriter/proto';
import { runCli, tempDir } from './support/cli-harness';
import { loadFixture } from './support/fixtures';

const fx = loadFixture('resnet_bn');
const options = { method: 'deeplift', target: fx.meta.target };

/** Counts how often Explainers build an augmented graph (probe + rewrite) while f runs. */
async function builds(f: () => Promise<void>): Promise<number> {
  const original = Explainer.prototype.augmented;
  let n = 0;
  Explainer.prototype.augmented = function (...args) {
    n++;
    return original.apply(this, args);
  };
  try {
    await f();
  } finally {
    Explainer.prototype.augmented = original;
  }
  return n;
}

test('a second Explainer on the same folder cache reuses the graph: no rebuild, identical results', async () => {
  const dir = tempDir('cache');
  const fresh = await (await Explainer.load(fx.model)).attribute(fx.input, options);
  let first!: Awaited<ReturnType<Explainer['attribute']>>;
  assert.is(await builds(async () => { first = await (await Explainer.load(fx.model, { cache: folderCache(dir) })).attribute(fx.input, options); }), 1);
  assert.equal(fs.readdirSync(dir).map((f) => path.extname(f)).sort(), ['.json', '.onnx']);
  // On the CPU the entry is onnxruntime's optimised graph (its layout-optimised Conv domain).
  const stored = loadModel(path.join(dir, fs.readdirSync(dir).find((f) => f.endsWith('.onnx'))!));
  assert.ok((stored.opset_import ?? []).some((o) => o.domain === 'com.microsoft.nchwc'), 'the cached graph is onnxruntime\'s optimised one');
  let second!: typeof first;
  assert.is(await builds(async () => { second = await (await Explainer.load(fx.model, { cache: folderCache(dir) })).attribute(fx.input, options); }), 0);
  assert.equal(Array.from(second.attributions.data), Array.from(fresh.attributions.data));
  assert.equal(Array.from(second.delta!), Array.from(first.delta!));
  assert.equal(second.outputs, first.outputs);
});

test('the call that fills the cache runs the graph the later calls read (bit-identical even where rounding shows)', async () => {
  // An input with one value of 7e24 (a fuzz case): onnxruntime's optimised graph, read back, rounds
  // differently from the session that optimised it, so every call runs the stored graph.
  const t = loadFixture('transformer_op13');
  const x = { data: Float32Array.from(t.input.data), dims: t.input.dims };
  x.data[44] = 7.229832981269737e24;
  const opts = { method: 'guided-grad-cam', layer: '/body/k/MatMul_output_0', target: [3, 0, 2] };
  const dir = tempDir('cache-extreme');
  const run = async () => Array.from((await (await Explainer.load(t.model, { cache: folderCache(dir) })).attribute(x, opts)).attributions.data);
  const first = await run();
  assert.equal(await run(), first);
});

test('the cache key holds the model bytes and the graph options; a damaged entry is rebuilt', async () => {
  const dir = tempDir('cache-keys');
  const cache = folderCache(dir);
  await (await Explainer.load(fx.model, { cache })).attribute(fx.input, options);
  // Another method, another epsilon: other graphs.
  assert.is(await builds(async () => { await (await Explainer.load(fx.model, { cache })).attribute(fx.input, { ...options, method: 'gradient' }); }), 1);
  assert.is(await builds(async () => { await (await Explainer.load(fx.model, { cache })).attribute(fx.input, { ...options, method: 'lrp-epsilon', epsilon: 0.1 }); }), 1);
  assert.is(await builds(async () => { await (await Explainer.load(fx.model, { cache })).attribute(fx.input, { ...options, method: 'lrp-epsilon', epsilon: 0.2 }); }), 1);
  // Other bytes (here only the producer name differs): another model.
  const bytes = encodeModel({ ...loadModel(fx.model), producer_name: 'another' });
  assert.is(await builds(async () => { await (await Explainer.load(bytes, { cache })).attribute(fx.input, options); }), 1);
  // Damaged graph files: rebuilt, with the same numbers as without a cache.
  for (const f of fs.readdirSync(dir).filter((name) => name.endsWith('.onnx'))) fs.writeFileSync(path.join(dir, f), 'not a model');
  let r!: Awaited<ReturnType<Explainer['attribute']>>;
  assert.is(await builds(async () => { r = await (await Explainer.load(fx.model, { cache })).attribute(fx.input, options); }), 1);
  const fresh = await (await Explainer.load(fx.model)).attribute(fx.input, options);
  assert.equal(Array.from(r.attributions.data), Array.from(fresh.attributions.data));
});

test('CLI: --cache-dir keeps graphs between runs, --no-cache writes none, --threads is checked', async () => {
  const dir = tempDir('cli-cache');
  const cacheDir = path.join(dir, 'graphs');
  const input = path.join(path.dirname(fx.model), 'input.npy');
  const args = ['attribute', fx.model, '--input', input, '--method', 'deeplift', '--target', fx.meta.target.join(','), '--threads', '1'];
  const first = await runCli([...args, '--cache-dir', cacheDir]);
  assert.is(first.code, 0, first.err.join('|'));
  assert.is(fs.readdirSync(cacheDir).length, 2);
  let second!: Awaited<ReturnType<typeof runCli>>;
  assert.is(await builds(async () => { second = await runCli([...args, '--cache-dir', cacheDir]); }), 0);
  assert.equal(second.out, first.out);
  const none = path.join(dir, 'none');
  const saved = process.env.ONNX_EXPLAIN_CACHE_DIR;
  process.env.ONNX_EXPLAIN_CACHE_DIR = none;
  try {
    const r = await runCli([...args, '--no-cache']);
    assert.is(r.code, 0, r.err.join('|'));
    assert.not.ok(fs.existsSync(none), '--no-cache wrote a cache folder');
  } finally {
    if (saved === undefined) delete process.env.ONNX_EXPLAIN_CACHE_DIR;
    else process.env.ONNX_EXPLAIN_CACHE_DIR = saved;
  }
  const bad = await runCli([...args.slice(0, -2), '--threads', '0', '--no-cache']);
  assert.is(bad.code, 1);
  assert.equal(bad.err, ["onnx-explain: error: --threads: '0' must be at least 1"]);
});

test.run();
