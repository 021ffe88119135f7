import { ExplainError } from '../../rewriter/errors';
import type { AttributeOptions, AttributionResult, Explainer } from '../explainer';
import { OrtTensor } from '../backend';
import { uniform } from '../random';
import { perRow } from '../targets';
import { floatTensor, rowRange } from '../tensors';
import { tensorsAt } from './forward';
import { outputSeed } from './seed';
import { Driver } from './types';

export const NOISE_TUNNELS = ['smoothgrad', 'smoothgrad_sq', 'vargrad'] as const;
export type NoiseTunnel = (typeof NOISE_TUNNELS)[number];

/**
 * The noisy copies of x, row-major (row r's samples at r·samples … r·samples + samples − 1):
 * x_r + σ_r·z with σ_r = noiseStd·(max x_r − min x_r) and z standard normal, drawn in that order
 * by Box–Muller, z = √(−2 ln(1 − u₁))·cos(2π u₂), from the seeded uniform generator of runtime/random.ts.
 */
export function noisyCopies(x: { data: Float32Array; dims: readonly number[] }, samples: number, noiseStd: number, seed: number): Float32Array {
  const n = x.dims[0];
  const per = x.data.length / n;
  const next = uniform(seed);
  const out = new Float32Array(n * samples * per);
  for (let r = 0; r < n; r++) {
    const row = x.data.subarray(r * per, (r + 1) * per);
    let lo = Infinity, hi = -Infinity;
    for (const v of row) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    const sigma = noiseStd * (hi - lo);
    for (let s = 0; s < samples; s++) {
      const o = (r * samples + s) * per;
      for (let i = 0; i < per; i++) {
        const z = Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
        out[o + i] = row[i] + sigma * z;
      }
    }
  }
  return out;
}

/**
 * Captum's NoiseTunnel around any driver: the method runs on `samples` noisy copies of every row
 * (in runs of at most internalBatchSize rows) with the clean input's targets, then smoothgrad
 * averages the attributions, smoothgrad_sq averages their squares and vargrad takes their variance
 * E[a²] − E[a]² (Smilkov et al. 2017; Adebayo et al. 2018).
 */
export function noiseTunnel(inner: Driver): Driver {
  return {
    async attribute(ex: Explainer, x: OrtTensor, options: AttributeOptions): Promise<AttributionResult> {
      const kind = options.noiseTunnel!;
      if (!NOISE_TUNNELS.includes(kind)) throw new ExplainError(`--noise-tunnel: '${kind}' is not one of ${NOISE_TUNNELS.join(', ')}`);
      const samples = options.samples ?? 5;
      const noiseStd = options.noiseStd ?? 0.15;
      if (!Number.isInteger(samples) || samples < 1) throw new ExplainError(`--samples: ${samples} is not a positive integer`);
      if (!(noiseStd >= 0)) throw new ExplainError(`--noise-std: ${noiseStd} must be ≥ 0 (a fraction of each row's value range)`);
      const limit = options.internalBatchSize;
      if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) throw new ExplainError(`internalBatchSize: ${limit} is not a positive integer`);
      const n = x.dims[0];
      const rowDims = x.dims.slice(1);
      const { output, targets } = await outputSeed(ex, x, options);
      const noisy = floatTensor(noisyCopies({ data: x.data as Float32Array, dims: x.dims }, samples, noiseStd, options.seed ?? 0), [n * samples, ...x.dims.slice(1)]);
      const contrast = perRow(options.contrast, n, 'contrast');
      const baseline = options.baseline && ex.toTensor(options.baseline);
      const perRowBaseline = baseline && baseline.dims[0] === n && n > 1;
      const total = n * samples;
      const step = Math.min(total, limit ?? total);
      let sum: Float64Array | undefined, squares: Float64Array | undefined, dims: number[] = [];
      for (let s0 = 0; s0 < total; s0 += step) {
        const s1 = Math.min(total, s0 + step);
        const rows = Array.from({ length: s1 - s0 }, (_, k) => Math.floor((s0 + k) / samples));
        const r = await inner.attribute(ex, rowRange(noisy, s0, s1), {
          ...options, noiseTunnel: undefined, progress: undefined,
          target: rows.map((row) => targets[row]),
          contrast: contrast && rows.map((row) => contrast[row]),
          baseline: perRowBaseline ? floatTensor(Float32Array.from(rows.flatMap((row) => Array.from(rowRange(baseline, row, row + 1).data as Float32Array))), [rows.length, ...baseline.dims.slice(1)]) : baseline,
        });
        const per = r.attributions.data.length / rows.length;
        dims = [n, ...r.attributions.dims.slice(1)];
        sum ??= new Float64Array(n * per);
        squares ??= new Float64Array(n * per);
        rows.forEach((row, k) => {
          for (let i = 0; i < per; i++) {
            const v = r.attributions.data[k * per + i];
            sum![row * per + i] += v;
            squares![row * per + i] += v * v;
          }
        });
        options.progress?.(s1, total);
      }
      const mean = (v: number) => v / samples;
      const data = Float32Array.from(kind === 'smoothgrad' ? sum!.map(mean) : kind === 'smoothgrad_sq' ? squares!.map(mean) : squares!.map((q, i) => mean(q) - mean(sum![i]) ** 2));
      const outputs = await (await tensorsAt(ex, rowDims, [...new Set([...ex.outputNames, output])], options.onehotAxis))(x);
      return { attributions: { data, dims }, outputs, targets };
    },
  };
}
