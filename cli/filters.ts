import { ExplainError } from '../rewriter/errors';
import { Explainer } from '../runtime';
import { FilterOptions, FilterReport, filterSensitivity } from '../runtime/filters';
import { checkOutput, writeJsonFile } from '../runtime/node/files';
import { writePng } from '../runtime/node/png-file';
import { barPlot, Canvas } from '../runtime/plot';
import { intFlag, intsFlag, normalizationFlags, num, Parsed, preprocessFlag } from './args';
import { baselineArg, checkPreprocessed, feedFiles, feeds, loadInput, modelArg, modelOptions, singleWrtArg } from './main';
import { PROVIDERS } from '../runtime/session';
import { progressBar, say } from './output';

export const FILTERS_HELP = `onnx-explain filters MODEL --input X --layer NAME [options]

Filter sensitivity (Amirli 2021, §4.2–4.3): the channels (axis 1) of a layer with the largest mean
activation, and how occluding parts of the input changes them.

  --input X             .npy or image (as for attribute; --preprocess torchvision | tf | caffe | none | pixels,
                        --mean/--std)
  --layer NAME          the layer (onnx-explain info --layers lists them)
  --top K               how many channels to report (default 5)
  --out CHART.png       bar chart of every channel's mean activation (one colour per input row)
  --occlude grid        occlude a grid of windows: --window W [--stride S] (as occlusion)
  --occlude BOXES       occlude boxes: ranges over the trailing input dimensions, boxes separated
                        by ';', e.g. '0:8,0:8;8:16,8:16' (all channels)
  --fill V | --baseline B.npy|V  what the occluded region holds (default 0; random: seeded noise)
  --seed N              seed of the random fill
  --json FILE           the report (means, top-k, per occlusion: top-k, shared, change per channel)
  --internal-batch-size B  occluded inputs per forward run (default 16)
  --wrt NAME            the input to rank and occlude, for models with several (as for attribute)
  --feed NAME=FILE.npy  the values of the model's other inputs (as for attribute)
  --unbatched           the model takes one sample without a batch axis (see attribute --help)
  --provider P          ${PROVIDERS.join(' | ')} (default cpu)`;

export const FILTERS_FLAGS = {
  input: true, layer: true, top: true, out: true, occlude: true, window: true, stride: true, fill: true, seed: true, baseline: true,
  json: true, 'internal-batch-size': true, preprocess: true, mean: true, std: true, provider: true, wrt: true, feed: true, unbatched: false, help: false,
};

/** '0:8,0:8;8:16,8:16' → boxes of [start, end) ranges. */
function parseBoxes(text: string): [number, number][][] {
  return text.split(';').map((box) => box.split(',').map((range) => {
    const m = /^\s*(\d+)\s*:\s*(\d+)\s*$/.exec(range);
    if (!m) throw new ExplainError(`--occlude: '${range}' in '${text}' is not a range START:END (use 'grid' or boxes like 0:8,0:8;8:16,8:16)`);
    return [Number(m[1]), Number(m[2])] as [number, number];
  }));
}

const fmt = (v: number) => (v >= 0 ? '+' : '') + v.toFixed(4);

function printReport(r: FilterReport): void {
  const k = r.rows[0].top.length;
  say(`layer ${r.layer} [N, ${r.shape.slice(1).join(', ')}]: top ${k} of ${r.shape[1]} channels by mean activation`);
  r.rows.forEach((row, n) => {
    say(`row ${n}: ${row.top.map((c) => `${c} (${row.means[c].toPrecision(4)})`).join(', ')}`);
    if (!row.occluded) return;
    say(`  occluded region${' '.repeat(14)}top ${k}${' '.repeat(Math.max(1, 4 * k - 4))}shared  change of ${row.top.join(', ')}`);
    for (const o of row.occluded) {
      const region = JSON.stringify(o.region).padEnd(28);
      const top = o.top.join(' ').padEnd(4 * k + 2);
      say(`  ${region} ${top} ${`${o.shared}/${k}`.padEnd(7)} ${row.top.map((c) => fmt(o.change[c])).join(' ')}`);
    }
  });
}

export async function filters(p: Parsed): Promise<void> {
  const model = modelArg(p, 'filters');
  const inputFile = p.flags.get('input') as string | undefined;
  if (!inputFile) throw new ExplainError('filters: --input X.npy (or an image) is required');
  checkPreprocessed(p, inputFile);
  const layer = p.flags.get('layer') as string | undefined;
  if (!layer) throw new ExplainError('filters: --layer NAME is required (onnx-explain info --layers lists them)');
  const out = p.flags.get('out') as string | undefined;
  if (out && !/\.png$/i.test(out)) throw new ExplainError(`--out: '${out}' must end in .png`);
  const json = p.flags.get('json') as string | undefined;
  const baselineFile = p.flags.get('baseline') as string | undefined;
  const wrt = singleWrtArg(p, 'filters', 'the one to rank and occlude');
  const protect = [model, inputFile, baselineFile, ...feedFiles(p)];
  if (out) checkOutput(out, '--out', [...protect, json]);
  if (json) checkOutput(json, '--json', [...protect, out]);
  const occlude = p.flags.get('occlude') as string | undefined;
  if (occlude !== undefined && occlude.trim() === '') throw new ExplainError("--occlude: empty (use 'grid' or boxes like 0:8,0:8;8:16,8:16)");
  if (!occlude) {
    const unused = ['fill', 'seed', 'baseline', 'internal-batch-size'].filter((f) => p.flags.has(f));
    if (unused.length) throw new ExplainError(`${unused.map((f) => `--${f}`).join(', ')} ${unused.length > 1 ? 'apply' : 'applies'} only with --occlude`);
  }
  if (occlude === 'grid' && !p.flags.has('window')) throw new ExplainError('--occlude grid needs --window (one size per input dimension without the batch)');
  if (occlude !== 'grid' && (p.flags.has('window') || p.flags.has('stride'))) throw new ExplainError('--window/--stride need --occlude grid');
  const fill = p.flags.get('fill') as string | undefined;
  const stride = intsFlag(p, 'stride');
  const options: FilterOptions = {
    layer,
    top: intFlag(p, 'top'),
    window: occlude === 'grid' ? intsFlag(p, 'window') : undefined,
    stride: stride?.length === 1 ? stride[0] : stride,
    boxes: occlude && occlude !== 'grid' ? parseBoxes(occlude) : undefined,
    fill: fill === undefined || fill === 'random' ? fill : num(fill, '--fill'),
    seed: intFlag(p, 'seed'),
    internalBatchSize: intFlag(p, 'internal-batch-size'),
    feeds: feeds(p.flags.get('feed') as string | undefined),
    progress: progressBar('filters'),
  };
  const ex = await Explainer.load(model, { ...modelOptions(p), wrt });
  if (baselineFile) options.baseline = baselineArg(ex, baselineFile);
  const preprocess = preprocessFlag(p, ex.imagePreset);
  const { x } = await loadInput(ex, inputFile, preprocess, normalizationFlags(p));
  const report = await filterSensitivity(ex, x, options);
  printReport(report);
  if (out) {
    const series = report.rows.map((r, k) => ({ y: r.means, label: report.rows.length > 1 ? `row ${k}` : undefined }));
    const title = `mean activation per channel of '${report.layer}'`;
    writePng(out, barPlot(series, { width: Math.max(480, 64 + 4 * report.shape[1] * report.rows.length, Canvas.textWidth(title) + 64), height: 240, title, xLabel: 'channel' }));
    say(`wrote ${out}`);
  }
  if (json) {
    const plain = { ...report, rows: report.rows.map((r) => ({ ...r, means: Array.from(r.means), occluded: r.occluded?.map((o) => ({ ...o, change: Array.from(o.change) })) })) };
    writeJsonFile(json, plain, 1);
    say(`wrote ${json}`);
  }
}
