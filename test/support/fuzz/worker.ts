/**
 * Child process of the fuzzer: runs cases [start, end) of a case file through the CLI's main()
 * in-process. Before each case it writes a marker to fd 2, so the parent can attribute native
 * log lines (which bypass console) and crashes to a case; after it, one JSON result line on fd 1.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { readNpy } from '../../../runtime/node/npy-file';
import { runCli } from '../cli-harness';
import { FuzzCase } from './cases';
import { GradientCheck, gradientCheck } from './gradient-check';

export interface CaseResult {
  id: number;
  code: number;
  err: string[];
  warn: string[];
  /** Protected paths whose type or bytes changed. */
  changed: string[];
  /** A problem found in the --out file: non-finite, non-zero for x == baseline, differs between runs. */
  outProblem?: string;
  /** The central-difference check of an accepted mutated model's gradient, where one ran. */
  gradient?: GradientCheck;
  ms: number;
}

export const MARKER = '\u0001fuzz-case ';

/** Type and bytes of a path, not following links (a link's target is protected on its own). */
function state(file: string): string {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(file);
  } catch {
    return 'missing';
  }
  if (st.isSymbolicLink()) return `link ${fs.readlinkSync(file)}`;
  if (!st.isFile()) return st.isDirectory() ? 'folder' : 'special';
  return `file ${crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex')}`;
}

function checkOut(c: FuzzCase, first: string | undefined): string | undefined {
  if (!c.out || !fs.existsSync(c.out)) return c.out ? 'exit 0 but no --out file' : undefined;
  const a = readNpy(c.out).data as Float32Array;
  const bad = a.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) return `non-finite attribution ${a[bad]} at ${bad}`;
  if (c.family === 'zeros') {
    const k = a.findIndex((v) => v !== 0);
    if (k >= 0) return `x == baseline but attribution[${k}] = ${a[k]}`;
  }
  if (first !== undefined && !fs.readFileSync(c.out).equals(fs.readFileSync(first))) return 'results differ between two runs';
  return undefined;
}

async function runCase(c: FuzzCase): Promise<CaseResult> {
  const t0 = Date.now();
  const before = c.protect.map(state);
  const r = await runCli(c.argv);
  let outProblem: string | undefined;
  if (r.code === 0 && c.repeat && c.out && fs.existsSync(c.out)) {
    // Folder mode resumes (skips outputs that exist): its whole --out-dir is moved aside, so that
    // the second run repeats the same batches.
    const dir = c.argv.includes('--out-dir') ? path.dirname(c.out) : undefined;
    if (dir) fs.renameSync(dir, `${dir}.first`);
    const first = dir ? path.join(`${dir}.first`, path.basename(c.out)) : `${c.out}.first`;
    if (!dir) fs.renameSync(c.out, first);
    const again = await runCli(c.argv);
    outProblem = again.code !== 0 ? `second run exit ${again.code}: ${again.err.join(' | ')}` : checkOut(c, first);
  } else if (r.code === 0) {
    outProblem = checkOut(c, undefined);
  }
  const gradient = r.code === 0 && !outProblem && c.gradcheck ? await gradientCheck(c.gradcheck.model, c.gradcheck.input, c.id) : undefined;
  if (gradient?.startsWith('differs')) outProblem = gradient;
  const changed = c.protect.filter((f, k) => state(f) !== before[k]);
  return { id: c.id, code: r.code, err: r.err, warn: r.warn, changed, outProblem, gradient, ms: Date.now() - t0 };
}

async function main(): Promise<void> {
  const [file, start, end] = process.argv.slice(2);
  const cases = (JSON.parse(fs.readFileSync(file, 'utf8')) as FuzzCase[]).slice(Number(start), Number(end));
  for (const c of cases) {
    fs.writeSync(2, `\n${MARKER}${c.id}\n`);
    const result = await runCase(c);
    fs.writeSync(1, `${JSON.stringify(result)}\n`);
  }
}

if (require.main === module) {
  main().then(() => process.exit(0), (e) => {
    fs.writeSync(2, `worker failed: ${(e as Error)?.stack ?? e}\n`);
    process.exit(70);
  });
}
