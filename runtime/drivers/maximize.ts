import { checkKnown } from '../known-options';
import { buildMaximization, maximizeNames } from '../../rewriter/maximize-graph';
import { ExplainError } from '../../rewriter/errors';
import { ModelProto } from '../../rewriter/proto';
import type { Explainer, Prepared } from '../explainer';
import { firstNonFinite } from '../finite';
import { Progress } from '../progress';
import { floatTensor, TensorData, TensorInput } from '../tensors';
import { ADAM_DEFAULTS, AdamLoop } from './adam-loop';
import { activationLayer } from './forward';
import { hostData, withLoopSession } from './loop-session';
import { objectKey } from '../object-key';
import { checkSeed, uniform } from '../random';
import { fromEnd, indexRange } from '../targets';
import { blurPlanes, planesOf, resizePlanes } from './upscale';
import { channelsLast } from '../../rewriter/image-layout';

export interface MaximizeOptions {
  /** Maximise this class's logit (Simonyan et al.'s class model)… */
  target?: number;
  /** …or the mean activation of one channel (axis 1) of any tensor, named by tensor or node name. */
  layer?: string;
  channel?: number;
  /** The model output holding the class scores (when it has several). */
  output?: string;
  /** Adam: step size (default 0.05), β1, β2. */
  lr?: number;
  beta1?: number;
  beta2?: number;
  /** Amirli's schedule: stages (default 12), Adam steps per stage in the first half (default 20), ×growth per later stage (default 1.3). */
  stages?: number;
  steps?: number;
  growth?: number;
  /** Side of the first stage for models with free spatial sizes (default 56); each stage is ×upscale (default 1.2). */
  startSize?: number;
  upscale?: number;
  /** σ of the Gaussian blur between stages, in pixels (default 1; 0: none). */
  blur?: number;
  /** Lp term: weight (default 0) and p (default 6); total variation: weight (default 0) and β (default 2). */
  lpWeight?: number;
  p?: number;
  tvWeight?: number;
  tvBeta?: number;
  /** Box the input is kept in, per channel or one for all (default [0, 1]); noise starts in its middle fifth. */
  low?: number[];
  high?: number[];
  seed?: number;
  /** Values of the model's other inputs (as attribute's `feeds`; one row): held while the explained input is optimised. */
  feeds?: Record<string, TensorInput>;
  progress?: Progress;
}

export interface MaximizeResult {
  /** The optimised input (model input space, batch 1). */
  image: TensorData;
  /** Objective and Σ seed·activation at each step. */
  objective: number[];
  activation: number[];
  /** The activation at the final image. */
  final: number;
  /** Spatial size of each stage. */
  sizes: number[][];
  timeMs: number;
}

interface Objective { at: string; seedAt: (shape: number[]) => Float32Array; describe: string }

/** What is maximised: a class logit (e_k on the logits) or a channel's mean (1/(H·W) on channel c). */
function objectiveOf(ex: Explainer, o: MaximizeOptions, prepared: Prepared): Objective {
  if ((o.target === undefined) === (o.layer === undefined)) throw new ExplainError('maximize: give either a target class or a layer and channel');
  if (o.layer !== undefined && o.output !== undefined) throw new ExplainError('maximize: --output names the class scores of a --target; a --layer objective uses none');
  if (o.target !== undefined && o.channel !== undefined) throw new ExplainError('maximize: --channel picks a channel of a --layer objective; a --target objective uses none');
  if (o.target !== undefined) {
    const { from } = ex.resolveOutput(o.output);
    ex.checkTensor(prepared, from, 'class scores');
    const k = o.target;
    return {
      at: from, describe: `logit ${k}`,
      seedAt: (shape) => {
        const classes = shape.slice(1).reduce((a, b) => a * b, 1);
        const at = fromEnd(k, classes);
        if (at === undefined) throw new ExplainError(`${ex.label}: target ${k} is out of range for '${from}' with ${classes} classes (${indexRange(classes)})`);
        const s = new Float32Array(classes);
        s[at] = 1;
        return s;
      },
    };
  }
  const at = activationLayer(ex, prepared, o.layer!, 'maximise');
  const c = o.channel ?? 0;
  return {
    at, describe: `mean of channel ${c} of '${at}'`,
    seedAt: (shape) => {
      if (shape.length < 2 || !Number.isInteger(c) || c < 0 || c >= shape[1]) throw new ExplainError(`${ex.label}: channel ${c} is out of range for '${at}' of shape [${shape}] (channels on axis 1)`);
      const per = shape.slice(2).reduce((a, b) => a * b, 1);
      const s = new Float32Array(shape[1] * per);
      s.fill(1 / per, c * per, (c + 1) * per);
      return s;
    },
  };
}

/** Most Adam steps and largest image side a schedule may ask for: beyond them it is a typo, not a run. */
const MAX_STEPS = 1_000_000;
const MAX_SIDE = 4096;

function checkSchedule(o: { stages: number; steps: number; growth: number; upscale: number; total: number; fewest: number; side: number; smallest: number; lr: number; beta1: number; beta2: number; tvWeight: number; blur: number }): void {
  const fail = (m: string) => { throw new ExplainError(`maximize: ${m}`); };
  if (!Number.isInteger(o.stages) || o.stages < 1) fail(`stages ${o.stages} must be a positive integer`);
  if (!Number.isInteger(o.steps) || o.steps < 1) fail(`steps ${o.steps} must be a positive integer`);
  for (const [name, v] of [['growth', o.growth], ['upscale', o.upscale], ['lr', o.lr]] as const) if (!(Number.isFinite(v) && v > 0)) fail(`${name} ${v} must be a finite number > 0`);
  if (!(Number.isFinite(o.blur) && o.blur >= 0)) fail(`blur ${o.blur} must be a finite number ≥ 0`);
  if (!(o.smallest >= (o.tvWeight ? 2 : 1))) fail(`a stage's image side would be ${o.smallest} pixels (at least ${o.tvWeight ? '2 for total variation' : 1}: raise --start-size or --upscale)`);
  if (o.blur > MAX_SIDE) fail(`blur σ ${o.blur} is wider than any image (at most ${MAX_SIDE} pixels)`);
  // Adam's moment decay rates (Kingma & Ba 2015, Alg. 1): β ∈ [0, 1).
  for (const [name, v] of [['beta1', o.beta1], ['beta2', o.beta2]] as const) if (!(v >= 0 && v < 1)) fail(`${name} ${v} must be in [0, 1)`);
  // A growth below 1 rounds later stages' steps down: a stage of none would only resize and blur.
  if (o.fewest < 1) fail(`a stage would run no Adam step (${o.steps} steps × growth ${o.growth} per later stage rounds to 0): raise --steps or --growth`);
  if (!(o.total <= MAX_STEPS)) fail(`${o.stages} stages of ${o.steps} steps growing ×${o.growth} make ${o.total} Adam steps (at most ${MAX_STEPS})`);
  if (!(o.side <= MAX_SIDE)) fail(`the last stage's image side would be ${o.side} pixels (at most ${MAX_SIDE}: lower --upscale or --stages)`);
}

/** The axes of an image input's channels and of its height and width ([N, C, H, W] or channels last); none for other inputs. */
function imageAxes(dims: number[]): { channel: number; spatial: [number, number] } | undefined {
  if (dims.length !== 4) return undefined;
  return channelsLast(dims) ? { channel: 3, spatial: [1, 2] } : { channel: 1, spatial: [2, 3] };
}

/** The Lp and TV terms of the objective (rewriter/regularizers.ts) with their defaults. */
function regularizers(o: MaximizeOptions, dims: number[]) {
  const fail = (m: string) => { throw new ExplainError(`maximize: ${m}`); };
  const lp = { weight: o.lpWeight ?? 0, p: o.p ?? 6 };
  const tv = { weight: o.tvWeight ?? 0, beta: o.tvBeta ?? 2, axes: imageAxes(dims)?.spatial ?? [] };
  for (const [name, v] of [['lp-weight', lp.weight], ['tv-weight', tv.weight]] as const) if (!(Number.isFinite(v) && v >= 0)) fail(`${name} ${v} must be a finite number ≥ 0`);
  // Mahendran & Vedaldi's α-norm needs α ≥ 1: below it |x|^(p−1) is infinite at a pixel the box clamps to 0 (NaN steps).
  if (lp.weight && !(Number.isFinite(lp.p) && lp.p >= 1)) fail(`p ${lp.p} must be a finite number ≥ 1`);
  if (tv.weight && !(Number.isFinite(tv.beta) && tv.beta > 0)) fail(`tv-beta ${tv.beta} must be a finite number > 0`);
  if (tv.weight && !tv.axes.length) fail('total variation (--tv-weight) needs an image input [N, C, H, W] or [N, H, W, C]');
  // An exponent without its term's weight would change nothing.
  if (o.p !== undefined && !lp.weight) fail(`p ${o.p} is the exponent of the Lp term, which lp-weight (--lp-weight W > 0) turns on`);
  if (o.tvBeta !== undefined && !tv.weight) fail(`tv-beta ${o.tvBeta} is the exponent of the total variation term, which tv-weight (--tv-weight W > 0) turns on`);
  return { lp, tv };
}

/**
 * The objective graph of one input size as `rewrite --method maximize` saves it: the model input →
 * `objective`, `activation` and `gradient` (regulariser terms included), with the class or channel
 * seed built in. The Adam step is the loop's, not part of it.
 */
export async function maximizationGraph(ex: Explainer, o: MaximizeOptions, rowDims: number[]): Promise<ModelProto> {
  checkKnown('maximizationGraph', o, MAXIMIZE_KEYS);
  const prepared = await ex.prepare(rowDims, undefined, o.feeds);
  const obj = objectiveOf(ex, o, prepared);
  const atShape = prepared.facts.shapes.get(obj.at)!;
  return buildMaximization({
    view: prepared.view, facts: prepared.facts, input: ex.input.name, at: obj.at, ...regularizers(o, ex.input.dims),
    seed: { values: obj.seedAt(atShape), dims: [1, ...atShape.slice(1)] },
  });
}

const MAXIMIZE_KEYS: Record<keyof MaximizeOptions, true> = {
  target: true, layer: true, channel: true, output: true, lr: true, beta1: true, beta2: true, stages: true, steps: true, growth: true, startSize: true,
  upscale: true, blur: true, lpWeight: true, p: true, tvWeight: true, tvBeta: true, low: true, high: true, seed: true, feeds: true, progress: true,
};

/**
 * Activation maximisation (Simonyan et al. 2014; FeatureVis; Amirli 2021): gradient ascent from
 * seeded noise with Adam on one augmented graph per input size (objective, Lp/TV regularisers,
 * gradient and the Adam step; rewriter/maximize-graph.ts). Stages: models with free spatial
 * sizes start at `startSize` and grow ×`upscale` per stage (bilinear), fixed-size models stay at
 * their size; a Gaussian blur follows every stage but the last. The first half of the stages
 * (⌈stages/2⌉) runs `steps` Adam steps each, each later stage ×`growth` more (Amirli: 20 rising ×1.3).
 */
export async function maximize(ex: Explainer, o: MaximizeOptions): Promise<MaximizeResult> {
  checkKnown('maximize', o, MAXIMIZE_KEYS);
  checkSeed('maximize', o.seed);
  if (o.progress !== undefined && typeof o.progress !== 'function') throw new ExplainError('maximize: progress must be a function (done, total, line)');
  const start = performance.now();
  const dims = ex.input.dims;
  // Images are optimised as planes [C, H, W] (blur, resize, the noise's channels); a channels-last model reads them as [H, W, C].
  const image = imageAxes(dims);
  const isImage = !!image;
  const hwc = image?.channel === 3;
  const [hAxis, wAxis] = image?.spatial ?? [2, 3];
  const planes = image ? dims[image.channel] : 1;
  if (isImage && planes <= 0) throw new ExplainError(`${ex.label}: the input's channel count must be fixed`);
  const free = isImage && (dims[hAxis] < 0 || dims[wAxis] < 0);
  const stages = o.stages ?? 12;
  const upscale = o.upscale ?? 1.2;
  const startSize = o.startSize ?? 56;
  if (!isImage && dims.slice(1).some((d) => d < 0)) throw new ExplainError(`${ex.label}: input '${ex.input.name}' has free sizes [${dims}]; maximize needs fixed sizes or an image input`);
  const side = (d: number, k: number) => (d > 0 ? d : Math.round(startSize * upscale ** k));
  const sizeAt = (k: number): number[] => (free ? [side(dims[hAxis], k), side(dims[wAxis], k)] : isImage ? [dims[hAxis], dims[wAxis]] : []);
  const low = o.low ?? [0], high = o.high ?? [1];
  const perChannel = (v: number[], name: string) => {
    if (!Array.isArray(v) || !v.every((b) => typeof b === 'number' && Number.isFinite(b))) throw new ExplainError(`maximize: ${name} must be a list of finite numbers (one for all channels, or one per channel), got ${JSON.stringify(v)}`);
    if (v.length !== 1 && v.length !== planes) throw new ExplainError(`maximize: ${v.length} ${name} values for ${planes} channels`);
    return v;
  };
  const lo = perChannel(low, 'low'), hi = perChannel(high, 'high');
  // Each channel's box must hold an image: a low above its high clamps every pixel to one value.
  const of = (v: number[], c: number) => v[v.length === 1 ? 0 : c];
  const empty = Array.from({ length: planes }, (_, c) => c).find((c) => !(of(lo, c) < of(hi, c)));
  if (empty !== undefined) throw new ExplainError(`maximize: channel ${empty}'s range [${of(lo, empty)}, ${of(hi, empty)}] holds no image: low must be below high`);
  // Each bound broadcast on its own: one value for all channels, or one per channel.
  const boxDims = (n: number) => (n > 1 ? (hwc ? [1, 1, 1, n] : [1, n, 1, 1]) : [1]);
  const box = { lo: { values: lo, dims: boxDims(lo.length) }, hi: { values: hi, dims: boxDims(hi.length) } };
  const hyper = { ...ADAM_DEFAULTS, lr: o.lr ?? ADAM_DEFAULTS.lr, beta1: o.beta1 ?? ADAM_DEFAULTS.beta1, beta2: o.beta2 ?? ADAM_DEFAULTS.beta2 };
  const steps = o.steps ?? 20;
  const growth = o.growth ?? 1.3;
  const perStage = Array.from({ length: stages }, (_, k) => Math.round(steps * growth ** Math.max(0, k - Math.ceil(stages / 2) + 1)));
  const total = perStage.reduce((a, b) => a + b, 0);
  // Options that would change nothing: what acts between stages in one, sizes where none is free, a blur of no image.
  for (const name of ['growth', 'blur'] as const) if (stages === 1 && o[name] !== undefined) throw new ExplainError(`maximize: ${name} (--${name}) acts between stages, and stages 1 has one`);
  for (const [name, flag] of [['startSize', 'start-size'], ['upscale', 'upscale']] as const) if (!free && o[name] !== undefined) throw new ExplainError(`maximize: ${name} (--${flag}) sizes an image of free height and width; input '${ex.input.name}' [${dims}] stays at its size`);
  if (!isImage && o.blur !== undefined) throw new ExplainError(`maximize: blur (--blur) smooths images; input '${ex.input.name}' [${dims}] is optimised as it is`);
  const terms = regularizers(o, dims);
  const sides = Array.from({ length: stages }, (_, k) => sizeAt(k)).flat();
  checkSchedule({ stages, steps, growth, upscale, total, fewest: perStage.reduce((a, b) => Math.min(a, b), Infinity), side: Math.max(0, ...sizeAt(stages - 1)), smallest: Math.min(Infinity, ...sides), ...hyper, tvWeight: terms.tv.weight, blur: o.blur ?? 1 });

  // Seeded noise in the middle fifth of the box (FeatureVis / Amirli start from faint noise).
  const rand = uniform(o.seed ?? 0);
  const [h0, w0] = sizeAt(0);
  const rowSize = isImage ? planes * h0 * w0 : dims.slice(1).reduce((a, b) => a * b, 1);
  let x: Float32Array = new Float32Array(rowSize);
  const planeSize = isImage ? h0 * w0 : rowSize;
  x.forEach((_, i) => {
    const c = Math.floor(i / planeSize);
    const l = lo[lo.length > 1 ? c : 0], u = hi[hi.length > 1 ? c : 0];
    x[i] = l + (u - l) * (0.4 + 0.2 * rand());
  });

  const objective: number[] = [];
  const activation: number[] = [];
  const sizes: number[][] = [];
  let done = 0;
  let final = 0;
  for (let k = 0; k < stages; k++) {
    const [h, w] = sizeAt(k);
    const rowDims = isImage ? (hwc ? [h, w, planes] : [planes, h, w]) : dims.slice(1);
    if (k > 0 && isImage) {
      const [ph, pw] = sizes[k - 1];
      if (ph !== h || pw !== w) x = resizePlanes(x, planes, ph, pw, h, w);
    }
    sizes.push(isImage ? [h, w] : []);
    const prepared = await ex.prepare(rowDims, undefined, o.feeds);
    const obj = objectiveOf(ex, o, prepared);
    const atShape = prepared.facts.shapes.get(obj.at)!;
    const io = maximizeNames(prepared.view);
    const initial = floatTensor(hwc ? planesOf(x, h, w, planes, true) : x, [1, ...rowDims]);
    const key = `maximize/${objectKey(prepared)}/${obj.at}/${o.lpWeight}/${o.p}/${o.tvWeight}/${o.tvBeta}/${JSON.stringify(box)}/${hyper.beta1}/${hyper.beta2}`;
    const build = () => buildMaximization({
      view: prepared.view, facts: prepared.facts, input: ex.input.name, at: obj.at, ...terms,
      adam: { beta1: hyper.beta1, beta2: hyper.beta2, epsilon: hyper.epsilon, box }, names: io,
    });
    const feeds = { [io.seed]: floatTensor(obj.seedAt(atShape), [1, ...atShape.slice(1)]), ...ex.sideFeeds(initial, o.feeds) };
    const result = await withLoopSession(ex, key, build, async (session) => {
      const loop = new AdamLoop(session, ex.input.name, initial, hyper, io);
      for (let t = 0; t < perStage[k]; t++) {
        const out = await loop.next(feeds, [io.objective, io.activation]);
        objective.push((await hostData(out[io.objective]))[0]);
        activation.push((await hostData(out[io.activation]))[0]);
        const now = objective[objective.length - 1];
        if (!Number.isFinite(now)) throw new ExplainError(`maximize: the objective became ${now} at step ${objective.length} (${obj.describe}; lp-weight ${o.lpWeight ?? 0}, tv-weight ${o.tvWeight ?? 0}): lower the regulariser weights or the step size`);
        o.progress?.(++done, total, `stage ${k + 1}/${stages} ${sizes[k].join('×')}: ${obj.describe} ${activation[activation.length - 1].toPrecision(4)}, objective ${now.toPrecision(4)}`);
      }
      if (k === stages - 1) final = (await hostData((await loop.evaluate(feeds, [io.activation]))[io.activation]))[0];
      return loop.result();
    });
    x = hwc ? planesOf(result, h, w, planes) : result;
    // The hwc step's update is not evaluated by a further step: a step size that overshoots shows here.
    if (firstNonFinite(x) >= 0) throw new ExplainError(`maximize: the input became non-finite at step ${objective.length} (learning rate ${hyper.lr}): lower the step size`);
    if (k < stages - 1 && isImage) x = blurPlanes(x, planes, h, w, o.blur ?? 1);
  }
  const [h, w] = sizes[sizes.length - 1];
  const data = hwc ? planesOf(x, h, w, planes, true) : x;
  return { image: { data, dims: [1, ...(isImage ? (hwc ? [h, w, planes] : [planes, h, w]) : dims.slice(1))] }, objective, activation, final, sizes, timeMs: performance.now() - start };
}
