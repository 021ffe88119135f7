/**
 * The mutation fuzzer: generates cases (cases.ts), runs them in a worker process (worker.ts)
 * that is restarted after a crash or a hang, and judges each run. A run ends well when it gives a
 * result (exit 0, finite attributions; zeros when x == baseline; DeepLIFT summing to f(x) − f(x⁰);
 * bit-identical when repeated) or
 * one line `onnx-explain: error: …` with exit 1, and in both cases writes nothing else to stderr
 * and leaves the user's files as they were.
 *
 *   node dist/test/support/fuzz/run.js [--cases N] [--seed S] [--keep]     (npm run fuzz)
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CONSTANT_INPUT, FuzzCase, makeCases } from './cases';
import { CaseResult, MARKER } from './worker';
import { readNpy } from '../../../runtime/node/npy-file';

export interface Verdict { c: FuzzCase; result?: CaseResult; native: string; problem?: string }

const WORKER = path.join(__dirname, 'worker.js');

/** Whether the case's --input .npy holds a float value of magnitude 10⁶ or more. */
function hugeInput(c: FuzzCase): boolean {
  const file = c.argv[c.argv.indexOf('--input') + 1];
  if (!c.argv.includes('--input') || !/\.npy$/.test(file)) return false;
  try {
    const a = readNpy(file);
    return a.dtype !== 'int64' && Array.from(a.data as Float32Array).some((v) => Math.abs(v) >= 1e6);
  } catch {
    return false;
  }
}

function judge(c: FuzzCase, r: CaseResult | undefined, native: string, ended: string | undefined): string | undefined {
  if (!r) return ended ?? 'no result';
  const nativeLines = native.split('\n').filter((l) => l.trim());
  if (nativeLines.length) return `native output on stderr: ${nativeLines[0].slice(0, 160)}`;
  if (r.changed.length) return `user files changed: ${r.changed.join(', ')}`;
  if ([...r.err, ...r.warn].some((l) => /\n\s+at /.test(l))) return 'stack trace';
  if (r.code === 1) {
    if (r.err.length !== 1 || !r.err[0].startsWith('onnx-explain: error: ') || /[\n\r]/.test(r.err[0])) return `not one clean error line: ${JSON.stringify(r.err).slice(0, 200)}`;
    if (r.warn.length) return `warnings before the error: ${r.warn[0]}`;
    return undefined;
  }
  if (r.code !== 0) return `exit code ${r.code}: ${r.err.join(' | ').slice(0, 200)}`;
  if (r.err.length) return `exit 0 with error lines: ${r.err[0]}`;
  if (c.refuse) return 'accepted (expected a one-line refusal)';
  // Huge values (3e38 weights or inputs; a flipped exponent byte in a model's bytes) leave f(x) −
  // f(x⁰), a multiplier or the product rule's two cancelling terms without precision: there the
  // CLI's warning is the right outcome (fuzz seed 1434: a 1e16 scale before an erf GELU). So it is
  // for a constant input to a model that normalises its input: there x − mean is rounding noise,
  // amplified by 1/√ε into f(x) but not attributable to any feature (seed 1809: the audio model).
  // So it is at the other end: a weight of 1e-30 (seed 2371) leaves terms that a later bias keeps no
  // digit of, and for an input whose mutated bytes hold 2e8 beside pixels of order 1 (seed 2373:
  // hard-swish's product of two cancelling 10⁸-sized terms).
  const missed = r.warn.find((l) => l.includes('attributions miss f(x) − f(x⁰)'));
  const extreme = /e\+(1\d|2\d|3\d)\b|e-(2\d|3\d|4\d)\b/.test(c.what) || hugeInput(c);
  if (missed && c.family !== 'bytes' && !extreme && !c.what.includes(CONSTANT_INPUT)) return `summation-to-delta: ${missed}`;
  return r.outProblem;
}

/**
 * Runs the cases in workers; a crash or hang ends a worker and a new one goes on with the next
 * case. Native stderr is split by the worker's markers and judged once the worker has closed (its
 * stderr and stdout pipes are not ordered with each other).
 */
async function runAll(cases: FuzzCase[], casesFile: string, timeoutMs: number, progress?: (done: number) => void): Promise<Verdict[]> {
  const verdicts: Verdict[] = [];
  let next = 0;
  while (next < cases.length) {
    const start = next;
    await new Promise<void>((resolve) => {
      const child = spawn(process.execPath, [WORKER, casesFile, String(start), String(cases.length)], { stdio: ['ignore', 'pipe', 'pipe'] });
      const results = new Map<number, CaseResult>();
      const native = new Map<number, string>();
      let errText = '';
      let outText = '';
      let ended: string | undefined;
      let timer: NodeJS.Timeout;
      const arm = () => {
        clearTimeout(timer);
        timer = setTimeout(() => { ended = `hang (no result in ${timeoutMs / 1000} s)`; child.kill('SIGKILL'); }, timeoutMs);
      };
      arm();
      child.stderr.on('data', (d: Buffer) => { errText += d.toString(); });
      child.stdout.on('data', (d: Buffer) => {
        outText += d.toString();
        let nl;
        while ((nl = outText.indexOf('\n')) >= 0) {
          const result = JSON.parse(outText.slice(0, nl)) as CaseResult;
          outText = outText.slice(nl + 1);
          results.set(result.id, result);
          progress?.(start + results.size);
          arm();
        }
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        let id = -1;
        for (const line of errText.split('\n')) {
          if (line.startsWith(MARKER)) id = Number(line.slice(MARKER.length));
          else if (id >= 0 && line.trim()) native.set(id, `${native.get(id) ?? ''}${line}\n`);
        }
        for (; next < cases.length && (results.has(cases[next].id) || next === start + results.size); next++) {
          const c = cases[next];
          const r = results.get(c.id);
          const text = native.get(c.id) ?? '';
          const crash = ended ?? `crash (exit ${code}, signal ${signal}): ${text.trim().split('\n').pop()?.slice(0, 160)}`;
          verdicts.push({ c, result: r, native: text, problem: judge(c, r, text, r ? undefined : crash) });
          if (!r) { next++; break; }
        }
        resolve();
      });
    });
  }
  return verdicts;
}

export interface FuzzRun { verdicts: Verdict[]; dir: string }

export async function fuzz(seed: number, count: number, options: { timeoutMs?: number; progress?: (done: number) => void } = {}): Promise<FuzzRun> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-explain-fuzz-'));
  const cases = makeCases(seed, count, dir);
  const casesFile = path.join(dir, 'cases.json');
  fs.writeFileSync(casesFile, JSON.stringify(cases));
  const verdicts = await runAll(cases, casesFile, options.timeoutMs ?? 20_000, options.progress);
  return { verdicts, dir };
}

export function summary(verdicts: Verdict[]): string {
  const bad = verdicts.filter((v) => v.problem);
  const results = verdicts.filter((v) => !v.problem && v.result?.code === 0).length;
  const lines = [`${verdicts.length} cases: ${results} results, ${verdicts.length - results - bad.length} one-line errors, ${bad.length} problems (${(100 * (verdicts.length - bad.length) / verdicts.length).toFixed(1)} % end well)`];
  const gradients = verdicts.map((v) => v.result?.gradient).filter((g) => g);
  const skipped = gradients.filter((g) => g!.startsWith('skipped')).length;
  lines.push(`gradients of accepted mutated models vs central differences: ${gradients.filter((g) => g === 'agrees').length} agree, ${gradients.length - skipped - gradients.filter((g) => g === 'agrees').length} differ, ${skipped} skipped (kinks, steps, shapes)`);
  const byFamily = new Map<string, number>();
  for (const v of bad) byFamily.set(v.c.family, (byFamily.get(v.c.family) ?? 0) + 1);
  if (bad.length) lines.push(`problems by family: ${[...byFamily].map(([f, n]) => `${f} ${n}`).join(', ')}`);
  for (const v of bad) lines.push(`  #${v.c.id} [${v.c.family}] ${v.c.what}: ${v.problem}\n      onnx-explain ${v.c.argv.join(' ')}${v.result?.err.length ? `\n      ${v.result.err[0].slice(0, 240)}` : ''}`);
  return lines.join('\n');
}

if (require.main === module) {
  const arg = (name: string, fallback: number) => {
    const k = process.argv.lastIndexOf(name);
    return k >= 0 ? Number(process.argv[k + 1]) : fallback;
  };
  const count = arg('--cases', 1600);
  const tty = process.stderr.isTTY;
  fuzz(arg('--seed', 1), count, { progress: (done) => { if (tty) process.stderr.write(`\rfuzz ${done}/${count}`); } }).then(({ verdicts, dir }) => {
    if (tty) process.stderr.write('\n');
    console.log(summary(verdicts));
    if (process.argv.includes('--keep')) console.log(`cases kept in ${dir}`);
    else fs.rmSync(dir, { recursive: true, force: true });
    process.exitCode = verdicts.some((v) => v.problem) ? 1 : 0;
  });
}
