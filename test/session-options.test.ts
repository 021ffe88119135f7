import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Explainer } from '../runtime';
import { physicalCores } from '../runtime/node/cores';
import { ModelProto } from '../rewriter/proto';
import { createSession, largeForward, levelFor, openingNote, parallelFor, sessionOptions, threadsFor } from '../runtime/session';
import { backend } from '../runtime/backend';
import { sessionModel } from '../runtime/session-model';
import { tinyGraph } from './support/tiny-model';
import { loadFixture } from './support/fixtures';
import { rejects } from './support/rejects';

test('native sessions default to one intra-op thread per physical core, threads that stop spinning, every graph optimisation and quiet logs', () => {
  assert.equal(sessionOptions(), {
    logSeverityLevel: 4, graphOptimizationLevel: 'all', intraOpNumThreads: physicalCores(),
    extra: { optimization: { disable_specified_optimizers: 'Pad_Fusion' }, session: { force_spinning_stop: '1' } },
  });
});

test("the user's options win, and their other config entries are kept beside the spinning one", () => {
  const o = sessionOptions({ intraOpNumThreads: 1, graphOptimizationLevel: 'basic', extra: { session: { set_denormal_as_zero: '1' }, optimization: { x: '1' } } });
  assert.is(o.intraOpNumThreads, 1);
  assert.is(o.graphOptimizationLevel, 'basic');
  assert.equal(o.extra, { session: { force_spinning_stop: '1', set_denormal_as_zero: '1' }, optimization: { disable_specified_optimizers: 'Pad_Fusion', x: '1' } });
  assert.equal(sessionOptions({ extra: { session: { force_spinning_stop: '0' } } }).extra, { session: { force_spinning_stop: '0' }, optimization: { disable_specified_optimizers: 'Pad_Fusion' } });
});

test('models under a million weights default to one thread', () => {
  const model = (n: number): ModelProto => ({ graph: { initializer: [{ name: 'w', dims: [n], data_type: 1 }] } });
  assert.is(threadsFor(model(999_999)), 1);
  assert.is(threadsFor(model(1_000_000)), undefined);
});

test("graphs over 10,000 nodes default to the basic optimisations, over 30,000 to none, with a note; the user's level wins", async () => {
  const model = (n: number): ModelProto => ({ graph: { node: Array.from({ length: n }, () => ({ op_type: 'Relu' })) } });
  assert.is(levelFor(model(30_001)), 'disabled');
  assert.is(levelFor(model(30_000)), 'basic');
  assert.is(levelFor(model(10_001)), 'basic');
  assert.is(levelFor(model(10_000)), undefined);
  // Past 30,000 nodes a note says that opening may take minutes (a 125,053-node DeepLIFT graph ran 8 minutes without a word).
  // Said of any model (a 5,000-node MLP's DeepLIFT graph was said to hold recurrent cells).
  assert.is(openingNote(model(30_001), 'deeplift'), "deeplift: its graph has 30,001 nodes, which onnxruntime may take minutes to open; the gradient's smaller graph opens sooner (a recurrent model's, written out per step, at a shorter sequence too)");
  assert.is(openingNote(model(30_000), 'deeplift'), undefined);
  // Forward graphs over 2,500 nodes give augmented graphs over the limit (a shared baseline is then fed, not built in).
  assert.ok(largeForward(2_501) && !largeForward(2_500));
  const { ort } = backend();
  const create = ort.InferenceSession.create;
  const seen: unknown[] = [];
  ort.InferenceSession.create = ((bytes: Uint8Array, options: Parameters<typeof create>[1]) => {
    seen.push(options?.graphOptimizationLevel);
    return create(bytes, options);
  }) as typeof create;
  try {
    const tiny = sessionModel(tinyGraph(['N', 4], 13, (em, x) => em.op('Relu', [x])).model);
    for (const tuning of [{ level: 'basic' as const }, { level: 'basic' as const, options: { graphOptimizationLevel: 'extended' as const } }, {}]) {
      await (await createSession(tiny, 'cpu', () => undefined, tuning)).release();
    }
  } finally {
    ort.InferenceSession.create = create;
  }
  assert.equal(seen, ['basic', 'extended', 'all']);
});

// An unrolled 30-step two-layer LSTM's DeepLIFT graph (8,090 nodes) took 18–25 s to open in the sequential executor.
test("graphs over 2,000 nodes open in onnxruntime's parallel executor with two inter-op threads; the user's executionMode wins; an unrolled LSTM gives the same numbers either way", async () => {
  const model = (n: number): ModelProto => ({ graph: { node: Array.from({ length: n }, () => ({ op_type: 'Relu' })) } });
  assert.is(parallelFor(model(2_001)), true);
  assert.is(parallelFor(model(2_000)), undefined);
  const { ort } = backend();
  const create = ort.InferenceSession.create;
  const seen: unknown[] = [];
  ort.InferenceSession.create = ((bytes: Uint8Array, options: Parameters<typeof create>[1]) => {
    seen.push([options?.executionMode, options?.interOpNumThreads]);
    return create(bytes, options);
  }) as typeof create;
  try {
    const tiny = sessionModel(tinyGraph(['N', 4], 13, (em, x) => em.op('Relu', [x])).model);
    for (const tuning of [{ parallel: true }, { parallel: true, options: { executionMode: 'sequential' as const } }, {}]) {
      await (await createSession(tiny, 'cpu', () => undefined, tuning)).release();
    }
  } finally {
    ort.InferenceSession.create = create;
  }
  assert.equal(seen, [['parallel', 2], ['sequential', undefined], [undefined, undefined]]);
  const lstm = path.resolve(__dirname, '../../models/recurrent/lstm_op13/model.onnx');
  const ids = { data: BigInt64Array.from({ length: 2 * 60 }, (_, k) => BigInt((k * 7) % 30)), dims: [2, 60] };
  const [parallel, sequential] = await Promise.all([{}, { sessionOptions: { executionMode: 'sequential' as const } }].map(async (options) => {
    const ex = await Explainer.load(lstm, options);
    return (await ex.attribute(ids, { method: 'deeplift', target: 1 })).attributions.data;
  }));
  assert.equal(Array.from(parallel), Array.from(sequential));
});

test('physical cores: distinct SMT sibling sets in sysfs, offline CPUs skipped, at most the CPUs the process may use', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-explain-cpus-'));
  try {
    // cpu0/cpu2 and cpu1/cpu3 are two cores with two threads each; cpu4 is offline (no topology).
    const siblings = ['0,2', '1,3', '0,2', '1,3'];
    siblings.forEach((s, i) => {
      fs.mkdirSync(path.join(root, `cpu${i}`, 'topology'), { recursive: true });
      fs.writeFileSync(path.join(root, `cpu${i}`, 'topology', 'thread_siblings_list'), `${s}\n`);
    });
    fs.mkdirSync(path.join(root, 'cpu4'));
    fs.mkdirSync(path.join(root, 'cpufreq'));
    assert.is(physicalCores(root), Math.min(2, os.availableParallelism()));
    assert.is(physicalCores(path.join(root, 'missing')), os.availableParallelism());
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

// Both were ignored: a misspelt key silently, executionProviders replaced by the provider option's.
test('sessionOptions: a key onnxruntime does not know, executionProviders (the provider option\'s) and a provider that is none are refused', async () => {
  const fx = loadFixture('mlp');
  await rejects(() => Explainer.load(fx.model, { sessionOptions: { intraOpNumthreads: 1 } as never }), /sessionOptions: unknown option 'intraOpNumthreads' \(options: intraOpNumThreads, /);
  await rejects(() => Explainer.load(fx.model, { sessionOptions: { executionProviders: ['cpu'] } as never }), /sessionOptions\.executionProviders: the Explainer's provider option \(--provider\) chooses the execution provider/);
  // A provider this platform lacks falls back with a warning; a name that is no provider was taken the same way.
  await rejects(() => Explainer.load(fx.model, { provider: 'gpu' as never }), /Explainer\.load: provider must be one of cpu, cuda, webgpu, wasm, got "gpu"/);
});

test.run();
