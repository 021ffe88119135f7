/**
 * Our attribution times against Captum's on the same CPU, in the same bench run: Saliency for the
 * gradient, DeepLift with its default zero baseline and with a random baseline per row (targets:
 * ours ≥ 1.3× and ≥ 2.5× faster). Captum runs through examples/captum_bench.py with Debian's
 * /usr/bin/python3 (torch 1.13) when that can import it, e.g. `PYTHONPATH=<a Captum 0.8 checkout>`
 * (there is no PyPI here); otherwise the comparison says so and is skipped.
 */
import { execFileSync } from 'child_process';
import * as path from 'path';
import type { Row } from './bench';
import { pythonImports } from './python';

/** Captum's name for each compared case, and how much faster ours must be. */
const CASES: { method: string; baseline?: string; captum: string; faster: number }[] = [
  { method: 'gradient', captum: 'saliency', faster: 1.3 },
  { method: 'deeplift', baseline: 'zero', captum: 'deeplift-zero', faster: 2.5 },
  { method: 'deeplift', baseline: 'per-row', captum: 'deeplift-per-row', faster: 2.5 },
];
/** torchvision models whose blocks examples/captum_bench.py prepares for Captum's DeepLift. */
const MODELS = ['resnet18', 'resnet50'];

/** The compared case of one of our rows, if any. */
const caseOf = (r: Row) => (MODELS.includes(r.model) ? CASES.find((c) => c.method === r.method && (c.baseline ?? r.baseline) === r.baseline) : undefined);

export function captumComparison(rows: Row[], root: string, runs: number, threads: number): void {
  const compared = rows.filter(caseOf);
  if (!compared.length) return;
  console.log('');
  if (!pythonImports('captum.attr')) {
    console.log('Captum comparison: skipped (/usr/bin/python3 cannot import captum; run with PYTHONPATH=<a Captum checkout>)');
    return;
  }
  console.log(`Captum on PyTorch ${threads === 1 ? '(1 thread' : `(${threads} threads`}, as ours; same CPU, run after ours; medians; targets: ours ≥ 1.3× faster than Saliency, ≥ 2.5× than DeepLift):`);
  for (const model of new Set(compared.map((r) => r.model))) {
    const batches = [...new Set(compared.filter((r) => r.model === model).map((r) => r.batch))];
    const out = execFileSync('/usr/bin/python3', [path.join(root, 'examples', 'captum_bench.py'), model, batches.join(','), String(runs), String(threads)], { encoding: 'utf8' });
    const captum = out.trim().split('\n').map((l) => JSON.parse(l) as { batch: number; method: string; ms: number; fastest_ms: number });
    for (const r of compared.filter((q) => q.model === model)) {
      const c = caseOf(r)!;
      const theirs = captum.find((t) => t.batch === r.batch && t.method === c.captum);
      if (!theirs) continue;
      const speedup = theirs.ms / r.attribution;
      const verdict = speedup >= c.faster ? 'PASS' : 'UNDER';
      console.log(`${model.padEnd(10)} ${c.captum.padEnd(17)} batch ${String(r.batch).padStart(2)}: Captum ${theirs.ms.toFixed(1).padStart(7)} ms (fastest ${theirs.fastest_ms.toFixed(1)}), ours ${r.attribution.toFixed(1).padStart(7)} ms, ${speedup.toFixed(2)}× faster ${verdict} (≥ ${c.faster}×; ${(theirs.fastest_ms / r.attribution).toFixed(2)}× against its fastest)`);
    }
  }
}
