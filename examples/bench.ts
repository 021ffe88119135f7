/**
 * Attribution cost relative to a plain forward run on a ResNet-18-sized model (224×224, CPU).
 *
 *   npm run bench [-- --methods gradient,deeplift] [--profile] [--no-profile]
 *
 * Builds bench-cache/resnet18.onnx once (reused afterwards), times the plain model and every
 * registered attribution method at batch 1 and 8 (medians), prints ratio targets, and when the
 * gradient ratio is over its target (or with --profile) profiles the augmented gradient graph with
 * onnxruntime's profiler to show which emitted op types the backward pass spends its time in.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as ort from 'onnxruntime-node';
import { saveModel } from '../runtime/node/model-file';
import { ModelProto } from '../rewriter/proto';
import { methodNames, methods } from '../rules/methods';
import { Explainer } from '../runtime';
import { benchLatent } from './bench-latent';
import { ensureResNet18 } from './resnet18';

const ROOT = path.resolve(__dirname, '..', '..');
const CACHE = path.join(ROOT, 'bench-cache');
const MODEL = path.join(CACHE, 'resnet18.onnx');
const ROW = [3, 224, 224];
const TARGETS: Record<string, number> = { gradient: 2.3, deeplift: 3.5 };
const RUNS: Record<number, number> = { 1: 5, 8: 3 };
/** Integrated gradients with 50 Gauss–Legendre points at batch 1, as a ratio to one forward (Captum: ≈ 115×). */
const IG = { steps: 50, target: 60, runs: 3 };
const SESSION_OPTIONS: ort.InferenceSession.SessionOptions = { logSeverityLevel: 3, graphOptimizationLevel: 'all', executionProviders: ['cpu'] };

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function timeIt(f: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await f();
  return performance.now() - t0;
}

/** A deterministic normalised-image-like input. */
function input(batch: number): ort.Tensor {
  return new ort.Tensor('float32', values(batch * ROW.reduce((a, b) => a * b, 1), 4), [batch, ...ROW]);
}

/** n deterministic pseudo-random values in [−scale/2, scale/2). */
function values(n: number, scale: number): Float32Array {
  const data = new Float32Array(n);
  let s = 0x9e3779b9;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = (s / 4294967296 - 0.5) * scale;
  }
  return data;
}

const fmt = (ms: number) => ms.toFixed(1).padStart(9);

interface Row { method: string; batch: number; forward: number; attribution: number; bestRatio: number }

async function main(): Promise<void> {
  const tStart = performance.now();
  console.log(`load average at start: ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} on ${os.cpus().length} CPUs`);
  const made = ensureResNet18(MODEL);
  console.log(made.built ? `built ${path.relative(ROOT, MODEL)} in ${(made.ms / 1000).toFixed(1)} s` : `reusing ${path.relative(ROOT, MODEL)}`);

  const wanted = argValue('--methods')?.split(',').map((m) => m.trim()).filter(Boolean);
  const list = (wanted ?? methodNames).filter((m) => methods[m]);
  const skipped = (wanted ?? []).filter((m) => !methods[m] && m !== 'occlusion' && m !== 'integrated-gradients');
  if (skipped.length) console.log(`not in the registry (skipped): ${skipped.join(', ')}`);

  const bytes = fs.readFileSync(MODEL);
  const plain = await ort.InferenceSession.create(bytes, SESSION_OPTIONS);
  const ex = await Explainer.load(MODEL);
  const xs: Record<number, ort.Tensor> = { 1: input(1), 8: input(8) };
  const targetFor = (b: number) => Array.from({ length: b }, (_, r) => (r * 97 + 7) % 1000);

  // Warm up the plain model; every timing below pairs forward and attribution runs alternately,
  // so both see the same machine load (this box is shared).
  for (const b of [1, 8]) for (let i = 0; i < 2; i++) await plain.run({ input: xs[b] });

  const rows: Row[] = [];
  const builds: Record<string, number> = {};
  for (const method of list) {
    const opts = (b: number) => ({ method, target: targetFor(b) });
    // First call: probe + rewrite + session creation (cached afterwards) + one run.
    builds[method] = await timeIt(() => ex.attribute(xs[1], opts(1)));
    for (const b of [1, 8]) {
      if (b !== 1) await ex.attribute(xs[b], opts(b)); // batch 1 was warmed by the first call
      const f: number[] = [];
      const a: number[] = [];
      for (let i = 0; i < RUNS[b]; i++) {
        f.push(await timeIt(() => plain.run({ input: xs[b] })));
        a.push(await timeIt(() => ex.attribute(xs[b], opts(b))));
      }
      rows.push({ method, batch: b, forward: median(f), attribution: median(a), bestRatio: Math.min(...a) / Math.min(...f) });
    }
    process.stdout.write(`  ${method}: done\n`);
  }

  console.log('');
  console.log(`ResNet-18 224×224, onnxruntime-node ${ort.env.versions?.node ?? ''} CPU; medians of ${RUNS[1]} (batch 1) / ${RUNS[8]} (batch 8) interleaved runs; last column: fastest attribution / fastest forward`);
  console.log(`targets: ${Object.entries(TARGETS).map(([m, r]) => `${m} ≤ ${r}×`).join(', ')}`);
  console.log(`${'method'.padEnd(18)} batch  forward ms   attr ms   ratio   target          (min/min)`);
  for (const r of rows) {
    const ratio = r.attribution / r.forward;
    const target = TARGETS[r.method];
    const verdict = target === undefined ? '' : `${ratio <= target ? 'PASS' : 'OVER'} (≤ ${target}×)`;
    console.log(`${r.method.padEnd(18)} ${String(r.batch).padStart(5)} ${fmt(r.forward)}  ${fmt(r.attribution)}  ${(ratio.toFixed(2) + '×').padStart(6)}   ${verdict.padEnd(15)} ${(r.bestRatio.toFixed(2) + '×').padStart(6)}`);
  }
  if (!wanted || wanted.includes('integrated-gradients')) await benchIg(ex, plain, xs[1], targetFor(1));
  console.log(`first-call build (probe + rewrite + session, incl. one batch-1 run): ${list.map((m) => `${m} ${(builds[m] / 1000).toFixed(2)} s`).join(', ')}`);
  for (const m of Object.keys(TARGETS)) if (!methods[m]) console.log(`(${m}: not registered yet, no measurement)`);

  if (!wanted || wanted.includes('occlusion')) await occlusionCost(ex, plain, xs[1]);

  const over = rows.some((r) => r.method === 'gradient' && r.attribution / r.forward > TARGETS.gradient);
  if ((over || process.argv.includes('--profile')) && !process.argv.includes('--no-profile') && methods.gradient) {
    console.log('');
    console.log(over ? 'gradient ratio is over target: profiling the augmented graph' : 'profiling the augmented graph (--profile)');
    await profile(ex, bytes);
  }
  if (!process.argv.includes('--no-latent')) await benchLatent(MODEL);
  console.log(`\ntotal ${((performance.now() - tStart) / 1000).toFixed(1)} s; load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} on ${os.cpus().length} CPUs (timings are only comparable on a quiet machine)`);
}

/**
 * Occlusion's cost in forward-equivalents: a sweep of W windows at internal batch B should cost
 * one batch-1 forward (the unoccluded scores) plus W / B batch-B forwards, nothing more.
 */
async function occlusionCost(ex: Explainer, plain: ort.InferenceSession, x: ort.Tensor): Promise<void> {
  const batch = 16;
  const options = { method: 'occlusion', target: 7, window: [3, 56, 56], stride: [3, 28, 28], internalBatchSize: batch };
  const windows = 7 * 7;
  const xb = input(batch);
  await ex.attribute(x, options); // sessions built
  for (let i = 0; i < 2; i++) await plain.run({ input: xb });
  const f1: number[] = [], fb: number[] = [], occ: number[] = [];
  for (let i = 0; i < 3; i++) {
    f1.push(await timeIt(() => plain.run({ input: x })));
    fb.push(await timeIt(() => plain.run({ input: xb })));
    occ.push(await timeIt(() => ex.attribute(x, options)));
  }
  const expected = median(f1) + (windows / batch) * median(fb);
  console.log('');
  console.log(`occlusion, window 3,56,56 stride 3,28,28 (${windows} windows), internal batch ${batch}, batch 1 (medians of 3):`);
  console.log(`  forward batch 1 ${median(f1).toFixed(1)} ms, batch ${batch} ${median(fb).toFixed(1)} ms; occlusion ${median(occ).toFixed(1)} ms = ${(median(occ) / median(f1)).toFixed(1)} batch-1 forwards`);
  console.log(`  expected one batch-1 forward + ${windows}/${batch} = ${(windows / batch).toFixed(2)} batch-${batch} forwards (${expected.toFixed(1)} ms): measured / expected ${(median(occ) / expected).toFixed(2)}×`);
}

/** IG-50 at batch 1 (all points in one run) against the plain forward, interleaved. */
async function benchIg(ex: Explainer, plain: ort.InferenceSession, x: ort.Tensor, target: number[]): Promise<void> {
  const opts = { method: 'integrated-gradients', target, steps: IG.steps };
  const build = await timeIt(() => ex.attribute(x, opts));
  const f: number[] = [];
  const a: number[] = [];
  for (let i = 0; i < IG.runs; i++) {
    f.push(await timeIt(() => plain.run({ input: x })));
    a.push(await timeIt(() => ex.attribute(x, opts)));
  }
  const ratio = median(a) / median(f);
  console.log(`integrated-gradients, ${IG.steps} points, batch 1: forward ${median(f).toFixed(1)} ms, IG ${median(a).toFixed(0)} ms, ratio ${ratio.toFixed(1)}× ${ratio <= IG.target ? 'PASS' : 'OVER'} (≤ ${IG.target}×; ${(ratio / IG.steps).toFixed(2)}× per point; first call ${(build / 1000).toFixed(1)} s)`);
}

interface ProfEvent { cat: string; name: string; ts: number; dur: number; args?: { op_name?: string; output_type_shape?: unknown; input_type_shape?: unknown } }

/** Runs `model` n+1 times with profiling and returns the node events of the last n runs. */
async function profiled(model: Uint8Array, feeds: Record<string, ort.Tensor>, prefix: string, n: number): Promise<{ events: ProfEvent[]; runs: number; file: string }> {
  const before = new Set(fs.readdirSync(CACHE));
  const s = await ort.InferenceSession.create(model, { ...SESSION_OPTIONS, enableProfiling: true, profileFilePrefix: path.join(CACHE, prefix) });
  for (let i = 0; i <= n; i++) await s.run(feeds);
  s.endProfiling();
  await s.release();
  const file = fs.readdirSync(CACHE).filter((f) => f.startsWith(prefix) && f.endsWith('.json') && !before.has(f)).sort().pop();
  if (!file) throw new Error(`no profile written for ${prefix}`);
  const all = JSON.parse(fs.readFileSync(path.join(CACHE, file), 'utf8')) as ProfEvent[];
  const runs = all.filter((e) => e.cat === 'Session' && e.name === 'model_run').sort((a, b) => a.ts - b.ts);
  const from = runs[1].ts;
  const events = all.filter((e) => e.cat === 'Node' && e.name.endsWith('_kernel_time') && e.ts >= from);
  return { events, runs: runs.length - 1, file };
}

interface Agg { ms: number; count: number }

function byOp(events: ProfEvent[], runs: number, keep: (e: ProfEvent) => boolean): Map<string, Agg> {
  const m = new Map<string, Agg>();
  for (const e of events.filter(keep)) {
    const op = e.args?.op_name ?? '?';
    const a = m.get(op) ?? { ms: 0, count: 0 };
    a.ms += e.dur / 1000 / runs;
    a.count += 1 / runs;
    m.set(op, a);
  }
  return m;
}

const total = (m: Map<string, Agg>) => [...m.values()].reduce((a, b) => a + b.ms, 0);

function printOps(title: string, m: Map<string, Agg>, top = 10): void {
  const sum = total(m);
  console.log(`${title}: ${sum.toFixed(1)} ms/run`);
  for (const [op, a] of [...m.entries()].sort((x, y) => y[1].ms - x[1].ms).slice(0, top)) {
    console.log(`  ${op.padEnd(20)} ${a.ms.toFixed(2).padStart(8)} ms  ${((100 * a.ms) / sum).toFixed(1).padStart(5)}%  ${Math.round(a.count)} nodes`);
  }
}

function shapeOf(v: unknown): string {
  if (!Array.isArray(v)) return '';
  return v.map((o) => Object.values(o as Record<string, number[]>)[0]).map((d) => `[${d}]`).join(' ');
}

async function profile(ex: Explainer, plainBytes: Uint8Array): Promise<void> {
  for (const f of fs.readdirSync(CACHE)) if (/^profile-.*\.json$/.test(f)) fs.unlinkSync(path.join(CACHE, f)); // earlier runs' traces
  const { model } = await ex.augmented(ROW, { method: 'gradient' });
  const file = path.join(CACHE, 'resnet18.gradient.onnx');
  saveModel(model, file);
  console.log(`augmented gradient graph: ${path.relative(ROOT, file)} (${model.graph!.node!.length} nodes, ${ex.view.nodes.length} forward)`);
  const augBytes = fs.readFileSync(file);
  for (const batch of [1, 8]) await profileBatch(model, augBytes, plainBytes, batch, batch === 1 ? 5 : 2);
}

async function profileBatch(model: ModelProto, augBytes: Uint8Array, plainBytes: Uint8Array, batch: number, runs: number): Promise<void> {
  const x = input(batch);
  const seed = new Float32Array(1000 * batch);
  for (let r = 0; r < batch; r++) seed[r * 1000 + 7] = 1;
  const aug = await profiled(augBytes, { input: x, seed: new ort.Tensor('float32', seed, [batch, 1000]) }, `profile-gradient-b${batch}`, runs);
  const fwd = await profiled(plainBytes, { input: x }, `profile-forward-b${batch}`, runs);
  console.log(`\n== batch ${batch}: profiles bench-cache/${aug.file}, bench-cache/${fwd.file} (${runs} runs after warm-up)`);

  // Emitted (backward) nodes are named 'xpl/...'; ORT keeps node names through its fusions.
  const isBackward = (e: ProfEvent) => e.name.startsWith('xpl/');
  const back = byOp(aug.events, aug.runs, isBackward);
  const augFwd = byOp(aug.events, aug.runs, (e) => !isBackward(e));
  const plainFwd = byOp(fwd.events, fwd.runs, () => true);
  printOps('plain model kernels', plainFwd, 6);
  printOps('augmented graph, forward part', augFwd, 6);
  printOps('augmented graph, backward part (emitted nodes)', back, 8);

  // Per conv layer: plain-model fused Conv vs its emitted ConvTranspose (matched by weight name).
  const layerOf = (node: string) => node.replace(/^resnet18\//, '').replace(/_\d+(_nchwc)?$/, '')
    .replace(/^(bn1|relu)$/, 'conv1').replace(/\.(bn|relu)(\d)$/, '.conv$2').replace(/downsample\.1$/, 'downsample.0');
  const graphNodes = new Map(model.graph!.node!.map((n) => [n.name ?? '', n]));
  const weights = new Map((model.graph!.initializer ?? []).map((t) => [t.name ?? '', (t.dims ?? []).map(Number)]));
  const perLayer = new Map<string, { fwd: number; back: number; kind: string }>();
  const layer = (key: string) => perLayer.get(key) ?? perLayer.set(key, { fwd: 0, back: 0, kind: '' }).get(key)!;
  for (const e of fwd.events) if (e.args?.op_name === 'Conv') layer(layerOf(e.name.replace(/_kernel_time$/, ''))).fwd += e.dur / 1000 / fwd.runs;
  for (const e of aug.events.filter((q) => q.args?.op_name === 'ConvTranspose')) {
    const node = graphNodes.get(e.name.replace(/_kernel_time$/, ''));
    const w = node?.input?.[1] ?? '';
    const key = w.endsWith('.weight') ? w.slice(0, -'.weight'.length) : 'maxpool';
    const l = layer(key);
    l.back += e.dur / 1000 / aug.runs;
    const strides = node?.attribute?.find((a) => a.name === 'strides')?.ints?.map(Number) ?? [1];
    const k = weights.get(w)?.slice(2) ?? [];
    l.kind = key === 'maxpool' ? 'MaxPool bwd (one-hot scatter)' : `${k.join('×')}/${strides[0]}`;
  }
  const kinds = new Map<string, { fwd: number; back: number; n: number }>();
  for (const l of perLayer.values()) {
    const g = kinds.get(l.kind) ?? { fwd: 0, back: 0, n: 0 };
    g.fwd += l.fwd; g.back += l.back; g.n++;
    kinds.set(l.kind, g);
  }
  console.log('ConvTranspose (backward) vs the same layers\' fused Conv (plain forward), by kernel/stride:');
  for (const [kind, g] of [...kinds.entries()].sort((a, b) => b[1].back - a[1].back)) {
    console.log(`  ${kind.padEnd(31)} ${String(g.n).padStart(2)} layers  Conv ${g.fwd.toFixed(1).padStart(6)} ms  ConvTranspose ${g.back.toFixed(1).padStart(6)} ms${g.fwd > 0 ? `  (${(g.back / g.fwd).toFixed(2)}×)` : ''}`);
  }

  const slow = aug.events.filter(isBackward).reduce((m, e) => {
    const base = e.name.replace(/_kernel_time$/, '');
    const a = m.get(base) ?? { ms: 0, op: e.args?.op_name ?? '?', shape: `${shapeOf(e.args?.input_type_shape)} -> ${shapeOf(e.args?.output_type_shape)}` };
    a.ms += e.dur / 1000 / aug.runs;
    m.set(base, a);
    return m;
  }, new Map<string, { ms: number; op: string; shape: string }>());
  console.log('slowest backward nodes:');
  for (const [name, a] of [...slow.entries()].sort((p, q) => q[1].ms - p[1].ms).slice(0, 5)) {
    console.log(`  ${a.ms.toFixed(2).padStart(7)} ms  ${a.op.padEnd(14)} ${name.padEnd(28)} ${a.shape}`);
  }

  // The MaxPool rule emits one contiguous run of nodes: its Pad (−3.4e38) up to its grouped ConvTranspose.
  const nodes = model.graph!.node!;
  const padAt = nodes.findIndex((n) => n.op_type === 'Pad' && n.name?.startsWith('xpl/'));
  const endAt = nodes.findIndex((n, i) => i > padAt && n.op_type === 'ConvTranspose' && !(n.input?.[1] ?? '').endsWith('.weight'));
  if (padAt >= 0 && endAt > padAt) {
    const names = new Set(nodes.slice(padAt, endAt + 1).map((n) => n.name));
    const mp = aug.events.filter((e) => names.has(e.name.replace(/_kernel_time$/, ''))).reduce((a, e) => a + e.dur / 1000 / aug.runs, 0);
    const relu = byOp(aug.events, aug.runs, (e) => isBackward(e) && !names.has(e.name.replace(/_kernel_time$/, '')) && ['Greater', 'Cast', 'Mul'].includes(e.args?.op_name ?? ''));
    console.log(`MaxPool backward (${endAt - padAt + 1} nodes): ${mp.toFixed(1)} ms; Relu/BN backward masks (Greater+Cast+Mul): ${total(relu).toFixed(1)} ms; plain forward kernels: ${total(plainFwd).toFixed(1)} ms`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
