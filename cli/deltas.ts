/** The CLI's report of convergence deltas. */
import { say } from './output';

/**
 * Whether a convergence delta d misses f(x) − f(x⁰) = `change`: by more than 1e-4 of it, or, where
 * the change is small next to the explained value's magnitude (|f(x)|; for a sum or mean over a
 * tensor, the same reduction of its entries' magnitudes), whose float32 rounding bounds what it can
 * show, more than 1e-6 of that magnitude plus |f(x⁰)|. Without it, 1e-4 absolute below a change of
 * 1. Nor within 1e-4 of Σ|a| (`spread`): contributions that large, summed in the forward's float32
 * reductions (a mean over a 1024×1024 map), round its f(x) − f(x⁰) by as much. Never a miss below
 * the smallest normal float32.
 */
export function summationMissed(d: number, change: number, magnitude?: number, fx = magnitude, spread = 0): boolean {
  const scale = Math.max(spread, magnitude === undefined ? Math.max(1, Math.abs(change)) : Math.max(Math.abs(change), 1e-2 * (magnitude + Math.abs(fx! - change))));
  return Math.abs(d) > Math.max(1e-4 * scale, FLT_MIN);
}

/** The smallest normal float32: below it values are subnormal and keep no relative precision. */
const FLT_MIN = 2 ** -126;

/**
 * Prints the convergence delta per row. DeepLIFT's must sum to f(x) − f(x⁰) ('exact'): a miss
 * (summationMissed, with `explained` holding f(x) and its magnitude per row where known) is a warning, unless
 * `bypassed` (a layer that paths go around). A path integral's ('quadrature') is its approximation
 * error. LRP's Σ R − f(x) ('conserved') is what ε stabilisers and biases absorb by design (`absorbed`
 * says what for the rule): reported as the share of f(x) conserved.
 */
export async function reportDelta(delta: Float32Array, totals: { sum: number; abs: number }[], explained: { value: number; magnitude: number }[], kind: 'exact' | 'quadrature' | 'conserved', bypassed: boolean, step?: () => Promise<string | undefined>, absorbed = 'is absorbed by biases and ε stabilisers'): Promise<void> {
  let large = false;
  delta.forEach((d, row) => {
    const total = totals[row].sum;
    const target = total - d;
    if (kind === 'conserved') {
      // f(x) as the run gave it: total − d cancels in float32 where the relevance is large.
      const fx = explained[row]?.value ?? target;
      const share = fx !== 0 ? ` (${((100 * total) / fx).toFixed(1)} % conserved)` : '';
      say(`row ${row}: Σ relevance ${total.toPrecision(6)} of f(x) ${fx.toPrecision(6)}${share}; the rest, ${(fx - total).toPrecision(3)}, ${absorbed}`);
      return;
    }
    say(`row ${row}: convergence delta ${d.toExponential(3)} (Σ attribution ${total.toPrecision(6)}, f(x) − f(x⁰) ${target.toPrecision(6)})`);
    if (!summationMissed(d, target, explained[row]?.magnitude, explained[row]?.value, totals[row].abs)) return;
    large = true;
    if (kind === 'exact' && !bypassed) console.warn(`onnx-explain: warning: row ${row}: attributions miss f(x) − f(x⁰) by ${d.toExponential(3)} (more than float32 rounding allows)`);
  });
  if (!large || kind !== 'quadrature' || bypassed) return;
  const stepped = await step?.();
  // A step on the path (a mask, a threshold) makes f jump where the path crosses it: no quadrature integrates a jump.
  if (stepped) say(`the delta is the error of the path integral: ${stepped}, and where the path from the baseline crosses the step f jumps, which no number of --steps integrates; a baseline on the input's side of the step (for a mask, one that keeps what it masks) converges`);
  else say('the delta is the error of the path integral\'s quadrature: more --steps make it smaller, unless f changes sharply right beside the baseline (a zero embedding into RMS normalisation, silence into a log front end), where another baseline (--baseline, --baseline-token) converges');
}

/** Convergence deltas per sample (the noise tunnel's noisy copies, GradientShap's draws, DeepLiftShap's baselines) (row r's at r·S … r·S + S − 1): per row, the largest |δ| and the mean. */
export function reportSampleDeltas(delta: Float32Array, rows: number): void {
  const samples = delta.length / rows;
  for (let row = 0; row < rows; row++) {
    const own = Array.from(delta.subarray(row * samples, (row + 1) * samples), Math.abs);
    say(`row ${row}: convergence delta of its ${samples} samples: max |δ| ${Math.max(...own).toExponential(3)}, mean |δ| ${(own.reduce((a, v) => a + v, 0) / samples).toExponential(3)}`);
  }
}
