import { ExplainError } from '../rewriter/errors';
import { Explainer } from '../runtime';
import { maximize, MaximizeOptions } from '../runtime/drivers/maximize';
import { checkOutput, jsonBytes, writeFilesTogether } from '../runtime/node/files';
import { encodeNpy } from '../runtime/npy';
import { encodePng } from '../runtime/node/png-file';
import { linePlot, upscale } from '../runtime/plot';
import { intFlag, normalizationOf, num, numList, Parsed, preprocessFlag } from './args';
import { feedFiles, feeds, modelArg, modelOptions, singleWrtArg } from './main';
import { PROVIDERS } from '../runtime/session';
import { imageLayout, pictureOf } from './pictures';
import { progressBar, say } from './output';

export const MAXIMIZE_HELP = `onnx-explain maximize MODEL (--target K | --layer NAME --channel C) --out IMG.png|IMG.npy [options]

Activation maximisation: gradient ascent with Adam from seeded noise on a class logit (--target)
or on the mean activation of one channel (axis 1) of any tensor (--layer: tensor or node name).
Writes IMG.npy (the input, model space), IMG.png (de-normalised with the preset, each pixel an
integer-sized block up to --display-size), IMG.objective.json (objective and activation per step)
and IMG.objective.png (their plot).

  --output NAME         model output holding the class scores (when it has several)
  --preprocess P        torchvision (ImageNet mean/std; default for 3 channels) | tf ([-1,1]) | none (pixels in [0,1])
  --mean M --std S      the model's own normalisation in place of the preset's (torchvision's Normalize(M, S),
                        one value or one per channel): sets the default --range and IMG.png's colours
  --range LO,HI         box the input stays in, in model space (default: pixels 0..1 under the preset)
  --lr L --beta1 B1 --beta2 B2   Adam (default 0.05, 0.9, 0.999)
  --stages S            stages (default 12); --steps N Adam steps per early stage (default 20),
  --growth G            ×G more per stage in the second half (default 1.3)
  --start-size S --upscale F     models with free spatial sizes: first stage S×S (default 56), ×F per stage (default 1.2)
  --blur SIGMA          Gaussian blur between stages, in pixels (default 1; 0: none)
  --lp-weight W --p P   Lp regulariser: W·mean|x|^P (default 0, 6)
  --tv-weight W --tv-beta B      total variation: W·mean (|∇x|² + ε)^(B/2) (default 0, 2)
  --seed N              noise seed (default 0)
  --display-size PX     IMG.png's longer side at most PX, by whole-pixel blocks (default 224; the model's size if larger)
  --wrt NAME            the input optimised, for models with several (as for attribute)
  --feed NAME=FILE.npy  the values of the model's other inputs, held fixed (one row)
  --unbatched           the model takes one sample without a batch axis (see attribute --help)
  --provider P          ${PROVIDERS.join(' | ')} (default cpu)`;

/** The objective flags `maximize` and `rewrite --method maximize` share. */
export const OBJECTIVE_FLAGS = { target: true, layer: true, channel: true, output: true, 'lp-weight': true, p: true, 'tv-weight': true, 'tv-beta': true };

/** The model's input flags `maximize` and `rewrite --method maximize` share: the input optimised, the others' values. */
export const OPTIMISED_INPUT_FLAGS = { wrt: true, feed: true, unbatched: false };

/** The model as maximize and rewrite --method maximize load it: the one input optimised (--wrt), the others fed (--feed). */
export async function optimisedModel(p: Parsed, model: string, command: string): Promise<{ ex: Explainer; feeds?: ReturnType<typeof feeds> }> {
  const wrt = singleWrtArg(p, command, 'the one optimised');
  return { ex: await Explainer.load(model, { ...modelOptions(p), wrt }), feeds: feeds(p.flags.get('feed') as string | undefined) };
}

export const MAXIMIZE_FLAGS = {
  ...OBJECTIVE_FLAGS, ...OPTIMISED_INPUT_FLAGS, out: true, preprocess: true, mean: true, std: true, range: true, lr: true, beta1: true, beta2: true,
  stages: true, steps: true, growth: true, 'start-size': true, upscale: true, blur: true, seed: true, 'display-size': true, provider: true, help: false,
};

function numberFlags(p: Parsed) {
  const number = (flag: string) => (p.flags.has(flag) ? num(p.flags.get(flag) as string, `--${flag}`) : undefined);
  const integer = (flag: string) => {
    const v = number(flag);
    if (v !== undefined && (!Number.isInteger(v) || v < 0)) throw new ExplainError(`--${flag}: '${p.flags.get(flag)}' is not a non-negative integer`);
    return v;
  };
  return { number, integer };
}

/** What is maximised (--target, or --layer with --channel) and the regulariser terms. */
export function objectiveFlags(p: Parsed): MaximizeOptions {
  const { number, integer } = numberFlags(p);
  if (p.flags.has('target') === p.flags.has('layer')) throw new ExplainError('maximize: give --target K or --layer NAME (with --channel C), not both');
  return {
    target: intFlag(p, 'target'), layer: p.flags.get('layer') as string | undefined, channel: integer('channel'), output: p.flags.get('output') as string | undefined,
    lpWeight: number('lp-weight'), p: number('p'), tvWeight: number('tv-weight'), tvBeta: number('tv-beta'),
  };
}

export async function maximizeCommand(p: Parsed): Promise<void> {
  const model = modelArg(p, 'maximize');
  const out = p.flags.get('out') as string | undefined;
  if (!out || !/\.(npy|png)$/i.test(out)) throw new ExplainError(`maximize: --out IMG.png or IMG.npy is required${out ? ` ('${out}' has another extension)` : ''}`);
  const base = out.replace(/\.(npy|png)$/i, '');
  const files = [`${base}.npy`, `${base}.png`, `${base}.objective.json`, `${base}.objective.png`];
  for (const f of files) checkOutput(f, '--out', [model, ...feedFiles(p)]);
  const { number, integer } = numberFlags(p);
  const objective = objectiveFlags(p);
  const display = integer('display-size') ?? 224;
  if (display < 1) throw new ExplainError(`--display-size: '${p.flags.get('display-size')}' is not a positive integer`);
  const { ex, feeds } = await optimisedModel(p, model, 'maximize');
  const channels = ex.input.dims.length === 4 ? imageLayout(ex.input.dims).channels : 1;
  const preprocess = preprocessFlag(p, channels === 3 ? 'torchvision' : 'none', ['torchvision', 'tf', 'none']);
  const norm = normalizationOf(p, preprocess, channels, ex.label);
  let low = norm.mean.map((m, c) => (0 - m) / norm.std[c]);
  let high = norm.mean.map((m, c) => (1 - m) / norm.std[c]);
  if (p.flags.has('range')) {
    const r = numList(String(p.flags.get('range')), '--range');
    if (r.length !== 2 || !(r[0] < r[1])) throw new ExplainError(`--range: '${p.flags.get('range')}' is not LO,HI with LO < HI`);
    [low, high] = [[r[0]], [r[1]]];
  }
  const options: MaximizeOptions = {
    ...objective,
    lr: number('lr'), beta1: number('beta1'), beta2: number('beta2'), stages: integer('stages'), steps: integer('steps'), growth: number('growth'),
    startSize: integer('start-size'), upscale: number('upscale'), blur: number('blur'), seed: integer('seed'), low, high,
    feeds, progress: progressBar('maximize'),
  };
  const r = await maximize(ex, options);
  const [npy, png, json, plot] = files;
  const isImage = r.image.dims.length === 4;
  const side = Math.max(...r.sizes[r.sizes.length - 1]);
  const record = { objective: r.objective, activation: r.activation, final_activation: r.final, sizes: r.sizes, time_ms: Math.round(r.timeMs) };
  const unit = options.target !== undefined ? `logit ${options.target}` : `channel ${options.channel ?? 0} of '${options.layer}'`;
  const series = [{ y: r.objective, label: 'objective (with regularisers)' }, { y: r.activation, label: options.target !== undefined ? unit : 'mean activation' }];
  // One run's files, never some beside an earlier run's.
  writeFilesTogether([
    { file: npy, bytes: encodeNpy(r.image.data, r.image.dims) },
    ...(isImage ? [{ file: png, bytes: encodePng(upscale(pictureOf(r.image.data, r.image.dims, norm), Math.max(1, Math.floor(display / side)))) }] : []),
    { file: json, bytes: jsonBytes(record) },
    { file: plot, bytes: encodePng(linePlot(series, { width: 480, height: 240, title: `maximising ${unit}`, xLabel: 'step' })) },
  ]);
  say(`maximised ${unit}: ${r.activation[0].toPrecision(4)} → ${r.final.toPrecision(4)} in ${r.objective.length} steps (${(r.timeMs / 1000).toFixed(1)} s), final size [${r.image.dims}]`);
  say(`wrote ${(isImage ? files : [npy, json, plot]).join(', ')}${isImage ? '' : ` (no ${png}: the input [${r.image.dims}] is not an image)`}`);
}
