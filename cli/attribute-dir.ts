import { isUtf8 } from 'buffer';
import * as fs from 'fs';
import * as path from 'path';
import { ExplainError } from '../rewriter/errors';
import { Explainer, TensorData } from '../runtime';
import { checkOutput, fileError, makeFolder, removeStaleTemporaries } from '../runtime/node/files';
import { writeNpy } from '../runtime/node/npy-file';
import { intFlag, normalizationFlags, Parsed, preprocessFlag } from './args';
import { drawingFlag } from './visualize';
import { attributeOptions, baselineArgs, baselineOptions, jointOut, loadInput, modelArg, modelOptions, readFiles, runOptions } from './main';
import { progressBar, say } from './output';

export const ATTRIBUTE_DIR_HELP = `Folder mode (instead of --input/--out):
  --input-dir DIR       every .npy / .png / .jpg in DIR (one row each), in name order
  --out-dir OUT         one NAME.npy of attributions per input (joint attribution: NAME.INPUT.npy per
                        explained input); inputs whose outputs exist are skipped, so an interrupted
                        run resumes where it stopped
  --batch-size B        inputs per run (default 16): memory stays bounded by one batch; consecutive
                        inputs of one shape share a run (another length or size starts the next)`;

/** Flags of the folder mode, besides attribute's own. */
export const ATTRIBUTE_DIR_FLAGS = { 'input-dir': true, 'out-dir': true, 'batch-size': true };

/** `attribute MODEL --input-dir DIR --out-dir OUT`: streams a folder of inputs in batches. */
export async function attributeDir(p: Parsed): Promise<void> {
  const model = modelArg(p, 'attribute');
  const inDir = p.flags.get('input-dir') as string;
  const outDir = p.flags.get('out-dir') as string | undefined;
  if (!outDir) throw new ExplainError('attribute: --input-dir needs --out-dir OUT');
  if (p.flags.has('input') || p.flags.has('out')) throw new ExplainError('attribute: --input-dir/--out-dir replace --input/--out; give one pair');
  const batch = intFlag(p, 'batch-size') ?? 16;
  if (batch < 1) throw new ExplainError(`--batch-size: ${batch} must be at least 1`);
  // One target (a class or a multi-index) for every input: rows are files, in batches of any size.
  for (const flag of ['target', 'contrast']) if ((p.flags.get(flag) as string | undefined)?.includes(',')) throw new ExplainError(`--${flag}: folder mode takes one ${flag} for every input (a class K or a multi-index i:j:…), not one per row`);
  let names: string[];
  try {
    // Files, and links to files: a folder named x.npy is no input.
    const isFile = (f: string) => fs.statSync(path.join(inDir, f), { throwIfNoEntry: false })?.isFile();
    const entries = fs.readdirSync(inDir, { encoding: 'buffer' });
    const inputs = entries.filter((b) => /\.(npy|png|jpe?g)$/i.test(b.toString('utf8')));
    // A name that is not UTF-8 reads with U+FFFD in place of its bytes, which names no file: it was skipped without a word.
    const mangled = inputs.find((b) => !isUtf8(b));
    if (mangled) throw new ExplainError(`--input-dir ${inDir}: the name of '${mangled.toString('utf8')}' holds bytes that are not UTF-8, which Node cannot open: rename it`);
    names = inputs.map((b) => b.toString('utf8')).filter(isFile).sort();
  } catch (e) {
    throw fileError(e, inDir);
  }
  if (!names.length) throw new ExplainError(`--input-dir ${inDir}: no .npy, .png or .jpg files`);
  // Checked as for one --input: outputs are .npy, and --preprocess prepares image files.
  const drawing = drawingFlag(p);
  if (drawing) throw new ExplainError(`--${drawing} applies to figures (--out FIG.png); folder mode writes .npy`);
  if (p.flags.has('preprocess') && !names.some((f) => /\.(png|jpe?g)$/i.test(f))) throw new ExplainError(`--preprocess prepares image files (PNG, JPEG); ${inDir} holds arrays only, read as they are`);
  const outOf = new Map(names.map((f) => [f, path.join(outDir, `${f.replace(/\.[^.]+$/, '')}.npy`)]));
  const clash = names.find((f, k) => names.findIndex((g) => outOf.get(g) === outOf.get(f)) !== k);
  if (clash) throw new ExplainError(`--input-dir ${inDir}: two inputs would write ${outOf.get(clash)} (rename one of the files named ${path.basename(outOf.get(clash)!, '.npy')}.*)`);
  // The folder is made with the first output, so a run that fails before leaves none behind.
  const same = (a: fs.Stats, b: fs.Stats) => a.ino === b.ino && a.dev === b.dev;
  if (fs.existsSync(outDir) && same(fs.statSync(outDir), fs.statSync(inDir))) throw new ExplainError(`--out-dir ${outDir} is the input folder; choose another`);
  const ex = await Explainer.load(model, { ...modelOptions(p), ...runOptions(p) });
  // Joint attribution writes NAME.<input>.npy per explained input, as --out does; an input is done when all are there.
  const outputs = (f: string) => (ex.joint ? ex.explainedNames.map((i) => jointOut(outOf.get(f)!, i)) : [outOf.get(f)!]);
  const todo = names.filter((f) => !outputs(f).every((o) => fs.existsSync(o)));
  if (todo.length < names.length) say(`${names.length - todo.length} of ${names.length} inputs already have an output in ${outDir}: skipped`);
  removeStaleTemporaries(outDir, new Set(names.flatMap((f) => outputs(f).map((o) => path.basename(o)))));
  const preprocess = preprocessFlag(p, ex.imagePreset);
  const normalization = normalizationFlags(p);
  const baselines = baselineArgs(ex, p);
  const protect = readFiles(p, model, baselines);
  // The folder's progress bar, not one per batch.
  const options = { ...attributeOptions(p, 'attribute'), progress: undefined, ...baselineOptions(ex, baselines) };
  const bar = progressBar(`attribute ${inDir}`);
  // Batches of consecutive inputs of one shape (texts of other lengths, images of other sizes start a new one).
  let chunk: string[] = [];
  let rows: TensorData[] = [];
  let done = 0;
  const run = async () => {
    if (!rows.length) return;
    const per = rows[0].data.length;
    // Rows of their own type: token ids stay integers (numpy's int64 ids are a BigInt64Array).
    const x = { data: new (rows[0].data.constructor as new (n: number) => TensorData['data'])(per * rows.length), dims: [rows.length, ...rows[0].dims.slice(1)] };
    rows.forEach((r, k) => x.data.set(r.data, k * per));
    const r = await ex.attribute(x, options).catch((e) => {
      if (!(e instanceof ExplainError)) throw e;
      throw new ExplainError(`${path.join(inDir, chunk[0])}${chunk.length > 1 ? ` and ${chunk.length - 1} more of its shape` : ''}: ${e.message}`);
    });
    const parts = ex.joint ? ex.explainedNames.map((i) => r.inputAttributions![i]) : [r.attributions];
    makeFolder(outDir);
    chunk.forEach((f, k) => outputs(f).forEach((out, i) => {
      const t = parts[i];
      const size = t.data.length / rows.length;
      checkOutput(out, '--out-dir', [path.join(inDir, f), ...protect], false);
      writeNpy(out, t.data.slice(k * size, (k + 1) * size), [1, ...t.dims.slice(1)]);
    }));
    done += chunk.length;
    bar?.(done, todo.length);
    [chunk, rows] = [[], []];
  };
  for (const f of todo) {
    const { x } = await loadInput(ex, path.join(inDir, f), preprocess, normalization);
    if (x.dims[0] !== 1) throw new ExplainError(`${path.join(inDir, f)}: holds ${x.dims[0]} rows; folder mode takes one input row per file`);
    if (rows.length && x.dims.join() !== rows[0].dims.join()) await run();
    chunk.push(f);
    rows.push(x);
    if (rows.length === batch) await run();
  }
  await run();
  say(`wrote ${todo.length * (ex.joint ? ex.explainedNames.length : 1)} attribution files to ${outDir}`);
}
