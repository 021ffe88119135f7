/**
 * `npm run bench -- --profile`: where onnxruntime spends the time of each augmented graph, from its
 * profiler (per-kernel durations), split into the model's own nodes (forward and reference pass)
 * and the emitted backward nodes ('xpl/…'), next to the plain model's kernels.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as ort from 'onnxruntime-node';
import { encodeModel } from '../rewriter/proto';
import { methods } from '../rules/methods';
import { Explainer } from '../runtime';

interface ProfEvent { cat: string; name: string; ts: number; dur: number; args?: { op_name?: string } }
interface Agg { ms: number; count: number }

const RUNS = 3;

/** Node events of the last RUNS of RUNS + 1 profiled runs of `model`. */
async function profiled(model: string | Uint8Array, feeds: Record<string, ort.Tensor>, prefix: string): Promise<ProfEvent[]> {
  const dir = path.dirname(prefix);
  const before = new Set(fs.readdirSync(dir));
  const s = await ort.InferenceSession.create(model as Uint8Array, { logSeverityLevel: 3, graphOptimizationLevel: 'all', enableProfiling: true, profileFilePrefix: prefix });
  for (let i = 0; i <= RUNS; i++) await s.run(feeds);
  s.endProfiling();
  await s.release();
  const name = fs.readdirSync(dir).find((f) => !before.has(f) && f.startsWith(path.basename(prefix)) && f.endsWith('.json'));
  if (!name) throw new Error(`onnxruntime wrote no profile next to ${prefix}`);
  const file = path.join(dir, name);
  const all = JSON.parse(fs.readFileSync(file, 'utf8')) as ProfEvent[];
  fs.unlinkSync(file);
  const runs = all.filter((e) => e.cat === 'Session' && e.name === 'model_run').sort((a, b) => a.ts - b.ts);
  return all.filter((e) => e.cat === 'Node' && e.name.endsWith('_kernel_time') && e.ts >= runs[1].ts);
}

function byOp(events: ProfEvent[], keep: (e: ProfEvent) => boolean): Map<string, Agg> {
  const m = new Map<string, Agg>();
  for (const e of events.filter(keep)) {
    const op = e.args?.op_name ?? '?';
    const a = m.get(op) ?? { ms: 0, count: 0 };
    a.ms += e.dur / 1000 / RUNS;
    a.count += 1 / RUNS;
    m.set(op, a);
  }
  return m;
}

function printOps(title: string, m: Map<string, Agg>, top: number): void {
  const sum = [...m.values()].reduce((a, b) => a + b.ms, 0);
  const head = [...m.entries()].sort((x, y) => y[1].ms - x[1].ms).slice(0, top);
  console.log(`  ${title}: ${sum.toFixed(1)} ms/run — ${head.map(([op, a]) => `${op} ${a.ms.toFixed(1)} (${Math.round(a.count)})`).join(', ')}`);
}

/** What a method needs beyond a target on the torchvision models: lrp-epsilon-gamma-box's z^B bounds, pixels in [0, 1] after ImageNet's Normalize. */
export const imagenetBoxBounds = (method: string) => (method === 'lrp-epsilon-gamma-box' ? { boxLow: [-2.118, -2.036, -1.804], boxHigh: [2.249, 2.429, 2.64] } : {});

export async function profileGraphs(modelFile: string, cacheDir: string, methodList: string[], batches: number[]): Promise<void> {
  const ex = await Explainer.load(modelFile);
  const rowDims = ex.input.dims.slice(1).map((d) => (d > 0 ? d : 224));
  const row = rowDims.reduce((a, b) => a * b, 1);
  const prefix = path.join(cacheDir, 'profile');
  console.log(`\n== ${path.basename(modelFile)}: onnxruntime profiler, ms per run (op type, node count)`);
  for (const batch of batches) {
    const x = new ort.Tensor('float32', Float32Array.from({ length: batch * row }, (_, i) => Math.sin(i)), [batch, ...rowDims]);
    printOps(`batch ${batch} plain model`, byOp(await profiled(modelFile, { [ex.input.name]: x }, prefix), () => true), 6);
    for (const method of methodList) {
      const { model, prepared, from } = await ex.augmented(rowDims, { method, ...imagenetBoxBounds(method) });
      const classes = prepared.facts.shapes.get(from)!.slice(1);
      const seed = new Float32Array(batch * classes.reduce((a, b) => a * b, 1));
      for (let r = 0; r < batch; r++) seed[r * (seed.length / batch)] = 1;
      const feeds: Record<string, ort.Tensor> = { [ex.input.name]: x, [ex.io.seed]: new ort.Tensor('float32', seed, [batch, ...classes]) };
      if (methods[method].reference) feeds[ex.io.baseline] = new ort.Tensor('float32', new Float32Array(row), [1, ...rowDims]);
      const events = await profiled(encodeModel(model), feeds, prefix);
      const emitted = (e: ProfEvent) => e.name.startsWith('xpl/');
      console.log(` batch ${batch} ${method} (${model.graph!.node!.length} nodes${methods[method].reference ? ', one shared baseline row' : ''}):`);
      printOps('model nodes', byOp(events, (e) => !emitted(e)), 6);
      printOps('emitted nodes', byOp(events, emitted), 8);
    }
  }
}
