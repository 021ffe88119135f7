/**
 * Bench entries of the optimisation loops (same run as the attribution bench): one activation-
 * maximisation step as the driver runs it (objective + regularisers + gradient + Adam update, one
 * graph run, the objective read back) as a ratio to a plain forward, and CDeepEx / xGEMs time per explanation on the planted-bias digits pair.
 */
import * as fs from 'fs';
import * as path from 'path';
import { buildMaximization, MAXIMIZE_IO } from '../rewriter/maximize-graph';
import { ContrastiveExplainer, Explainer } from '../runtime';
import type { Provider } from '../runtime/session';
import { ADAM_DEFAULTS, AdamLoop } from '../runtime/drivers/adam-loop';
import { hostData, LoopSession } from '../runtime/drivers/loop-session';
import { readNpy } from '../runtime/node/npy-file';
import { floatTensor } from '../runtime/tensors';

const ROOT = path.resolve(__dirname, '..', '..');
const DIGITS = path.join(ROOT, 'models', 'cdeepex');
const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return (s[(s.length - 1) >> 1] + s[s.length >> 1]) / 2; };

async function time(f: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await f();
  return performance.now() - t;
}

/** Median step and forward times (interleaved) for maximising logit 0 of `model` at row shape `row`. */
async function maximizationStep(model: string, row: number[], runs: number, provider: Provider): Promise<{ forward: number; step: number }> {
  const ex = await Explainer.load(model, { provider });
  const prepared = await ex.prepare(row);
  const { from } = ex.resolveOutput(undefined);
  const graph = buildMaximization({
    view: prepared.view, facts: prepared.facts, input: ex.input.name, at: from,
    lp: { weight: 1e-3, p: 6 }, tv: { weight: 1e-2, beta: 2, axes: [2, 3] },
    adam: { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, box: { lo: { values: [-3], dims: [1] }, hi: { values: [3], dims: [1] } } },
  });
  const session = await LoopSession.create(graph, ex);
  const plain = await LoopSession.create(prepared.view.model, ex);
  const x = floatTensor(Float32Array.from({ length: row.reduce((a, b) => a * b, 1) }, (_, k) => Math.sin(k) * 0.5), [1, ...row]);
  const seedShape = prepared.facts.shapes.get(from)!;
  const seed = new Float32Array(seedShape.reduce((a, b) => a * b, 1));
  seed[0] = 1;
  // A step as the driver runs it: one graph run (Adam state fed back) and the objective read.
  const loop = new AdamLoop(session, ex.input.name, x, { ...ADAM_DEFAULTS, lr: 0.01 });
  const feeds = { [MAXIMIZE_IO.seed]: floatTensor(seed, seedShape) };
  const step = async () => hostData((await loop.next(feeds, [MAXIMIZE_IO.objective]))[MAXIMIZE_IO.objective]);
  for (let i = 0; i < 2; i++) { await step(); await plain.run({ [ex.input.name]: x }, ex.outputNames); }
  const f: number[] = [], s: number[] = [];
  for (let i = 0; i < runs; i++) {
    f.push(await time(() => plain.run({ [ex.input.name]: x }, ex.outputNames)));
    s.push(await time(step));
  }
  return { forward: median(f), step: median(s) };
}

export async function benchLatent(resnet: string, provider: Provider): Promise<void> {
  console.log('');
  console.log('optimisation loops (targets: one maximisation step ≤ 2.5× a forward; CDeepEx ≤ 0.5 s per digits explanation)');
  for (const [name, model, row, runs] of [
    ['digits CNN 16×16', path.join(DIGITS, 'clean', 'classifier.onnx'), [1, 16, 16], 200],
    ['ResNet-18 224×224', resnet, [3, 224, 224], 7],
  ] as const) {
    const r = await maximizationStep(model, [...row], runs, provider);
    const ratio = r.step / r.forward;
    console.log(`maximisation step, ${name}: forward ${r.forward.toFixed(2)} ms, step ${r.step.toFixed(2)} ms, ${ratio.toFixed(2)}× ${ratio <= 2.5 ? 'PASS' : 'OVER'} (≤ 2.5×)`);
  }
  const classifier = path.join(DIGITS, 'biased', 'classifier.onnx');
  const ce = await ContrastiveExplainer.load(classifier, path.join(DIGITS, 'biased', 'generator.onnx'), { provider });
  const d = await Explainer.load(classifier, { provider });
  const samples = readNpy(path.join(DIGITS, 'samples.npy'));
  const count = JSON.parse(fs.readFileSync(path.join(DIGITS, 'sample-labels.json'), 'utf8')).labels.length;
  for (const method of ['cdeepex', 'xgems']) {
    const ms: number[] = [];
    const cpu: number[] = [];
    let held = 0;
    for (let i = 0; i < count; i += 5) {
      const x = { data: Float32Array.from((samples.data as Float32Array).subarray(i * 256, (i + 1) * 256)), dims: [1, 1, 16, 16] };
      const logits = (await d.forward(x)).logits.data;
      const a = logits.indexOf(Math.max(...logits));
      if (a === 8) continue;
      const before = process.cpuUsage();
      const r = await ce.explain(x, { trueClass: a, probe: 8, method });
      const used = process.cpuUsage(before);
      cpu.push((used.user + used.system) / 1000);
      ms.push(r.timeMs);
      held += r.constraints.satisfied ? 1 : 0;
    }
    const mean = ms.reduce((p, v) => p + v, 0) / ms.length;
    // The loops run single-threaded sessions: CPU time is what a quiet machine's wall time would be.
    console.log(`${method} per explanation (biased digits, ${ms.length} inputs, probe 8): wall median ${median(ms).toFixed(0)} ms, mean ${mean.toFixed(0)} ms ${median(ms) <= 500 ? 'PASS' : 'OVER'} (≤ 500 ms); CPU time median ${median(cpu).toFixed(0)} ms; constraints held ${held}/${ms.length}`);
  }
}
