/**
 * The digits experiment of CDeepEx (Figures 5–6): a classifier and a generator trained on digits
 * where every '8' carries a 3×3 square in the upper-left corner ("planted bias",
 * models/make_cdeepex.py). For each clean test digit the biased classifier does not call an 8, ask
 * "why A and not 8?" with CDeepEx, xGEMs, the contrastive gradient ∂(ℓ_8 − ℓ_A)/∂x and occlusion
 * (3×3 windows, stride 1, fill 0, on ℓ_8 − ℓ_A), and measure how much of |E| lies in the square.
 *
 *   npm run cdeepex [-- --limit N]     prints the table of RESULTS.md and writes out/cdeepex/*.png
 */
import * as fs from 'fs';
import * as path from 'path';
import { AttributeOptions, ContrastiveExplainer, Explainer } from '../../runtime';
import { readNpy } from '../../runtime/node/npy-file';
import { writePng } from '../../runtime/node/png-file';
import { grid, imageOf, grayInk, signedHeatmap, titled, upscale } from '../../runtime/plot';

const DIR = path.resolve(__dirname, '../../../models/cdeepex');
const OUT = path.resolve(__dirname, '../../../out/cdeepex');
const SIZE = 16;
const meta = JSON.parse(fs.readFileSync(path.join(DIR, 'meta.json'), 'utf8'));
const [r0, r1] = meta.square.rows as number[];
const [c0, c1] = meta.square.cols as number[];
const inSquare = (k: number) => { const y = Math.floor(k / SIZE), x = k % SIZE; return y >= r0 && y < r1 && x >= c0 && x < c1; };
const CHANCE = ((r1 - r0) * (c1 - c0)) / (SIZE * SIZE);

/** Share of Σ|E| inside the square, and whether ink is added there (Σ_square E < 0). */
function squareScores(e: ArrayLike<number>): { share: number; added: boolean } {
  let inside = 0, total = 0, signed = 0;
  for (let k = 0; k < e.length; k++) {
    total += Math.abs(e[k]);
    if (inSquare(k)) { inside += Math.abs(e[k]); signed += e[k]; }
  }
  return { share: total > 0 ? inside / total : 0, added: signed < 0 };
}

interface Tally { n: number; held: number; share: number[]; added: number; ms: number[]; cpuMs: number[] }
const tally = (): Tally => ({ n: 0, held: 0, share: [], added: 0, ms: [], cpuMs: [] });
/** CPU time of this process (all threads) since `from`, in ms: the wall time is inflated on a shared machine. */
const cpuMs = (from: NodeJS.CpuUsage) => { const u = process.cpuUsage(from); return (u.user + u.system) / 1000; };
const median = (v: number[]) => { const s = [...v].sort((a, b) => a - b); return s.length ? (s[(s.length - 1) >> 1] + s[s.length >> 1]) / 2 : NaN; };
const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;

async function main(): Promise<void> {
  const limitArg = process.argv.indexOf('--limit');
  const limit = limitArg > 0 ? Number(process.argv[limitArg + 1]) : Infinity;
  const classifier = path.join(DIR, 'biased', 'classifier.onnx');
  const ce = await ContrastiveExplainer.load(classifier, path.join(DIR, 'biased', 'generator.onnx'));
  const d = await Explainer.load(classifier);
  const samples = readNpy(path.join(DIR, 'samples.npy'));
  const labels: number[] = JSON.parse(fs.readFileSync(path.join(DIR, 'sample-labels.json'), 'utf8')).labels;
  const probe = meta.biased_class as number;
  const stats: Record<string, Tally> = { cdeepex: tally(), xgems: tally(), gradient: tally(), occlusion: tally() };
  const figure: ReturnType<typeof imageOf>[][] = [];
  let asked = 0;
  for (let i = 0; i < labels.length && asked < limit; i++) {
    const image = Float32Array.from((samples.data as Float32Array).subarray(i * SIZE * SIZE, (i + 1) * SIZE * SIZE));
    const x = { data: image, dims: [1, 1, SIZE, SIZE] };
    const logits = (await d.forward(x)).logits.data;
    const a = logits.indexOf(Math.max(...logits));
    if (a === probe) continue;
    asked++;
    const row: ReturnType<typeof imageOf>[] = [imageOf(image, SIZE, SIZE, grayInk)];
    for (const method of ['cdeepex', 'xgems']) {
      const cpu = process.cpuUsage();
      const r = await ce.explain(x, { trueClass: a, probe, method });
      const s = squareScores(r.explanation.data);
      const t = stats[method];
      t.n++; t.held += r.constraints.satisfied ? 1 : 0; t.share.push(s.share); t.added += s.added ? 1 : 0; t.ms.push(r.timeMs); t.cpuMs.push(cpuMs(cpu));
      if (method === 'cdeepex') row.push(imageOf(r.generatedZ0.data, SIZE, SIZE, grayInk), imageOf(r.generatedZe.data, SIZE, SIZE, grayInk));
      row.push(signedHeatmap(r.explanation.data, SIZE, SIZE));
    }
    for (const [method, extra] of [['gradient', {}], ['occlusion', { window: [1, 3, 3], stride: 1, fill: 0 }]] as [string, AttributeOptions][]) {
      const start = performance.now();
      const cpu = process.cpuUsage();
      // Explained: ℓ_8 − ℓ_A (seed e_8 − e_A); E-like sign: negate so that "ink to add" is negative.
      const r = await d.attribute(x, { method, target: probe, contrast: a, ...extra });
      const ms = performance.now() - start;
      const e = r.attributions.data.map((v) => -v);
      const s = squareScores(e);
      const t = stats[method];
      t.n++; t.share.push(s.share); t.added += s.added ? 1 : 0; t.ms.push(ms); t.cpuMs.push(cpuMs(cpu));
      row.push(signedHeatmap(e, SIZE, SIZE));
    }
    if (figure.length < 8) figure.push(row.map((c) => upscale(c, 6)));
  }
  console.log(`biased classifier, probe ${probe}: ${asked} clean test digits it does not call ${probe}; square = ${(100 * CHANCE).toFixed(1)} % of the image (chance share)`);
  console.log('| method | constraints held | mean share of |E| in the square | median share | square added (Σ E < 0 there) | wall time per explanation (median, mean) | CPU time (median, mean) |');
  console.log('|---|---|---|---|---|---|---|');
  for (const [method, t] of Object.entries(stats)) {
    const held = method === 'cdeepex' || method === 'xgems' ? `${t.held}/${t.n}` : '—';
    console.log(`| ${method} | ${held} | ${(100 * mean(t.share)).toFixed(1)} % | ${(100 * median(t.share)).toFixed(1)} % | ${t.added}/${t.n} | ${median(t.ms).toFixed(0)} ms, ${mean(t.ms).toFixed(0)} ms | ${median(t.cpuMs).toFixed(0)} ms, ${mean(t.cpuMs).toFixed(0)} ms |`);
  }
  fs.mkdirSync(OUT, { recursive: true });
  const titles = ['I', 'G(z0)', 'G(ze)', 'E CDeepEx', 'E xGEMs', '-gradient', '-occlusion'];
  if (figure.length) figure[0] = figure[0].map((cell, k) => titled(titles[k], cell));
  writePng(path.join(OUT, 'why-not-8.png'), grid(figure));
  console.log(`wrote ${path.join(OUT, 'why-not-8.png')} (columns: ${titles.join(', ')}; red: ink that goes away on the way to ${probe}, blue: ink that must appear)`);
}

main().catch((e) => { console.error(e); process.exit(1); });
