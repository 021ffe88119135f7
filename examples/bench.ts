/**
 * Attribution cost relative to a plain forward run of the same model, measured in one process.
 *
 *   npm run bench [-- options]   (USAGE below)
 *
 * Models: the default torchvision exports (eval mode, BatchNorm folded into Conv, opset 13) with
 * random weights, written once into bench-cache/ by models/export_torchvision.py. Without Python's
 * torch the bench says so and uses the ResNet-18 builder of examples/resnet18.ts (BatchNormalization
 * kept) instead. Forward and attribution runs alternate and medians are printed, so both see the
 * same machine load; reference methods are timed with the default zero baseline, one shared random
 * row (reused on every call, so built into the graph from its second call) and a random row per
 * input row.
 * --profile prints where onnxruntime spends the time of each augmented graph (its profiler).
 * Then, where Captum is importable, the same cases timed with Captum (examples/bench-captum.ts).
 * --provider: every session, the plain forward's too, on that onnxruntime-node execution provider
 * (WebGPU in NCHW layout, as the Explainer creates it); the bench stops if the Explainer fell back.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as ort from 'onnxruntime-node';
import { methods } from '../rules/methods';
import { Explainer } from '../runtime';
import { executionProvider, Provider, PROVIDERS, sessionOptions } from '../runtime/session';
import { benchLatent } from './bench-latent';
import { captumComparison } from './bench-captum';
import { pythonImports } from './python';
import { ensureResNet18 } from './resnet18';
import { imagenetBoxBounds, profileGraphs } from './bench-profile';

const ROOT = path.resolve(__dirname, '..', '..');
const CACHE = path.join(ROOT, 'bench-cache');
const ROW = [3, 224, 224];
const CLASSES = 1000;
/** Integrated gradients with 50 Gauss–Legendre points at batch 1, as a ratio to one forward (Captum: ≈ 115×). */
const IG = { steps: 50, target: 60, runs: 3 };
/** Ratio targets (attribution / forward). */
const TARGETS: Record<string, number> = { gradient: 2.3, deeplift: 3.5 };

/** A benchmark model: where it is cached and how it is made. */
interface BenchModel { name: string; file: string; make(): string }

const torchvision = (name: string): BenchModel => ({
  name,
  file: path.join(CACHE, `${name}.onnx`),
  make() {
    execFileSync('/usr/bin/python3', [path.join(ROOT, 'models', 'export_torchvision.py'), CACHE, name], { stdio: 'pipe' });
    return `exported ${name} with torch (models/export_torchvision.py)`;
  },
});

const MODELS: BenchModel[] = [torchvision('resnet18'), torchvision('resnet50'), torchvision('mobilenet_v2')];

/** Without torch: the TypeScript-built ResNet-18 (BatchNormalization nodes kept). */
const FALLBACK: BenchModel = {
  name: 'resnet18-builder',
  file: path.join(CACHE, 'resnet18-builder.onnx'),
  make() {
    ensureResNet18(this.file);
    return 'built with examples/resnet18.ts (BatchNormalization kept)';
  },
};

const USAGE = `npm run bench [-- --models resnet18,resnet50,mobilenet_v2] [--methods gradient,deeplift|all]
              [--batches 1,8] [--baselines zero,shared,per-row] [--runs N] [--threads N [--cpu-time]]
              [--provider cpu|webgpu|cuda] [--profile] [--no-latent] [--no-captum]`;
/** USAGE's flags; another one (a misspelling) or --help prints USAGE instead of starting a long run. */
const VALUE_FLAGS = ['--models', '--methods', '--batches', '--baselines', '--runs', '--threads', '--provider'];
const SWITCHES = ['--cpu-time', '--profile', '--no-latent', '--no-captum'];
const stray = process.argv.slice(2).filter((a, k, all) => a.startsWith('-') && !VALUE_FLAGS.includes(a) && !SWITCHES.includes(a) && !VALUE_FLAGS.includes(all[k - 1]));
if (stray.length) {
  console.error(`${stray.includes('--help') || stray.includes('-h') ? '' : `bench: unknown option ${stray.join(', ')}\n`}${USAGE}`);
  process.exit(stray.every((a) => a === '--help' || a === '-h') ? 0 : 1);
}

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const list = (name: string, fallback: string[]) => argValue(name)?.split(',').map((s) => s.trim()).filter(Boolean) ?? fallback;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * --threads N: onnxruntime intra-op threads of every session (default: the Explainer's, one per physical core). --cpu-time
 * (with --threads 1): time a run by the process's CPU time instead of the clock, which other
 * processes on a shared machine disturb much less.
 */
const THREADS = Number(argValue('--threads') ?? 0) || undefined;
const CPU_TIME = process.argv.includes('--cpu-time');
/** The plain forward runs with the options the Explainer's sessions get (threads, spinning). */
const SESSION = sessionOptions({ logSeverityLevel: 3, ...(THREADS ? { intraOpNumThreads: THREADS } : {}) });
const PROVIDER = (argValue('--provider') ?? 'cpu') as Provider;
if (!PROVIDERS.includes(PROVIDER) || PROVIDER === 'wasm') {
  console.error(`bench: --provider is cpu, webgpu or cuda, not ${PROVIDER}`);
  process.exit(1);
}

/** The plain forward session and the Explainer of a model, both on PROVIDER. */
const plainSession = (file: string) =>
  ort.InferenceSession.create(file, { ...SESSION, executionProviders: [executionProvider(PROVIDER)] }).catch((e: Error) => {
    console.error(`bench: the ${PROVIDER} execution provider does not start here (${e.message.split('\n')[0]})`);
    process.exit(1);
  });
const explainer = (file: string) => Explainer.load(file, { sessionOptions: SESSION, provider: PROVIDER });

/** Stops the bench where an Explainer's sessions fell back from PROVIDER (its times would be another provider's). */
function checkProvider(ex: Explainer): void {
  if (ex.executionProvider !== PROVIDER) throw new Error(`sessions run on ${ex.executionProvider}, not ${PROVIDER}: ${ex.warnings.join('; ')}`);
}

async function timeIt(f: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  await f();
  const c = process.cpuUsage(c0);
  return CPU_TIME ? (c.user + c.system) / 1000 : performance.now() - t0;
}

/** n deterministic pseudo-random values in [−scale/2, scale/2). */
function values(n: number, scale: number, seed: number): Float32Array {
  const data = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = (s / 4294967296 - 0.5) * scale;
  }
  return data;
}

const rowSize = ROW.reduce((a, b) => a * b, 1);
const tensor = (batch: number, seed: number) => new ort.Tensor('float32', values(batch * rowSize, 4, seed), [batch, ...ROW]);

/**
 * Baselines of reference methods: none given (the zero row, built into the graph), one random
 * row shared by the batch (the same on every call), a new random row per input row on every call.
 */
const BASELINES = ['zero', 'shared', 'per-row'] as const;
type Baseline = (typeof BASELINES)[number];

/** One timed configuration: a method at a batch size, with a baseline for reference methods. */
interface Case { method: string; batch: number; baseline?: Baseline }
export interface Row extends Case { model: string; forward: number; attribution: number }

function cases(methodList: string[], batches: number[], baselines: Baseline[]): Case[] {
  const out: Case[] = [];
  for (const method of methodList) {
    for (const batch of batches) {
      if (!methods[method].reference) out.push({ method, batch });
      else for (const baseline of baselines) out.push({ method, batch, baseline });
    }
  }
  return out;
}

async function benchModel(model: BenchModel, todo: Case[], runs: number): Promise<{ rows: Row[]; firstCall: number }> {
  const plain = await plainSession(model.file);
  const ex = await explainer(model.file);
  const inputName = ex.input.name;
  const targets = (b: number) => Array.from({ length: b }, (_, r) => (r * 97 + 7) % CLASSES);
  const rows: Row[] = [];
  // The first call pays probe + rewrite + session creation.
  const firstCall = await timeIt(() => ex.attribute(tensor(1, 1), { method: 'gradient', target: 7 }));
  checkProvider(ex);
  for (const c of todo) {
    const x = tensor(c.batch, 1);
    // The shared row is the same on every call; per-row baselines are new on every call (as
    // references derived from each input are), so their reference pass runs each time.
    const shared = tensor(1, 2);
    const perRow = c.baseline === 'per-row' ? Array.from({ length: runs + 3 }, (_, k) => tensor(c.batch, 2 + k)) : [];
    let calls = 0;
    const baseline = () => ({ zero: undefined, shared, 'per-row': perRow[calls++ % perRow.length] })[c.baseline ?? 'zero'];
    const attribute = () => ex.attribute(x, { method: c.method, target: targets(c.batch), baseline: baseline(), ...imagenetBoxBounds(c.method) });
    const forward = () => plain.run({ [inputName]: x });
    // Two warm-up calls: a shared baseline is built into the graph from its second call on.
    await attribute();
    await attribute();
    await forward();
    const f: number[] = [];
    const a: number[] = [];
    for (let i = 0; i < runs; i++) {
      f.push(await timeIt(forward));
      a.push(await timeIt(attribute));
    }
    rows.push({ ...c, model: model.name, forward: median(f), attribution: median(a) });
    process.stdout.write('.');
  }
  process.stdout.write('\n');
  await plain.release();
  return { rows, firstCall };
}

const fmt = (ms: number) => ms.toFixed(1).padStart(9);

function printRows(rows: Row[]): void {
  console.log(`${'model'.padEnd(16)} ${'method'.padEnd(16)} ${'baseline'.padEnd(8)} batch  forward ms   attr ms   ratio   target`);
  for (const r of rows) {
    const ratio = r.attribution / r.forward;
    const target = TARGETS[r.method];
    const verdict = target === undefined ? '' : `${ratio <= target ? 'PASS' : 'OVER'} (≤ ${target}×)`;
    console.log(`${r.model.padEnd(16)} ${r.method.padEnd(16)} ${(r.baseline ?? '').padEnd(8)} ${String(r.batch).padStart(5)} ${fmt(r.forward)}  ${fmt(r.attribution)}  ${(ratio.toFixed(2) + '×').padStart(6)}   ${verdict}`);
  }
}

async function main(): Promise<void> {
  const tStart = performance.now();
  const load = () => os.loadavg().map((l) => l.toFixed(1)).join(' ');
  console.log(`load average at start: ${load()} on ${os.cpus().length} CPUs`);
  fs.mkdirSync(CACHE, { recursive: true });
  let models = MODELS.filter((m) => list('--models', MODELS.map((q) => q.name)).includes(m.name));
  if (models.some((m) => !fs.existsSync(m.file)) && !pythonImports('torch, torchvision')) {
    console.log('Python torch/torchvision not found (/usr/bin/python3): benchmarking the ResNet-18 of examples/resnet18.ts instead of torchvision exports');
    models = [FALLBACK];
  }
  for (const m of models) console.log(fs.existsSync(m.file) ? `reusing ${path.relative(ROOT, m.file)}` : `${path.relative(ROOT, m.file)}: ${m.make()}`);

  const wanted = list('--methods', Object.keys(TARGETS));
  const methodList = wanted.includes('all') ? Object.keys(methods) : wanted.filter((m) => methods[m]);
  const unknown = wanted.filter((m) => m !== 'all' && m !== 'occlusion' && m !== 'integrated-gradients' && !methods[m]);
  if (unknown.length) console.log(`not in the registry (skipped): ${unknown.join(', ')}`);
  const batches = list('--batches', ['1', '8']).map(Number);
  const runs = Number(argValue('--runs') ?? 5);
  const baselines = list('--baselines', [...BASELINES]).filter((b): b is Baseline => (BASELINES as readonly string[]).includes(b));

  const rows: Row[] = [];
  const firstCalls: string[] = [];
  for (const m of models) {
    process.stdout.write(`${m.name} `);
    const r = await benchModel(m, cases(methodList, batches, baselines), runs);
    rows.push(...r.rows);
    firstCalls.push(`${m.name} ${(r.firstCall / 1000).toFixed(2)} s`);
  }

  console.log('');
  const where = PROVIDER === 'cpu' ? 'CPU' : `${PROVIDER} EP`;
  console.log(`224×224 inputs, onnxruntime-node ${ort.env.versions?.node ?? ''} ${where} (${SESSION.intraOpNumThreads} intra-op threads on ${os.cpus().length} CPUs); medians of ${runs} interleaved runs, ${CPU_TIME ? 'process CPU time' : 'wall-clock time'}; ratio = attribution / forward of the same run`);
  printRows(rows);
  console.log(`first gradient call (probe + rewrite + session, one batch-1 run; no disk cache): ${firstCalls.join(', ')}`);
  if (PROVIDER !== 'cpu') console.log(`\nCaptum comparison: skipped (it runs on the CPU; this run is on ${where})`);
  else if (!process.argv.includes('--no-captum')) captumComparison(rows, ROOT, runs, SESSION.intraOpNumThreads ?? 1);
  if (!argValue('--methods') || wanted.includes('occlusion')) await occlusionCost(models[0].file);
  if (!argValue('--methods') || wanted.includes('integrated-gradients')) await benchIg(models[0].file);
  if (!process.argv.includes('--no-latent')) await benchLatent(models[0].file, PROVIDER);
  if (process.argv.includes('--profile')) {
    // profileGraphs creates CPU sessions and reads their kernel events (the GPU EP's are another kind).
    if (PROVIDER !== 'cpu') console.log(`\n--profile: the graphs are profiled on the CPU, not on ${where}`);
    for (const m of models) await profileGraphs(m.file, CACHE, methodList, batches);
  }
  console.log(`\ntotal ${((performance.now() - tStart) / 1000).toFixed(1)} s; load average ${load()} (timings are only comparable on a quiet machine)`);
}

/**
 * Occlusion's cost in forward-equivalents: a sweep of W windows at internal batch B should cost
 * one batch-1 forward (the unoccluded scores) plus W / B batch-B forwards, nothing more.
 */
async function occlusionCost(file: string): Promise<void> {
  const plain = await plainSession(file);
  const ex = await explainer(file);
  const batch = 16;
  const options = { method: 'occlusion', target: 7, window: [3, 56, 56], stride: [3, 28, 28], internalBatchSize: batch };
  const windows = 7 * 7;
  const x = tensor(1, 1);
  const xb = tensor(batch, 1);
  const feed = (t: ort.Tensor) => ({ [ex.input.name]: t });
  await ex.attribute(x, options); // sessions built
  checkProvider(ex);
  for (let i = 0; i < 2; i++) await plain.run(feed(xb));
  const f1: number[] = [], fb: number[] = [], occ: number[] = [];
  for (let i = 0; i < 3; i++) {
    f1.push(await timeIt(() => plain.run(feed(x))));
    fb.push(await timeIt(() => plain.run(feed(xb))));
    occ.push(await timeIt(() => ex.attribute(x, options)));
  }
  const expected = median(f1) + (windows / batch) * median(fb);
  console.log('');
  console.log(`occlusion on ${path.basename(file)}, window 3,56,56 stride 3,28,28 (${windows} windows), internal batch ${batch}, batch 1 (medians of 3):`);
  console.log(`  forward batch 1 ${median(f1).toFixed(1)} ms, batch ${batch} ${median(fb).toFixed(1)} ms; occlusion ${median(occ).toFixed(1)} ms = ${(median(occ) / median(f1)).toFixed(1)} batch-1 forwards`);
  console.log(`  expected one batch-1 forward + ${windows}/${batch} = ${(windows / batch).toFixed(2)} batch-${batch} forwards (${expected.toFixed(1)} ms): measured / expected ${(median(occ) / expected).toFixed(2)}×`);
  await plain.release();
}

/** IG-50 at batch 1 (all points in one run) against the plain forward, interleaved. */
async function benchIg(file: string): Promise<void> {
  const plain = await plainSession(file);
  const ex = await explainer(file);
  const x = tensor(1, 1);
  const opts = { method: 'integrated-gradients', target: [7], steps: IG.steps };
  const build = await timeIt(() => ex.attribute(x, opts));
  checkProvider(ex);
  const f: number[] = [];
  const a: number[] = [];
  for (let i = 0; i < IG.runs; i++) {
    // Several forwards per IG call: the first one after a 2-second IG run is slower than the rest.
    for (let k = 0; k < 5; k++) f.push(await timeIt(() => plain.run({ [ex.input.name]: x })));
    a.push(await timeIt(() => ex.attribute(x, opts)));
  }
  const ratio = median(a) / median(f);
  console.log(`\nintegrated-gradients on ${path.basename(file)}, ${IG.steps} points, batch 1: forward ${median(f).toFixed(1)} ms, IG ${median(a).toFixed(0)} ms, ratio ${ratio.toFixed(1)}× ${ratio <= IG.target ? 'PASS' : 'OVER'} (≤ ${IG.target}×; ${(ratio / IG.steps).toFixed(2)}× per point; first call ${(build / 1000).toFixed(1)} s)`);
  await plain.release();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
