import { ExplainError } from '../../rewriter/errors';
import type { AttributeOptions, AttributionResult, Explainer } from '../explainer';
import { OrtTensor } from '../backend';
import { uniform } from '../random';
import { floatTensor, fromNdarray, pickRows, TensorInput } from '../tensors';
import { rowsInMemory } from '../memory';
import { expandedRows } from './expanded-rows';
import { tensorsAt } from './forward';
import { internalBatch } from './perturbation';
import { outputSeed } from './seed';
import { Driver } from './types';

export const NOISE_TUNNELS = ['smoothgrad', 'smoothgrad_sq', 'vargrad'] as const;
export type NoiseTunnel = (typeof NOISE_TUNNELS)[number];

/** Draws per row at most: more takes days on any model (and held its copies at once). */
const MAX_SAMPLES = 100_000;

/** `--samples` (the noise tunnel's copies, or a sampling method's draws): an integer from `least` to MAX_SAMPLES, `fallback` when not given. */
export function samplesOption(options: AttributeOptions, fallback: number, least = 1): number {
  const samples = options.samples ?? fallback;
  if (!Number.isInteger(samples) || samples < least || samples > MAX_SAMPLES) throw new ExplainError(`--samples: ${samples} is not an integer from ${least} to ${MAX_SAMPLES}`);
  return samples;
}

/** The noise's σ: a fraction of each row's value range (`noiseStd`), or `{ stdevs }` in the input's own units (Captum's `stdevs`). */
export type NoiseScale = number | { stdevs: number };

/**
 * `--noise-std` (σ as a fraction of each row's value range) or `--stdevs` (σ itself, as Captum's
 * `stdevs`): at least 0, one of them, `fallback` (a fraction) when neither is given.
 */
export function noiseStdOption(options: AttributeOptions, fallback: number): NoiseScale {
  if (options.stdevs !== undefined) {
    if (options.noiseStd !== undefined) throw new ExplainError('--noise-std and --stdevs both set the noise: give one (a fraction of each row\'s value range, or σ in the input\'s units)');
    if (!(options.stdevs >= 0 && Number.isFinite(options.stdevs))) throw new ExplainError(`--stdevs: ${options.stdevs} must be a finite number ≥ 0 (σ in the input's units)`);
    return { stdevs: options.stdevs };
  }
  const noiseStd = options.noiseStd ?? fallback;
  if (!(noiseStd >= 0)) throw new ExplainError(`--noise-std: ${noiseStd} must be ≥ 0 (a fraction of each row's value range)`);
  return noiseStd;
}

/**
 * The noisy copies of x, row-major (row r's samples at r·samples … r·samples + samples − 1):
 * x_r + σ_r·z with σ_r = noise·(max x_r − min x_r), or the `stdevs` given, and z standard normal, drawn
 * in that order by Box–Muller, z = √(−2 ln(1 − u₁))·cos(2π u₂), from the seeded uniform generator of runtime/random.ts.
 */
export function noisyCopies(x: { data: Float32Array; dims: readonly number[] }, samples: number, noise: NoiseScale, seed: number, stream = 0): Float32Array {
  return noisyStream(x, samples, noise, seed, stream)(x.dims[0] * samples);
}

/** noisyCopies' copies in order, the next `count` at each call (so many samples of a large input are never held at once). */
export function noisyStream(x: { data: Float32Array; dims: readonly number[] }, samples: number, noise: NoiseScale, seed: number, stream = 0, warn?: (m: string) => void): (count: number) => Float32Array {
  const per = x.data.length / x.dims[0];
  const next = uniform(seed, stream);
  const sigmas = Array.from({ length: x.dims[0] }, (_, r) => {
    if (typeof noise !== 'number') return noise.stdevs;
    const row = x.data.subarray(r * per, (r + 1) * per);
    let lo = Infinity, hi = -Infinity;
    for (const v of row) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    return noise * (hi - lo);
  });
  const flat = typeof noise === 'number' && noise > 0 ? sigmas.flatMap((sigma, r) => (sigma === 0 ? [r] : [])) : [];
  if (flat.length) warn?.(`--noise-std ${noise}: row${flat.length > 1 ? 's' : ''} ${flat.join(', ')} hold${flat.length > 1 ? '' : 's'} one value, so σ, the row's value range times --noise-std, is 0 there and no noise is added (--stdevs gives σ in the input's units)`);
  const given = typeof noise === 'number' ? `--noise-std ${noise}: noise of σ = ` : '--stdevs: noise of σ = ';
  const why = typeof noise === 'number' ? ' (the row\'s value range times --noise-std)' : '';
  let copy = 0;
  return (count) => {
    const out = new Float32Array(count * per);
    for (let c = 0; c < count; c++, copy++) {
      const r = Math.floor(copy / samples);
      for (let i = 0; i < per; i++) {
        const z = Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
        out[c * per + i] = x.data[r * per + i] + sigmas[r] * z;
        if (!Number.isFinite(out[c * per + i])) throw new ExplainError(`${given}${sigmas[r]}${why} overflows float32`);
      }
    }
    return out;
  };
}

/**
 * Captum's draw_baseline_from_distrib: the baseline's K rows are a distribution, and each noisy copy,
 * in order, gets row ⌊u·K⌋ with u the next number of the seed's stream 1 (stream 0 draws the one
 * explained input's noise). Returns the baselines of the next `count` copies at each call.
 */
function baselineDraws(ex: Explainer, x: OrtTensor, options: AttributeOptions): (count: number) => OrtTensor {
  if (ex.joint) throw new ExplainError('drawBaselineFromDistrib (--draw-baseline-from-distrib) draws the baseline of one explained input; joint attribution takes one baseline per input');
  const given = options.baseline === undefined ? undefined : fromNdarray(options.baseline);
  const rowDims = x.dims.slice(1);
  if (!given || given.dims.length !== x.dims.length || given.dims.slice(1).join() !== rowDims.join()) {
    throw new ExplainError(`drawBaselineFromDistrib (--draw-baseline-from-distrib) draws from a baseline distribution: give --baseline with K rows of shape [${rowDims}]${given ? `, not [${given.dims}]` : ''}`);
  }
  const dist = floatTensor(Float32Array.from(given.data as ArrayLike<number>), given.dims);
  const next = uniform(options.seed ?? 0, 1);
  return (count) => pickRows(dist, Array.from({ length: count }, () => Math.floor(next() * dist.dims[0])));
}

/**
 * Captum's NoiseTunnel around any driver: the method runs on `samples` noisy copies of every row
 * (in runs of at most internalBatchSize rows) with the clean input's targets, then smoothgrad
 * averages the attributions, smoothgrad_sq averages their squares and vargrad takes their variance
 * E[a²] − E[a]² (Smilkov et al. 2017; Adebayo et al. 2018). Joint attribution adds noise to every
 * explained input (the k-th drawn from seed + k) and aggregates each input's attributions; the
 * model's other inputs keep their rows. Methods with a convergence delta return one per noisy
 * sample (row r's samples at r·samples … r·samples + samples − 1; DeepLiftShap K per sample), as
 * Captum's return_convergence_delta.
 */
export function noiseTunnel(inner: Driver): Driver {
  return {
    joint: inner.joint,
    async attribute(ex: Explainer, x: OrtTensor, options: AttributeOptions): Promise<AttributionResult> {
      const kind = options.noiseTunnel!;
      if (!NOISE_TUNNELS.includes(kind)) throw new ExplainError(`--noise-tunnel: '${kind}' is not one of ${NOISE_TUNNELS.join(', ')}`);
      const samples = samplesOption(options, 5);
      const noise = noiseStdOption(options, 0.15);
      const n = x.dims[0];
      const rowDims = x.dims.slice(1);
      const explained = await outputSeed(ex, x, options);
      const { output, targets } = explained;
      const side = ex.sideFeeds(x, options.feeds);
      const values: Record<string, OrtTensor> = { [ex.input.name]: x, ...side };
      const noisy = ex.explained.map((input, k) => {
        const t = values[input.name];
        return { name: input.name, rowDims: t.dims.slice(1), next: noisyStream({ data: t.data as Float32Array, dims: t.dims }, samples, noise, options.seed ?? 0, k, (m) => ex.warn(`${ex.label}: ${m}`)) };
      });
      // A baseline with one row per input row goes with each of that row's samples; drawn, a row of the distribution with each sample.
      const draw = options.drawBaselineFromDistrib ? baselineDraws(ex, x, options) : undefined;
      const sampleRows = (b: TensorInput | undefined, rows: number[]) => {
        const t = b && fromNdarray(b);
        return t && t.dims[0] === n && n > 1 ? pickRows(floatTensor(Float32Array.from(t.data as ArrayLike<number>), t.dims), rows) : t;
      };
      const total = n * samples;
      const step = Math.min(total, internalBatch(options, await rowsInMemory(ex, rowDims, options)));
      const sums: Record<string, Float64Array> = {};
      const squares: Record<string, Float64Array> = {};
      const dims: Record<string, number[]> = {};
      let delta: Float32Array | undefined;
      for (let s0 = 0; s0 < total; s0 += step) {
        const s1 = Math.min(total, s0 + step);
        const rows = Array.from({ length: s1 - s0 }, (_, k) => Math.floor((s0 + k) / samples));
        const [first, ...others] = noisy.map((c) => floatTensor(c.next(s1 - s0), [s1 - s0, ...c.rowDims]));
        const expanded = expandedRows(ex, x, options, explained, rows);
        const r = await inner.attribute(ex, first, {
          ...options, noiseTunnel: undefined, progress: undefined, ...expanded,
          feeds: { ...expanded.feeds, ...Object.fromEntries(others.map((t, k) => [noisy[k + 1].name, t])) },
          baseline: inner.baselineDistribution ? options.baseline : draw ? draw(rows.length) : sampleRows(options.baseline, rows),
          baselines: options.baselines && Object.fromEntries(Object.entries(options.baselines).map(([k, b]) => [k, sampleRows(b, rows)!])),
        }, (i) => `noisy copy ${(s0 + i) % samples} of row ${rows[i]}`);
        if (r.delta) {
          // One delta per noisy row, or one per baseline row of each (DeepLiftShap's K).
          const per = r.delta.length / (s1 - s0);
          (delta ??= new Float32Array(total * per)).set(r.delta, s0 * per);
        }
        for (const [name, a] of Object.entries(r.inputAttributions ?? { '': r.attributions })) {
          const per = a.data.length / rows.length;
          dims[name] = [n, ...a.dims.slice(1)];
          const sum = (sums[name] ??= new Float64Array(n * per));
          const square = (squares[name] ??= new Float64Array(n * per));
          rows.forEach((row, k) => {
            for (let i = 0; i < per; i++) {
              const v = a.data[k * per + i];
              sum[row * per + i] += v;
              square[row * per + i] += v * v;
            }
          });
        }
        options.progress?.(s1, total);
      }
      const mean = (v: number) => v / samples;
      const aggregate = (name: string) => ({
        dims: dims[name],
        data: Float32Array.from(kind === 'smoothgrad' ? sums[name].map(mean) : kind === 'smoothgrad_sq' ? squares[name].map(mean) : squares[name].map((q, i) => mean(q) - mean(sums[name][i]) ** 2)),
      });
      const outputs = await (await tensorsAt(ex, rowDims, [...new Set([...ex.outputNames, output])], options.onehotAxis, options.feeds))(x, side);
      const inputAttributions = ex.joint ? Object.fromEntries(ex.explained.map((i) => [i.name, aggregate(i.name)])) : undefined;
      return { attributions: inputAttributions?.[ex.input.name] ?? aggregate(''), inputAttributions, outputs, targets, delta };
    },
  };
}
