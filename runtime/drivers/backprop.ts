import { methods } from '../../rules/methods';
import { ExplainError } from '../../rewriter/errors';
import type { AttributeOptions, Explainer } from '../explainer';
import { OrtTensor } from '../backend';
import { chunkFeeds, concatRows, floatTensor, TensorData } from '../tensors';
import { rowsInMemory } from '../memory';
import { repeatedBaseline } from './repeated-baseline';
import { largeForward } from '../session';
import { internalBatch } from './perturbation';
import { outputSeed } from './seed';
import { checkStepsKept } from './kept-steps';
import { Driver } from './types';

/**
 * A default Grad-CAM layer gives an all-zero map where the target's gradient-weighted channels are
 * negative everywhere (the ReLU), or where the target does not depend on it at all: a detector that
 * joins several levels' heads explains an anchor of another level than the default's.
 */
function noteZeroMaps(ex: Explainer, maps: TensorData, method: string): void {
  const per = maps.data.length / maps.dims[0];
  const zero = Array.from({ length: maps.dims[0] }, (_, r) => r).filter((r) => maps.data.subarray(r * per, (r + 1) * per).every((v) => v === 0));
  if (zero.length) ex.warnOnce(`${method}: the map is zero at every position for row${zero.length > 1 ? 's' : ''} ${zero.join(', ')}: negative everywhere before the ReLU (--no-relu shows it), or the target does not depend on the default layer (a detector's heads at several levels: give --layer at the target's level; onnx-explain info --layers)`);
}

/** Per Explainer and graph key, the graph the last repeated baseline was built into. */
const folded = new WeakMap<Explainer, Map<string, string>>();

/**
 * One graph per graph key holds a repeated baseline: the one built for an earlier baseline goes
 * (each holds its own session and weights; one image explained for two targets from its own
 * baseline made a graph per image, never released).
 */
function foldedOnce(ex: Explainer, graphKey: string, key: string): void {
  let byKey = folded.get(ex);
  if (!byKey) folded.set(ex, (byKey = new Map()));
  const before = byKey.get(graphKey);
  byKey.set(graphKey, key);
  if (before !== undefined && before !== key) void ex.dropGraph(before);
}

/**
 * Methods computed by one augmented graph (gradient, DeepLIFT, LRP, ..., and the class activation
 * maps), with respect to the input or to a layer: one run per batch, or per internalBatchSize rows
 * (by default as many as fit in memory, rowsInMemory). The graph's inputs say
 * whether it takes a baseline, its outputs whether it reports a convergence delta.
 */
export const backprop: Driver = {
  async attribute(ex: Explainer, x: OrtTensor, options: AttributeOptions, rowLabel?: (row: number) => string) {
    const rowDims = x.dims.slice(1);
    const { output, from, fromShape, targets, seed } = await outputSeed(ex, x, options);
    // The zero reference (the default) is built into the graph: onnxruntime folds its pass once.
    const reference = methods[options.method ?? 'gradient']?.reference ?? false;
    const n = x.dims[0];
    const side = ex.sideFeeds(x, options.feeds);
    const values = { [ex.input.name]: x, ...side };
    const given = reference && (options.baseline || options.baselines) ? ex.referenceFeeds(options, values, true) : undefined; // checks their shapes
    const zeroBaseline = reference && Object.values(given ?? {}).every((b) => (b.data as Float32Array).every((v) => v === 0));
    // Steps on the path (a mask computed from the input) are checked on this input and baseline (every explained input's); a walk to a layer refuses them.
    const steps = reference && options.layer === undefined ? await ex.inputSteps(rowDims, options) : undefined;
    if (steps) await checkStepsKept(ex, x, options, steps, rowLabel);
    const graphKey = [rowDims, Object.values(side).map((t) => t.dims.slice(1)), options.method ?? 'gradient', output, from, options.onehotAxis, options.epsilon, options.stabilizer, options.maxpoolRule, options.lrpMaxpool, options.alpha, options.beta, options.gamma, options.boxLow, options.boxHigh, options.lrpRules, options.multiplyByInputs, options.layer, options.relu, options.upsample, options.interpolate, options.tokenGrid];
    // A shared baseline used again is built in as the zero one is (see repeatedBaseline), except in
    // large graphs, where a session of its own takes longer to open than many runs of the reference
    // pass; there a one-row baseline gets a graph declaring one row (AugmentSpec.sharedBaseline).
    const large = largeForward((await ex.prepare(rowDims, options.onehotAxis, options.feeds)).view.nodes.length);
    const again = zeroBaseline || large ? undefined : repeatedBaseline(ex, JSON.stringify(graphKey), given);
    const sharedBaseline = large && !!given && Object.values(given).every((b) => b.dims[0] === 1);
    const key = JSON.stringify([...graphKey, zeroBaseline, again?.digest, sharedBaseline, !!steps]);
    if (again) foldedOnce(ex, JSON.stringify(graphKey), key);
    const { session, info } = await ex.graphSession(rowDims, options, key, { zeroBaseline, baselineRows: again?.rows, sharedBaseline, stepsKept: !!steps });
    const takesBaseline = session.inputNames.some((name) => name === ex.io.baseline || name.startsWith(`${ex.io.baseline}:`));
    if ((options.baseline || options.baselines) && !reference && !takesBaseline) throw new ExplainError(`baseline: method '${options.method ?? 'gradient'}' takes no baseline`);
    const feeds: Record<string, OrtTensor> = { ...values, [ex.io.seed]: floatTensor(seed, [n, ...fromShape.slice(1)]) };
    // The baselines checked above are the feeds where one row broadcasts; otherwise rows are repeated.
    if (takesBaseline) Object.assign(feeds, given && info.batchBroadcasts ? given : ex.referenceFeeds(options, values, info.batchBroadcasts));
    const runs = chunkFeeds(feeds, n, info.batchDynamic ? internalBatch(options, await rowsInMemory(ex, rowDims, options)) : 1);
    const results = [];
    for (const f of runs) {
      results.push(await session.run(f));
      options.progress?.(results.length, runs.length);
    }
    const result = { ...ex.splitOutputs(concatRows(results, Object.keys(results[0]))), targets };
    if (info.camNote) noteZeroMaps(ex, result.attributions, options.method!);
    return result;
  },
  joint: true,
  async graph(ex: Explainer, rowDims: number[], options: AttributeOptions) {
    return (await ex.augmented(rowDims, options)).model;
  },
};
