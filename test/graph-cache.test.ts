import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Explainer, folderCache, loadModel } from '../runtime';
import { defaultCacheDir, defaultCacheLimit } from '../runtime/node/graph-cache';
import type { GraphCache } from '../runtime/graph-cache';
import { decodeProbe, encodeProbe, probeFacts } from '../runtime/probe';
import { encodeModel } from '../rewriter/proto';
import { runCli, tempDir } from './support/cli-harness';
import { loadFixture, relL2 } from './support/fixtures';

const fx = loadFixture('resnet_bn');
const options = { method: 'deeplift', target: fx.meta.target };
/** The CLI's DeepLIFT run on the fixture (the cache flags added by each test). */
const args = ['attribute', fx.model, '--input', path.join(path.dirname(fx.model), 'input.npy'), '--method', 'deeplift', '--target', fx.meta.target.join(','), '--threads', '1'];

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
  assert.equal(fs.readdirSync(dir).map((f) => f.replace(/^[0-9a-f]+/, '')).sort(), ['.json', '.onnx', '.probe.json']);
  // On the CPU the entry is onnxruntime's optimised graph (its layout-optimised Conv domain).
  const stored = loadModel(path.join(dir, fs.readdirSync(dir).find((f) => f.endsWith('.onnx'))!));
  assert.ok((stored.opset_import ?? []).some((o) => o.domain === 'com.microsoft.nchwc'), 'the cached graph is onnxruntime\'s optimised one');
  // Its sessions open it as it is: optimising it again found nothing, and took minutes on unrolled recurrent graphs.
  const entry = JSON.parse(fs.readFileSync(path.join(dir, fs.readdirSync(dir).find((f) => f.endsWith('.json') && !f.endsWith('.probe.json'))!), 'utf8'));
  assert.is(entry.info.level, 'disabled');
  let second!: typeof first;
  assert.is(await builds(async () => { second = await (await Explainer.load(fx.model, { cache: folderCache(dir) })).attribute(fx.input, options); }), 0);
  assert.equal(Array.from(second.attributions.data), Array.from(fresh.attributions.data));
  assert.equal(Array.from(second.delta!), Array.from(first.delta!));
  assert.equal(second.outputs, first.outputs);
});

test('Grad-CAM\'s default layer is named again when its graph comes from the cache', async () => {
  const dir = tempDir('cache-cam');
  const notes = async () => {
    const ex = await Explainer.load(fx.model, { cache: folderCache(dir), warn: () => {} });
    await ex.attribute(fx.input, { method: 'grad-cam', target: fx.meta.target });
    return ex.warnings.filter((w) => /^grad-cam: layer '/.test(w));
  };
  const first = await notes();
  assert.is(first.length, 1);
  assert.is(await builds(async () => assert.equal(await notes(), first)), 0);
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
  // Session options that change the graph onnxruntime optimises (Pad_Fusion back on) key other
  // graphs; those that set threads or logging do not.
  const fused = { extra: { optimization: { disable_specified_optimizers: '' } } };
  assert.is(await builds(async () => { await (await Explainer.load(fx.model, { cache, sessionOptions: fused })).attribute(fx.input, options); }), 1);
  assert.is(await builds(async () => { await (await Explainer.load(fx.model, { cache, sessionOptions: { ...fused, intraOpNumThreads: 1, logSeverityLevel: 3 } })).attribute(fx.input, options); }), 0);
  assert.is(await builds(async () => { await (await Explainer.load(fx.model, { cache, sessionOptions: { intraOpNumThreads: 1 } })).attribute(fx.input, options); }), 0);
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

/** A folder cache that counts the probes it is asked to store (a probe ran) and returns. */
function countingCache(dir: string): { cache: GraphCache; probes: () => number } {
  const cache = folderCache(dir);
  let n = 0;
  const put = cache.putProbe!;
  return { cache: { ...cache, putProbe: (key, probe) => { n++; return put(key, probe); } }, probes: () => n };
}

test('the probe is cached with the graphs: a later Explainer on another method neither probes nor differs', async () => {
  const t = loadFixture('transformer_op13');
  const dir = tempDir('cache-probe');
  const { cache, probes } = countingCache(dir);
  const first = await (await Explainer.load(t.model, { cache })).attribute(t.input, { method: 'gradient', target: t.meta.target });
  assert.is(probes(), 1);
  const [entry] = fs.readdirSync(dir).filter((f) => f.endsWith('.probe.json'));
  const later = await (await Explainer.load(t.model, { cache })).attribute(t.input, { method: 'deeplift', target: t.meta.target });
  assert.is(probes(), 1, 'the second Explainer probed again');
  const fresh = await (await Explainer.load(t.model)).attribute(t.input, { method: 'deeplift', target: t.meta.target });
  assert.equal(Array.from(later.attributions.data), Array.from(fresh.attributions.data));
  assert.ok(first.attributions.data.length > 0);
  // Another input shape is another probe; a damaged entry is probed again, with the same numbers.
  const longer = { data: new Float32Array(t.input.data.length * 2), dims: [t.input.dims[0] * 2, ...t.input.dims.slice(1)] };
  longer.data.set(t.input.data);
  longer.data.set(t.input.data, t.input.data.length);
  await (await Explainer.load(t.model, { cache })).attribute(longer, { method: 'deeplift', target: [...t.meta.target, ...t.meta.target] });
  assert.is(probes(), 1, 'the batch is not part of the probe');
  fs.writeFileSync(path.join(dir, entry), '{"key": "damaged"');
  const again = await (await Explainer.load(t.model, { cache })).attribute(t.input, { method: 'deeplift', target: t.meta.target });
  assert.is(probes(), 2);
  assert.equal(Array.from(again.attributions.data), Array.from(fresh.attributions.data));
});

test('a probe read back from its text has the same shapes, types, batch axes and values (non-finite ones too)', async () => {
  const t = loadFixture('misc_ops_op13');
  const probed = await probeFacts(loadModel(t.model), [{ name: 'input', elemType: 1, dims: [1, ...t.input.dims.slice(1)] }], 'x');
  probed.facts.shapes.set('made-up', [5]);
  probed.facts.values.set('made-up', [1.5, NaN, Infinity, -Infinity, -0.25]);
  const back = decodeProbe(encodeProbe(probed));
  assert.is(back.batchDynamic, probed.batchDynamic);
  assert.is(back.facts.batchBroadcasts, probed.facts.batchBroadcasts);
  for (const m of ['shapes', 'dtypes', 'batchAxis', 'values'] as const) assert.equal([...back.facts[m]], [...probed.facts[m]], m);
  assert.ok(probed.facts.values.size > 1 && probed.facts.shapes.size > 10 && probed.facts.batchAxis.size > 10);
});

test('CLI: --cache-dir keeps graphs between runs, --no-cache writes none, --threads is checked', async () => {
  const dir = tempDir('cli-cache');
  const cacheDir = path.join(dir, 'graphs');
  const first = await runCli([...args, '--cache-dir', cacheDir]);
  assert.is(first.code, 0, first.err.join('|'));
  assert.is(fs.readdirSync(cacheDir).length, 3);
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
  // info keeps its probe there too: the same lines from the cached probe.
  const infoDir = path.join(dir, 'info');
  const infos = [];
  for (let i = 0; i < 2; i++) infos.push(await runCli(['info', fx.model, '--layers', '--cache-dir', infoDir]));
  assert.equal(fs.readdirSync(infoDir).map((f) => f.replace(/^[0-9a-f]+/, '')), ['.probe.json']);
  assert.is(infos[0].code, 0);
  assert.equal(infos[1].out, infos[0].out);
  assert.ok(infos[0].out.some((l) => /\[N, \d+, \d+, \d+\]/.test(l)), 'info lists tensors with their shapes');
  const bad = await runCli([...args.slice(0, -2), '--threads', '0', '--no-cache']);
  assert.is(bad.code, 1);
  assert.equal(bad.err, ["onnx-explain: error: --threads: '0' must be at least 1"]);
});


test('processes with one pid (containers sharing the folder) filling one entry at once: each writes onnxruntime\'s graph to a path of its own, and an entry whose optimised file another took is not stored as ours', async () => {
  const dir = tempDir('cache-same-pid');
  // Caches of one process share its pid, as two containers' processes may.
  const [a, b] = [folderCache(dir), folderCache(dir)];
  const key = 'model/x/cpu/all/{}/gradient';
  assert.is.not(a.optimizedPath!(key), b.optimizedPath!(key));
  // The other process renamed the file this one's session wrote: nothing is stored (before, our own graph under info level 'disabled').
  const info = { fromDims: [10], batchDynamic: true, batchBroadcasts: true, level: 'disabled' as const };
  await a.put(key, { model: a.optimizedPath!(key)!, info });
  assert.is(await a.get(key), undefined);
  assert.equal(fs.readdirSync(dir), []);
  const results = await Promise.all([0, 1].map(async () => (await Explainer.load(fx.model, { cache: folderCache(dir) })).attribute(fx.input, options)));
  const fresh = await (await Explainer.load(fx.model)).attribute(fx.input, options);
  for (const r of results) assert.equal(Array.from(r.attributions.data), Array.from(fresh.attributions.data));
  assert.equal(fs.readdirSync(dir).filter((f) => /(tmp|optimized)-/.test(f)), [], 'no temporary file is left');
});

test('a cache folder onnxruntime cannot write its optimised graph to (a full disk; a folder whose access check passes only for root) leaves the graph uncached: the result as without the cache', async () => {
  const dir = tempDir('cache-unwritable');
  const base = folderCache(dir);
  // A path onnxruntime cannot open for writing, as in /sys or on a full disk.
  const cache: GraphCache = { ...base, optimizedPath: () => path.join(dir, 'no-such-folder', 'graph.onnx') };
  const r = await (await Explainer.load(fx.model, { cache })).attribute(fx.input, options);
  const fresh = await (await Explainer.load(fx.model)).attribute(fx.input, options);
  assert.equal(Array.from(r.attributions.data), Array.from(fresh.attributions.data));
  assert.not.ok(fs.readdirSync(dir).some((f) => f.endsWith('.onnx')), 'no entry stored');
  // Where onnxruntime writes part of the file and fails (a disk filling up; a file-size limit), the part
  // stayed (a 16 KB <key>.optimized-PID-hex per run), left to a trim that never runs on a full disk.
  const limited = tempDir('cache-limited');
  const r2 = spawnSync('bash', ['-c', `ulimit -f 16; "${process.execPath}" "${path.resolve(__dirname, '../../bin/onnx-explain.js')}" attribute "${fx.model}" --input "${path.join(path.dirname(fx.model), 'input.npy')}" --method deeplift --cache-dir "${limited}" --out "${path.join(limited, 'a.npy')}"`], { encoding: 'utf8', timeout: 60_000 });
  assert.is(r2.status, 0, r2.stderr);
  assert.equal(fs.readdirSync(limited).filter((f) => /optimized/.test(f)), [], 'no partial optimised graph left');
});

test('a cache entry that is a FIFO is a miss (the run waited forever for a writer), and a file in the cache folder\'s place runs uncached (exit 1 naming a temporary path)', async () => {
  const dir = tempDir('cache-special');
  const cacheDir = path.join(dir, 'graphs');
  const first = await runCli([...args, '--cache-dir', cacheDir]);
  assert.is(first.code, 0, first.err.join('|'));
  for (const f of fs.readdirSync(cacheDir).filter((f) => f.endsWith('.json'))) {
    fs.rmSync(path.join(cacheDir, f));
    assert.is(spawnSync('mkfifo', [path.join(cacheDir, f)]).status, 0);
  }
  const bin = path.resolve(__dirname, '../../bin/onnx-explain.js');
  const fifo = spawnSync(process.execPath, [bin, ...args, '--cache-dir', cacheDir], { encoding: 'utf8', timeout: 60_000 });
  assert.is(fifo.status, 0, `${fifo.signal ?? ''} ${fifo.stderr}`);
  assert.equal(fifo.stdout.trim().split('\n'), first.out);
  const file = path.join(dir, 'a-file');
  fs.writeFileSync(file, 'not a folder');
  const r = await runCli([...args, '--cache-dir', file]);
  assert.is(r.code, 0, r.err.join('|'));
  assert.equal(r.out, first.out);
  assert.is(fs.readFileSync(file, 'utf8'), 'not a folder');
});

test('the cache is one for every locale: a run under Turkish collation reads the entries a run under C wrote (it filed its own)', () => {
  const cacheDir = tempDir('cache-locale');
  const bin = path.resolve(__dirname, '../../bin/onnx-explain.js');
  const run = (locale: string) => spawnSync(process.execPath, [bin, ...args, '--cache-dir', cacheDir], { encoding: 'utf8', env: { ...process.env, LC_ALL: locale, LANG: locale } });
  const c = run('C.UTF-8');
  assert.is(c.status, 0, c.stderr);
  const files = fs.readdirSync(cacheDir).sort();
  const tr = run('tr_TR.UTF-8');
  assert.is(tr.status, 0, tr.stderr);
  assert.equal(tr.stdout, c.stdout);
  assert.equal(fs.readdirSync(cacheDir).sort(), files);
});

test('an entry another process removes between its writing and its reading: the call still gives the result, from the graph in memory', async () => {
  const dir = tempDir('cache-race');
  const base = folderCache(dir);
  const cache: GraphCache = {
    ...base,
    async get(key) {
      const g = await base.get(key);
      // As another process's trim would: the entry goes after it was found.
      if (g && typeof g.model === 'string') fs.rmSync(g.model);
      return g;
    },
  };
  const r = await (await Explainer.load(fx.model, { cache })).attribute(fx.input, options);
  const fresh = await (await Explainer.load(fx.model)).attribute(fx.input, options);
  assert.ok(relL2(r.attributions.data, fresh.attributions.data) < 1e-6);
});

test('a session released (maxSessions, release()) whose cache entry has gone since — trimmed by this or another process, a cleaner — is opened again from a rebuilt graph (calls failed in onnxruntime for good)', async () => {
  for (const mode of ['maxSessions', 'release'] as const) {
    const dir = tempDir('cache-gone');
    const ex = await Explainer.load(fx.model, { cache: folderCache(dir), ...(mode === 'maxSessions' ? { maxSessions: 1 } : {}) });
    const first = await ex.attribute(fx.input, { method: 'gradient', target: fx.meta.target });
    await ex.attribute(fx.input, options);
    if (mode === 'release') await ex.release();
    fs.rmSync(dir, { recursive: true, force: true });
    for (let k = 0; k < 2; k++) {
      const again = await ex.attribute(fx.input, { method: 'gradient', target: fx.meta.target });
      assert.equal(Array.from(again.attributions.data), Array.from(first.attributions.data), `${mode}, call ${k}`);
    }
  }
});

test('the folder is kept within its size and entry limits, least recently used entries first, never the one just written; stale temporary files go; a bad limit is one line', async () => {
  const methodsRun = ['gradient', 'deeplift', 'lrp-epsilon'];
  // Entry sizes from a first folder (the same keys give the same files).
  const sizing = tempDir('cache-sizes');
  for (const method of methodsRun) await (await Explainer.load(fx.model, { cache: folderCache(sizing) })).attribute(fx.input, { ...options, method });
  const total = fs.readdirSync(sizing).reduce((a, f) => a + fs.statSync(path.join(sizing, f)).size, 0);
  // One byte too few for all three graphs: one entry must go, the least recently used.
  const dir = tempDir('cache-limit');
  const cache = folderCache(dir, { maxBytes: total - 1 });
  const entries = () => fs.readdirSync(dir).filter((f) => f.endsWith('.json') && !f.endsWith('.probe.json')).map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')).key as string);
  const run = (method: string) => Explainer.load(fx.model, { cache }).then((ex) => ex.attribute(fx.input, { ...options, method }));
  await run('gradient');
  await run('deeplift');
  assert.is(await builds(() => run('gradient').then(() => undefined)), 0, 'a cached read');
  const stale = path.join(dir, `${'a'.repeat(64)}.onnx.tmp-99999`);
  const fresh = path.join(dir, `${'b'.repeat(64)}.onnx.tmp-99998`);
  fs.writeFileSync(stale, 'left by a killed process');
  fs.writeFileSync(fresh, 'being written');
  const hourAgo = new Date(Date.now() - 2 * 3600_000);
  fs.utimesSync(stale, hourAgo, hourAgo);
  await run('lrp-epsilon');
  const kept = entries();
  assert.is(kept.length, 2, `kept ${kept}`);
  assert.ok(kept.some((k) => k.includes('gradient')) && kept.some((k) => k.includes('lrp-epsilon')), `the read gradient graph and the new one stay: ${kept}`);
  assert.not.ok(fs.existsSync(stale), 'a stale temporary file is removed');
  assert.ok(fs.existsSync(fresh), 'a recent one is another process\'s');
  // A limit below one entry keeps the entry just written (and its probe goes).
  const tiny = tempDir('cache-tiny');
  await (await Explainer.load(fx.model, { cache: folderCache(tiny, { maxBytes: 0 }) })).attribute(fx.input, options);
  assert.equal(fs.readdirSync(tiny).map((f) => f.replace(/^[0-9a-f]+/, '')).sort(), ['.json', '.onnx']);
  // An entry limit: a graph and the probe it read (touched) stay, the older graph goes.
  const few = tempDir('cache-entries');
  for (const method of ['gradient', 'deeplift']) await (await Explainer.load(fx.model, { cache: folderCache(few, { maxEntries: 2 }) })).attribute(fx.input, { ...options, method });
  const left = fs.readdirSync(few).sort();
  assert.is(left.length, 3, `${left}`);
  assert.ok(left.some((f) => f.endsWith('.probe.json')) && JSON.parse(fs.readFileSync(path.join(few, left.find((f) => f.endsWith('.json') && !f.endsWith('.probe.json'))!), 'utf8')).key.includes('deeplift'));
  process.env.ONNX_EXPLAIN_CACHE_MAX_MB = 'lots';
  try {
    const r = await runCli(['attribute', fx.model, '--input', path.join(path.dirname(fx.model), 'input.npy'), '--out', path.join(tiny, 'a.npy')]);
    assert.is(r.code, 1);
    assert.equal(r.err, ["onnx-explain: error: ONNX_EXPLAIN_CACHE_MAX_MB 'lots' is not a number of megabytes"]);
  } finally {
    delete process.env.ONNX_EXPLAIN_CACHE_MAX_MB;
  }
  for (const [given, bytes] of [['1e3', 1000 * 2 ** 20], ['2.5', 2.5 * 2 ** 20], ['.5E1', 5 * 2 ** 20]] as const) {
    process.env.ONNX_EXPLAIN_CACHE_MAX_MB = given;
    try {
      assert.is(defaultCacheLimit(), bytes, given);
    } finally {
      delete process.env.ONNX_EXPLAIN_CACHE_MAX_MB;
    }
  }
});

test('weights kept as external data are part of the model\'s identity: re-saved weights (the .onnx file unchanged) are not explained with the cached graph of the old ones', async () => {
  const mlp = loadFixture('mlp');
  const dir = tempDir('cache-external');
  const model = loadModel(mlp.model);
  const tensors = model.graph!.initializer!.filter((t) => t.raw_data?.length);
  let offset = 0;
  const parts = tensors.map((t) => {
    const bytes = Buffer.from(t.raw_data!);
    t.external_data = [{ key: 'location', value: 'weights.bin' }, { key: 'offset', value: String(offset) }, { key: 'length', value: String(bytes.length) }];
    t.data_location = 1;
    delete t.raw_data;
    offset += bytes.length;
    return bytes;
  });
  const file = path.join(dir, 'model.onnx');
  fs.writeFileSync(file, encodeModel(model));
  const weights = (scale: number) => Buffer.concat(parts.map((b) => { const f = new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length)).map((v) => v * scale); return Buffer.from(f.buffer); }));
  const cache = folderCache(path.join(dir, 'cache'));
  const explain = async (withCache: boolean) => (await (await Explainer.load(file, withCache ? { cache } : {})).attribute(mlp.input, { target: mlp.meta.target })).attributions.data;
  fs.writeFileSync(path.join(dir, 'weights.bin'), weights(1));
  const before = await explain(true);
  assert.ok(relL2(before, mlp.ref('grad.npy')!) <= 1e-4, 'the exported weights');
  const onnxBytes = fs.readFileSync(file);
  fs.writeFileSync(path.join(dir, 'weights.bin'), weights(-0.5));
  assert.equal(fs.readFileSync(file), onnxBytes);
  const after = await explain(true);
  assert.equal(Array.from(after), Array.from(await explain(false)));
  assert.ok(relL2(after, before) > 0.1, 'the new weights give another gradient');
});

test('the model is identified by the bytes parsed: a model file replaced between its reading and its hashing does not file the old graph under the new model', async () => {
  const mlp = loadFixture('mlp');
  const dir = tempDir('cache-replaced');
  const file = path.join(dir, 'model.onnx');
  const scaled = loadModel(mlp.model);
  for (const t of scaled.graph!.initializer!.filter((t) => t.raw_data?.length)) {
    const f = new Float32Array(Uint8Array.from(t.raw_data!).buffer).map((v) => v * 1.5);
    t.raw_data = new Uint8Array(f.buffer);
  }
  const next = encodeModel(scaled);
  fs.copyFileSync(mlp.model, file);
  const store = folderCache(path.join(dir, 'cache'));
  // Another process saves the next model while the first run hashes the file.
  const racing: GraphCache = { ...store, modelId: async (source, external) => { fs.writeFileSync(file, next); return store.modelId(source, external); } };
  const request = { method: 'deeplift', target: mlp.meta.target };
  const first = await (await Explainer.load(file, { cache: racing })).attribute(mlp.input, request);
  assert.equal(Array.from(first.attributions.data), Array.from((await (await Explainer.load(mlp.model)).attribute(mlp.input, request)).attributions.data));
  const later = await (await Explainer.load(file, { cache: store })).attribute(mlp.input, request);
  assert.equal(Array.from(later.attributions.data), Array.from((await (await Explainer.load(next)).attribute(mlp.input, request)).attributions.data));
});

test('the default cache folder: $ONNX_EXPLAIN_CACHE_DIR, else an absolute $XDG_CACHE_HOME (a relative one is ignored, as the XDG spec says), else ~/.cache', () => {
  const saved = { ...process.env };
  try {
    delete process.env.ONNX_EXPLAIN_CACHE_DIR;
    process.env.XDG_CACHE_HOME = '/var/cache/me';
    assert.is(defaultCacheDir(), '/var/cache/me/onnx-explain');
    process.env.XDG_CACHE_HOME = 'relative';
    assert.is(defaultCacheDir(), path.join(os.homedir(), '.cache', 'onnx-explain'));
    process.env.ONNX_EXPLAIN_CACHE_DIR = '/tmp/mine';
    assert.is(defaultCacheDir(), '/tmp/mine');
  } finally {
    for (const k of ['ONNX_EXPLAIN_CACHE_DIR', 'XDG_CACHE_HOME']) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  }
});

test.run();
