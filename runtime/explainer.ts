import { attrInt, attrInts } from '../rewriter/attributes';
import { AugmentSpec, buildAugmented, IoNames, ioNames, Method, perInput } from '../rewriter/augment';
import { differentiable, stepsOnPath } from '../rewriter/backward';
import { CamOptions, MapSpec } from '../rewriter/cam';
import { defaultCamLayer } from '../rewriter/grad-cam';
import { mapMethods } from '../rewriter/maps';
import { ExplainError, shortList } from '../rewriter/errors';
import { misappliedOption } from './method-options';
import { checkKnown } from './known-options';
import { elementwise, GraphView, holdsRows, isSigmoid, producerPastCopies, producerPastViews, rowsText, TensorFacts, throughCasts, valueDescendants, valueShaped, writtenSquash } from '../rewriter/graph-view';
import { normalizeOneHotWeights } from '../rewriter/canonize';
import { inlineConstantIfs } from '../rewriter/inline-if';
import { unrollRecurrent } from '../rewriter/recurrent/unroll';
import { quantizePerRow, readPerRow } from '../rewriter/dynamic-quantization';
import { canonicalForm } from '../rewriter/canonical-form';
import { parseModel } from '../rewriter/model-io';
import { staticLoopsAndSequences } from '../rewriter/static-loops';
import { validateDeclarations, validateGraph, validateProbed, validateWeights } from '../rewriter/validate';
import { DataType, encodeModel, isFloatType, isTensorValue, ModelProto, NodeProto, toNumber } from '../rewriter/proto';
import { isViewNode, withBatchAxis, withRowAxis, withSampleAxis } from '../rewriter/batchless-inputs';
import { cutAtEmbedding, Embedding } from '../rewriter/embedding';
import { sharedReferenceFits } from '../rewriter/shared-reference';
import { flatBag } from '../rewriter/embedding-bag';
import { rowByRow, rowMixingNode } from '../rewriter/row-mixing';
import { methods } from '../rules/methods';
import { RuleOptions } from '../rules/types';
import { checkLrpRules } from '../rules/methods/lrp-composites';
import { backend, ModelBytes, OrtTensor } from './backend';
import { makeOrtTensor, typeName } from './ort-types';
import { PooledSession, SessionPool } from './session-pool';
import { RecentMap } from './recent-map';
import { runError } from './run-errors';
import { type AttributionMethod, driverFor } from './drivers';
import { releaseLoopSessions } from './drivers/loop-session';
import { tensorsAt } from './drivers/forward';
import { checkInternalBatchSize, type PerturbationOptions } from './drivers/perturbation';
import { brokenOutput, checkRuleOptions, firstNonFinite, locateNonFiniteIn, requireFinite } from './finite';
import { checkFloatBaseline, computesWith, copiesInput, denseFeeds, explainableFloats, explainedInputs, inputTensor, isBatchless, isCacheInput, ModelInput, modelInputs, sideFeeds, sideRowDims, STRUCTURAL_OPS } from './inputs';
import { isTokenIds, lookUp, Tokens, tokenScores, tokenTable } from './tokens';
import { batchConstants, decodeProbe, encodeProbe, fixedBatch, freeHardCodedBatch, InputSpec, ProbeResult, probeFacts } from './probe';
import { rowBytes, weightBytes } from './memory';
import type { Preprocess } from './image';
import { Progress } from './progress';
import type { IgMethod } from './drivers/integrated-gradients-quadrature';
import type { NoiseTunnel } from './drivers/noise-tunnel';
import { CachedGraph, GraphCache, GraphInfo } from './graph-cache';
import { checkSessionOptions, createSession, GraphLevel, graphOptionsKey, levelFor, openingNote, parallelFor, Provider, providerInUse, PROVIDERS, SessionOptions, threadsFor } from './session';
import { inlineModel, SessionModel, sessionModel } from './session-model';
import { Target, TargetOptions, TargetSpace } from './targets';
import { concatRows, DenseInput, digestRows, floatTensor, fromNdarray, splitFeeds, TensorData, TensorInput } from './tensors';
import { checkSeed } from './random';

export type { TensorData, TensorInput } from './tensors';

export interface ExplainerOptions {
  provider?: Provider;
  /** Folder for external-data files when loading from bytes (Node). */
  baseDir?: string;
  /** Where warnings (e.g. a provider falling back) go besides `warnings` (default console.warn). */
  warn?: (message: string) => void;
  /** onnxruntime session options for every session (threads, graph optimisation level, free dimension overrides, ...). */
  sessionOptions?: SessionOptions;
  /** Keeps augmented graphs between processes (Node: `folderCache()`); none by default. */
  cache?: GraphCache;
  /**
   * Most onnxruntime sessions (forward, augmented graphs) alive at once (default: no limit). Each
   * holds its own copy of the weights inside onnxruntime (the WASM heap in a page); with 1 the
   * weights are there once: the least recently used session is released before another is
   * created, and created again when it is used again.
   */
  maxSessions?: number;
  /**
   * The input to explain when the model has several (default: its one float input, else its token
   * ids); 'all' or a list of names: joint attribution to those float inputs (Captum's tuple of
   * inputs), one attribution per input from one backward pass.
   */
  wrt?: string | string[];
  /** Inputs the calls feed (`feeds`): the default input to explain is the one float input left (CLI: the --feed names). */
  fed?: string[];
  /**
   * The model takes one sample without a batch axis (exported from an unbatched example input, as
   * torchvision's detection models are): it is viewed with one, so inputs are given as [N, …] and
   * run one row at a time, and outputs come back as [N, …] (rewriter/batchless-inputs.ts).
   */
  unbatched?: boolean;
}

export interface AttributeOptions extends RuleOptions, TargetOptions, PerturbationOptions, CamOptions {
  /**
   * One of `attributionMethods()` (default `gradient`), checked when the call runs: any string is
   * accepted by the compiler, so that an options object written before the call (where TypeScript
   * widens the name to `string`) can be passed.
   */
  method?: AttributionMethod | (string & {});
  /**
   * Class index for all rows, one per row, or omitted for the argmax of each row; a multi-index
   * (`[3, 17]` inside the list: `[[3, 17]]` for all rows) for tensors with several non-batch axes.
   */
  target?: Target;
  /** Which tensor to explain: a model output (required when the model has several) or any float tensor of the graph. */
  output?: string;
  /** Attributions with respect to this intermediate tensor instead of the model input (layer attribution). */
  layer?: string;
  /** neuron-conductance: the neuron of `layer`, a multi-index over its non-batch axes or a row-major flat index. */
  neuron?: number | number[];
  /** Explain a final Softmax's output itself instead of its input logits. */
  explainSoftmax?: boolean;
  /**
   * Reference input for reference methods (and the fill of perturbation methods): one row for all,
   * or one per row (default zeros). Text models: an embedding, or token ids [K, L] (Captum's
   * `ref_input_ids`, e.g. [CLS] pad … pad [SEP]) whose embeddings are the reference.
   */
  baseline?: TensorInput;
  /** Joint attribution: the reference of each explained input by name (as `baseline`; default zeros; `baseline` is the first input's). */
  baselines?: Record<string, TensorInput>;
  /** DeepLIFT §2.6: normalise the first Conv's weights over this one-hot input axis (outputs unchanged). */
  onehotAxis?: number;
  /** Called by drivers that loop (batches, sweeps, optimisation steps). */
  progress?: Progress;
  /** Integrated gradients: number of points on the path (default 50). */
  steps?: number;
  /** Integrated gradients: Captum's quadrature (default 'gausslegendre'). */
  igMethod?: IgMethod;
  /** Captum's NoiseTunnel around the method: mean (smoothgrad), mean of squares (smoothgrad_sq) or variance (vargrad) over noisy copies (seeded by `seed`). */
  noiseTunnel?: NoiseTunnel;
  /** Noise standard deviation as a fraction of each row's value range, max − min (default 0.15). */
  noiseStd?: number;
  /** Noise standard deviation in the input's own units, as Captum's `stdevs` (instead of `noiseStd`). */
  stdevs?: number;
  /** Noisy copies per row (default 5, as Captum's nt_samples). */
  samples?: number;
  /** The noise tunnel draws each noisy copy's baseline from the rows of `baseline` (Captum's draw_baseline_from_distrib). */
  drawBaselineFromDistrib?: boolean;
  /** Values of the model's other inputs (attention_mask, token_type_ids, ...): one row for all rows, or one per row. */
  feeds?: Record<string, DenseInput>;
  /** Text models: the baseline embedding is this token's embedding at every position (default zeros). */
  baselineToken?: number;
}

/**
 * What Explainer.attribute takes: AttributeOptions, with baselines also numbers (that value at every
 * feature, as Captum's scalar baselines); under joint attribution a number as `baseline` is every
 * explained float input's that `baselines` does not name (token ids keep theirs).
 */
export type AttributeRequest = Omit<AttributeOptions, 'baseline' | 'baselines' | 'feeds'> & { baseline?: TensorInput | number; baselines?: Record<string, TensorInput | number>; feeds?: Record<string, TensorInput> };

export interface AttributionResult {
  /** Attributions to the (first) explained input, or to the layer. */
  attributions: TensorData;
  /** Joint attribution (`wrt` 'all' or a list): the attributions to every explained input, by name (Captum's tuple). */
  inputAttributions?: Record<string, TensorData>;
  /** The model's float outputs and the explained tensor (the logits before a final Softmax, an intermediate tensor) from the same run. */
  outputs: Record<string, TensorData>;
  /** Per row: the flat index of the explained value (over the explained tensor's non-reduced, non-batch axes). */
  targets: number[];
  /**
   * Per row: Σ attribution (over every explained input) − (f(x) − f(x⁰)) for reference methods;
   * under a noise tunnel one per noisy sample (N × samples, row r's at r·samples …), as Captum.
   */
  delta?: Float32Array;
  /** Text models: one score per token, the attributions summed over the embedding axis [N, L]. */
  tokenScores?: TensorData;
  /** Joint attribution to token ids: `tokenScores` of each token-id input, by name. */
  inputTokenScores?: Record<string, TensorData>;
  /** Warnings raised so far by this Explainer (e.g. an execution provider that fell back). */
  warnings?: string[];
}

export interface Prepared { view: GraphView; facts: TensorFacts; batchDynamic: boolean }

/** Largest forward activations and weights (bytes at batch 1) whose graphs cache onnxruntime's optimised form. */
const MAX_OPTIMIZED_BYTES = 2 ** 30;

/** The most values a mean or scale of an image input is read with (a mean image of 3×1024×1024 is 3M). */
const MAX_SCALE_VALUES = 1 << 22;

/** Ops that move, resize or pick an image's pixels without changing their scale (a BGR Gather, a Resize inside the model). */
const KEEPS_SCALE = new Set(['Transpose', 'Identity', 'Cast', 'Resize', 'Upsample', 'Gather', 'Slice', 'Reshape', 'Pad', 'Flatten', 'Squeeze', 'Unsqueeze', 'Expand']);

/**
 * The image scale a float input has where the graph normalises it itself: every op reading its
 * values (past KEEPS_SCALE; Shape and Size read none) subtracts mean pixels (MATLAB's zerocenter and
 * zscore; also as an Add of their negatives, Keras' caffe mode, or as x·a + b with means −b/a and
 * a = 1/σ at most 0.1: a Div by the deviations then a Sub, a BatchNormalization), multiplies by at
 * most 2/255 in float32 or divides by 100 or more (Keras' Rescaling, 1/127.5 with an offset too):
 * 'pixels'; subtracts means of [0, 1] values: 'none' (as x·a + b only with 1/σ at least 1:
 * torchvision's transform_input re-scales normalised values by about 0.45, and a BatchNormalization
 * fed normalised values has a variance near 1). Undefined otherwise.
 */
function inGraphScale(view: GraphView, input: string): 'pixels' | 'none' | undefined {
  const readers = (t: string): NodeProto[] => (view.consumers.get(t) ?? []).flatMap((n) => {
    if (n.domain || n.op_type === 'Shape' || n.op_type === 'Size') return [];
    return KEEPS_SCALE.has(n.op_type ?? '') && n.input?.[0] === t ? readers(n.output![0]) : [n];
  });
  // A constant's values, not a MatMul's weight (a gigabyte, as numbers).
  const values = (t: string | undefined) => {
    const k = t ? view.constant(t) : undefined;
    return k && k.values.length && k.dims.reduce((a, d) => a * d, 1) <= MAX_SCALE_VALUES ? k.values : undefined;
  };
  // The constant operand of a two-input op reading the image: the second, or either of Add's and Mul's.
  const operand = (n: NodeProto) => (n.input?.length !== 2 ? undefined : values(n.input[1]) ?? (['Add', 'Mul'].includes(n.op_type!) ? values(n.input[0]) : undefined));
  // The constant of the one op reading n's output, where that op is `op`.
  const next = (n: NodeProto, op: string) => {
    const after = readers(n.output![0]);
    return after.length === 1 && after[0].op_type === op ? operand(after[0]) : undefined;
  };
  const pairwise = (a: number[] | undefined, b: number[], f: (x: number, y: number) => number) =>
    a && elementwise([a, b].map((values) => ({ dims: [values.length], values })), ([x, y]) => f(x, y))?.values;
  const subtracted = (m: number[] | undefined): 'pixels' | 'none' | undefined => {
    if (!m?.length || !m.every((v) => v >= 0 && v <= 255)) return undefined;
    const mean = m.reduce((a, v) => a + v, 0) / m.length;
    return mean > 1.5 ? 'pixels' : mean > 0.05 && m.every((v) => v <= 1) ? 'none' : undefined;
  };
  // x·a + b with −b/a the means: 1/σ of pixels (σ near 60) is small, of [0, 1] values (σ near 0.25) at least 1.
  const affine = (means: number[] | undefined, a: number[]) => {
    const kind = subtracted(means);
    return (kind === 'pixels' && a.every((v) => v <= 0.1)) || (kind === 'none' && a.every((v) => v >= 1)) ? kind : undefined;
  };
  const scale = (n: NodeProto): 'pixels' | 'none' | undefined => {
    if (n.domain) return undefined;
    // A BatchNormalization as the normaliser: its mean and 1/√var (one fed normalised values has a variance near 1).
    if (n.op_type === 'BatchNormalization') return affine(values(n.input?.[3]), (values(n.input?.[4]) ?? []).map((v) => 1 / Math.sqrt(v)));
    const c = ['Sub', 'Add', 'Mul', 'Div'].includes(n.op_type!) ? operand(n) : undefined;
    if (!c) return undefined;
    switch (n.op_type) {
      case 'Sub': return subtracted(values(n.input![1]));
      case 'Add': return subtracted(c.map((v) => -v));
      case 'Mul': return c.every((v) => v > 0 && v <= Math.fround(2 / 255)) ? 'pixels' : c.every((v) => v > 0) ? affine(pairwise(next(n, 'Add'), c, (b, a) => -b / a), c) : undefined;
      case 'Div': return c.every((v) => v >= 100) ? 'pixels' : c.every((v) => v > 0) ? affine(pairwise(next(n, 'Sub'), c, (s, d) => s * d), c.map((d) => 1 / d)) : undefined;
      default: return undefined;
    }
  };
  const scales = new Set(readers(input).map(scale));
  return scales.size === 1 ? [...scales][0] : undefined;
}

/** Ops whose integer output picks from the scores they read. */
const PICKS = new Set(['ArgMax', 'ArgMin', 'Multinomial', 'Hardmax']);

/** Ops that carry a pick to an output as it is. */
const CARRIES = new Set(['Identity', 'Cast', 'Concat', 'Reshape', 'Squeeze', 'Unsqueeze', 'Flatten']);

/** For a shape given as that of token ids (one row's when it lacks the batch axis): the embedding's shape to give instead. */
function embeddingHint(input: string, tokens: NonNullable<Explainer['tokens']>, dims: number[]): string {
  const ids = [...Array(tokens.ids.dims.length - dims.length).fill(1), ...dims];
  return `: '${input}' is the embedding that the token ids '${tokens.ids.name}' look up; give its shape, the ids' and then the width (for ids of shape [${ids}]: ${[...ids, ...tokens.rowDims]})`;
}

/** Whether `f` throws. */
function throws(f: () => void): boolean {
  try {
    f();
    return false;
  } catch {
    return true;
  }
}

/**
 * Where `input` holds the batch on axis 1 (torch's nn.LSTM, GRU or Transformer without batch_first:
 * [L, N, …]), which an output declares as its first axis by the same name, the refusal's advice.
 */
function seqFirstBatch(view: GraphView, input: string): string | undefined {
  const dims = view.declared(input)?.dims ?? [];
  const batch = dims[1]?.dim_param;
  if (!batch || dims[0]?.dim_param === batch) return undefined;
  const output = (view.graph.output ?? []).find((o) => view.declared(o.name ?? '')?.dims?.[0]?.dim_param === batch);
  return output && `; input '${input}' holds its rows on axis 1 ('${batch}', the first axis of output '${output.name}'): a sequence-first model (torch's LSTM, GRU or Transformer without batch_first) — export it batch-first (batch_first=True, or the input transposed inside the model), or explain one sample [L, 1, …] with --unbatched`;
}

/** Ops that draw random values on every run (ONNX's generators). */
const RANDOM_OPS = new Set(['RandomNormal', 'RandomUniform', 'RandomNormalLike', 'RandomUniformLike', 'Bernoulli', 'Multinomial']);

/** The nodes that draw random values and the tensors whose values follow from theirs. */
function drawnValues(view: GraphView): { drawn: NodeProto[]; random: Set<string> } {
  const drawn = view.nodes.filter((n) => !n.domain && (RANDOM_OPS.has(n.op_type ?? '') || trainingDropout(view, n)));
  return { drawn, random: drawn.length ? valueDescendants(view, drawn.flatMap((n) => n.output ?? [])) : new Set() };
}

/**
 * The axes of the explained tensor (rank `rank`, batch at 0) that the Softmax or LogSoftmax `n`
 * normalises together: its axis, or from it to the last before opset 13 (the input coerced to 2-D);
 * `shift` axes put before its input (an unbatched model's sample axis), `perm` the Transpose from the
 * explained tensor to its input. A Sigmoid (LRP starts at its logits) has none: the seed is centred
 * over the row, as on the Sigmoid's output for the other methods.
 */
function classAxes(view: GraphView, n: NodeProto, shift: number, perm?: number[]): (rank: number) => number[] {
  return (rank) => {
    const r = rank - shift;
    const axis = attrInt(n, 'axis', view.opset >= 13 ? -1 : 1);
    const first = axis < 0 ? axis + r : axis;
    if (!(first >= 0 && first < r)) throw new ExplainError(`${view.label}: ${view.nodeLabel(n)}: axis ${axis} is out of range for rank ${r}`);
    const own = view.opset >= 13 ? [first] : Array.from({ length: r - first }, (_, k) => first + k);
    return own.map((a) => (perm ? perm[a] : a) + shift);
  };
}

/** A Dropout in training mode (opset 12 on; torch's TrainingMode.TRAINING, MC dropout's F.dropout(training=True)): a new mask every run. */
function trainingDropout(view: GraphView, n: NodeProto): boolean {
  const [ratio, training] = [1, 2].map((k) => (n.input?.[k] ? view.constant(n.input[k])?.values[0] : undefined));
  return n.op_type === 'Dropout' && !!training && ratio !== 0;
}

/** The class activation maps that read a layer (defaultCamLayer's where none is given). */
const GRAD_CAMS = new Set(['grad-cam', 'guided-grad-cam']);

/** Most input values (all rows) of a model's fixed batch that batch-freeing runs to compare rows (2²⁸: 1 GiB of float32). */
const MAX_FIXED_BATCH_VALUES = 2 ** 28;
/** Graphs, sessions and input shapes an Explainer with maxSessions keeps (or maxSessions, if more; least recently used dropped first). */
const KEPT_GRAPHS = 64;

/** How an augmented graph is built besides the attribution options. */
export type GraphBuild = Partial<Pick<AugmentSpec, 'method' | 'path' | 'zeroBaseline' | 'baselineRows' | 'sharedBaseline' | 'stepsKept'>>;

/** The tensor explained: the one chosen (`output`) and the one seeded (`from`), the input of its final `squash` (Softmax, LogSoftmax, Sigmoid) where that is skipped. */
/**
 * The tensor chosen (`output`) and the one the seed goes on (`from`, its row's values in the same
 * order); `squash`: the op between them; `classes`: for a Softmax, which axes of `from` it normalises.
 */
export interface ExplainedTensor { output: string; from: string; squash?: string; classes?: (rank: number) => number[] }

export class Explainer {
  private readonly prepared: Map<string, Promise<Prepared>>;
  private readonly sessions: Map<string, Promise<PooledSession>>;
  private readonly graphs: Map<string, Promise<{ session: PooledSession; info: GraphInfo }>>;
  /** stepsOnPath per prepared graph and explained tensor (every reference-method call asks). */
  private readonly stepsFound = new WeakMap<Prepared, Map<string, ReturnType<typeof stepsOnPath>>>();
  /**
   * The values of the fed inputs whose values set tensor shapes (shapeSetters: token ids that pick
   * <eos> positions by a NonZero), per row, as the last call gave them: the probe runs with row 0's,
   * and `key` (their digest) joins every graph's key. Calls that give them run one at a time.
   */
  private shapeFeeds?: { key: string; rows: Record<string, OrtTensor>[]; defaults?: boolean };
  private shapeSetterNames?: string[];
  private shapeQueue: Promise<unknown> = Promise.resolve();
  private readonly pool: SessionPool;
  /** Intra-op threads where the user sets none: one for small models (threadsFor). */
  private readonly threads: number | undefined;
  private weightsChecked = false;
  readonly view: GraphView;
  /**
   * Every graph input; `input` is the one explained. A model explained for its token ids is
   * viewed with the embedding lookup cut out (`view`): its input is the embedding output, and the
   * ids are looked up here and also fed as they are (see `tokens`).
   */
  readonly inputs: ModelInput[];
  readonly input: ModelInput;
  /** The inputs attributed to: `input` alone, or (joint attribution) several, `input` first. */
  readonly explained: ModelInput[];
  readonly joint: boolean;
  readonly tokens?: Tokens;
  /** The token ids of every explained input that holds them (joint attribution may join several), by the embedding explained for them. */
  readonly tokenInputs: Map<string, Tokens>;
  /** The augmented graphs' own input and output names (`seed`, `attribution`, …; suffixed where the model uses one). */
  readonly io: IoNames;
  /** Warnings raised so far (also sent to options.warn / console.warn). */
  readonly warnings: string[] = [];

  private constructor(
    readonly model: ModelProto, readonly label: string, readonly provider: Provider, private readonly warnSink: (m: string) => void,
    private readonly sessionOptions: SessionOptions = {}, private readonly cache?: { store: GraphCache; modelId: string },
    wrt?: string | string[], maxSessions?: number, unbatched = false, fed: string[] = [],
  ) {
    this.pool = new SessionPool(maxSessions, (e) => runError(e, label));
    // Under a session limit the graphs and input shapes kept (their bytes and probes, tens of KB each,
    // the weights shared) are bounded too: a server meeting ever new sizes or options stays bounded.
    const kept = maxSessions === undefined ? Infinity : Math.max(KEPT_GRAPHS, maxSessions);
    this.prepared = new RecentMap(kept, () => undefined);
    this.sessions = new RecentMap(kept, (s) => void s.then((session) => session.release(), () => undefined));
    this.graphs = new RecentMap(kept, (g) => void g.then(({ session }) => session.release(), () => undefined));
    this.threads = threadsFor(model);
    const read = canonicalForm(model, label);
    const original = new GraphView(unbatched ? withSampleAxis(read, label) : read, label);
    validateDeclarations(original);
    const declared = modelInputs(original);
    const chosen = explainedInputs(original, declared, wrt, label, fed);
    // --wrt all leaves out float inputs without a batch axis (a policy's observation vector beside per-move rows): said so.
    const left = wrt === 'all' && !unbatched ? declared.filter((i) => isFloatType(i.elemType) && i.dims.length > 0 && isBatchless(i, declared) && !isCacheInput(i) && !i.handedBack) : [];
    for (const i of left) this.warn(`${label}: --wrt all: input '${i.name}' [${i.dims.map((d) => (d < 0 ? '?' : d))}] has no batch axis: it is fed as it is for every row, not explained (--unbatched explains the model as one sample)`);
    const steering = wrt === 'all' ? explainableFloats(declared).filter((i) => !computesWith(original, i.name)) : [];
    for (const i of steering) this.warn(`${label}: --wrt all: input '${i.name}' is read only by ArgMax, comparisons or shapes: it is fed, not explained`);
    const lookups = [...chosen.embeddings.values()];
    // Token ids that a bag Loop over 1-D ids with offsets reads: the text is one sample.
    const bag = lookups.length && !unbatched ? flatBag(model, label) : undefined;
    if (bag) throw new ExplainError(`${label}: ${new GraphView(model, label).nodeLabel(bag.loop)} is torch's EmbeddingBag over 1-D token ids with offsets: the text holds the tokens of every bag, one sample; explain it with --unbatched (API: unbatched: true; logits [1, bags, classes], target BAG:CLASS), or export the model with 2-D ids [N, L] (offsets None), whose rows are explained as a batch`);
    const readsInput = (e: Embedding): boolean => e.parts?.every(readsInput) ?? original.inputs.some((i) => i.name === original.producer.get(e.output)?.input?.[1]);
    if (unbatched && lookups.some((e) => !readsInput(e))) throw new ExplainError(`${label}: --unbatched explains float inputs; the token ids '${chosen.inputs[0].name}' of a model without a batch axis are not supported (export it with one)`);
    const cut = [...chosen.embeddings].reduce((v, [ids, e]) => new GraphView(cutAtEmbedding(v, e, original.inputs.find((i) => i.name === ids)!), label), original);
    // Inputs without a batch axis get one of rows, fed one row for all (rewriter/batchless-inputs.ts).
    // So is an input whose fixed first dim is not the batch the explained input fixes (a weight matrix [3, 4] beside rows [2, 3]).
    const batch = chosen.inputs[0].dims[0];
    const otherFirstDim = (i: ModelInput) => batch > 0 && i.dims.length > 0 && i.dims[0] > 0 && i.dims[0] !== batch;
    // So is an input whose dynamic first axis is named apart from the explained batch where an output declares both
    // (CLIP's prompts: input_ids [text_batch, L] beside pixel_values [image_batch, …], logits [image_batch, text_batch]).
    const batchName = chosen.inputs[0].params[0];
    const outputAxes = (original.model.graph?.output ?? []).map((o) => (o.type?.tensor_type?.shape?.dim ?? []).map((d) => d.dim_param));
    const otherBatch = (i: ModelInput) => batch < 0 && !!batchName && i.dims[0] < 0 && !!i.params[0] && i.params[0] !== batchName
      && outputAxes.some((axes) => axes[0] === batchName && axes.slice(1).includes(i.params[0]));
    const batchless = new Map(declared.filter((i) => (isBatchless(i, declared) || otherFirstDim(i) || otherBatch(i)) && !chosen.inputs.includes(i)).map((i) => [i.name, i]));
    this.view = batchless.size ? new GraphView(withRowAxis(cut.model, new Set(batchless.keys())), label) : cut;
    // Such an input's sizes keep the names the model gives them (the view names them apart).
    // And the element type the file declares, where the canonical form reads another (integers only cast to float).
    const fileTypes = new Map((model.graph?.input ?? []).map((vi) => [vi.name, vi.type?.tensor_type?.elem_type]));
    const fileType = (i: ModelInput) => { const t = fileTypes.get(i.name); return t !== undefined && t !== i.elemType ? { fileType: t } : {}; };
    this.inputs = modelInputs(this.view).map((i) => { const own = batchless.get(i.name); return { ...i, ...fileType(i), ...(own ? { unbatched: own.dims, params: [i.params[0], ...own.params], handedBack: own.handedBack, otherBatch: otherBatch(own) || undefined } : {}) }; });
    this.explained = chosen.inputs.map((c) => this.inputs.find((i) => i.name === (chosen.embeddings.get(c.name)?.output ?? c.name))!);
    this.input = this.explained[0];
    this.joint = chosen.joint;
    this.tokenInputs = new Map(chosen.inputs.flatMap((c) => { const e = chosen.embeddings.get(c.name); return e ? [[e.output, tokenTable(original, c, e)] as const] : []; }));
    this.tokens = this.tokenInputs.get(this.input.name);
    this.io = ioNames(this.view);
  }

  /** Loads a model from bytes, or from a path where the platform has files (Node). */
  static async load(given: ModelInputSource, options: ExplainerOptions = {}): Promise<Explainer> {
    checkKnown('Explainer.load', options, LOAD_KEYS);
    checkLoadOptions(options);
    const source = await modelBytes(given);
    // External data join the model's identity: re-saved weights leave the .onnx file as it was.
    const read: ModelBytes = { external: [] };
    const model = readModel(source, options.baseDir, read);
    return Explainer.fromModel(model, modelLabel(source), options, options.cache && await options.cache.modelId(read.model ?? source, read.external));
  }

  /** An Explainer of a model already read (`label` names it in messages); a graph cache needs the model's id (GraphCache.modelId). */
  static fromModel(model: ModelProto, label: string, options: ExplainerOptions = {}, modelId?: string): Explainer {
    checkLoadOptions(options);
    checkSessionOptions(options.sessionOptions);
    const cache = options.cache && modelId !== undefined ? { store: options.cache, modelId } : undefined;
    return new Explainer(model, label, options.provider ?? (backend().fallback as Provider), options.warn ?? ((m) => console.warn(m)), options.sessionOptions, cache, options.wrt, options.maxSessions, options.unbatched, options.fed);
  }

  warn(message: string): void {
    this.warnings.push(message);
    this.warnSink(message);
  }

  /** A warning not already given (each session of a graph onnxruntime's optimiser breaks gives it again). */
  warnOnce(message: string): void {
    if (!this.warnings.includes(message)) this.warn(message);
  }

  /** The execution provider the sessions run on: the requested one, or the platform's fallback after it failed. */
  get executionProvider(): string {
    return providerInUse(this.provider);
  }

  /**
   * How an image file becomes this model's input by default: 'pixels' (0–255) for an integer input
   * or one the graph itself scales from pixel values, 'none' ([0, 1]) for one the graph centres on
   * [0, 1] means itself, else torchvision's preset.
   */
  get imagePreset(): Preprocess {
    const declared = (this.model.graph?.input ?? []).find((i) => i.name === this.input.name)?.type?.tensor_type?.elem_type;
    if (this.tokens) return 'torchvision';
    return !isFloatType(declared ?? DataType.FLOAT) ? 'pixels' : inGraphScale(this.view, this.input.name) ?? 'torchvision';
  }

  /** The model's tensor outputs (a ZipMap's sequence of maps is none: onnxruntime-node cannot return it). */
  get outputNames(): string[] {
    return (this.view.graph.output ?? []).filter(isTensorValue).map((o) => o.name ?? '');
  }

  /**
   * What is explained when no output is named: the model's one float output (copies of inputs
   * aside); for classifiers whose probabilities also leave through a ZipMap (skl2onnx), the
   * ZipMap's input tensor.
   */
  private defaultOutput(): string {
    const outputs = this.view.graph.output ?? [];
    // Nor is a copy of an input (ML.NET returns its input columns: FeatureVector.output).
    // A decoder's updated generation cache (present.*) and a recurrent model's next state are not what is explained.
    // Nor a constant (Unity ML-Agents' version_number beside the actions).
    const computed = valueDescendants(this.view, this.inputs.map((i) => i.name));
    const floats = outputs.filter((o) => isFloatType(o.type?.tensor_type?.elem_type ?? undefined) && !/^present/i.test(o.name ?? '') && !copiesInput(this.view, o.name ?? '')
      && !this.inputs.some((i) => i.handedBack === o.name) && computed.has(o.name ?? '')).map((o) => o.name ?? '');
    const zipped = outputs.map((o) => this.view.producer.get(o.name ?? '')).filter((n) => n?.op_type === 'ZipMap').map((n) => n!.input![0]);
    const candidates = [...new Set([...floats, ...zipped])];
    if (candidates.length === 1) return candidates[0];
    // An intermediate tensor exported beside the output it feeds (torch's `input.20` beside `output`, logits beside probabilities),
    // or a copy of one (ML.NET's Features column echoed beside the Score computed from it), is not the default.
    const last = candidates.filter((c) => {
      const after = valueDescendants(this.view, [throughCasts(c, (t) => this.view.producer.get(t))]);
      return !candidates.some((d) => d !== c && after.has(d));
    });
    if (last.length === 1) return last[0];
    if (candidates.length) throw new ExplainError(`${this.label}: the model has several outputs; choose one with --output (${candidates.join(', ')})`);
    // Only constants and what picks from scores (a classifier's ArgMax class id, a policy's sampled or arg-max action): the scores.
    // An output that is a pick as it is, copied, cast or reshaped (ML-Agents concatenates its one action).
    const pickOf = (t: string): NodeProto | undefined => {
      const n = this.view.producer.get(t);
      if (!n || n.domain) return undefined;
      if (PICKS.has(n.op_type ?? '')) return computed.has(n.input![0]) && this.view.producer.has(n.input![0]) ? n : undefined;
      return CARRIES.has(n.op_type ?? '') && (n.op_type !== 'Concat' || n.input!.length === 1) ? pickOf(n.input![0]) : undefined;
    };
    const steps = outputs.flatMap((o): NodeProto[] => { const n = pickOf(o.name ?? ''); return n ? [n] : []; });
    const read = [...new Set(steps.map((n) => n.input![0]))];
    if (read.length === 1) {
      this.warnOnce(`${this.label}: the model's outputs pick from the scores '${read[0]}' (${steps.map((n) => n.op_type).join(', ')}), which are explained (--output names another tensor)`);
      return read[0];
    }
    if (outputs.length === 1) return outputs[0].name ?? '';
    const what = read.length ? `the outputs pick from scores (${[...new Set(steps.map((n) => n.op_type))].join(', ')}): explain them, --output ${read.map((r) => `'${r}'`).join(' or ')}, or` : 'explain';
    throw new ExplainError(`${this.label}: no output of the model is a float tensor computed from its inputs; ${what} a tensor 'onnx-explain info' lists with --output`);
  }

  /** Checks a concrete input shape (batch included) against the model's input. */
  checkShape(dims: number[]): void {
    const want = this.input.dims;
    const show = `[${want.map((d) => (d < 0 ? '?' : d)).join(', ')}]`;
    if (dims.length !== want.length) {
      // Rows of exactly the declared shape: the model takes one sample without a batch axis.
      const unbatched = dims.length === want.length + 1 && want.every((d, k) => d < 0 || d === dims[k + 1]);
      const noBatch = 'explain it as it is with --unbatched (API: unbatched: true; rows run one at a time), or export it with a leading batch axis (torch.onnx.export with a batched example input and dynamic_axes)';
      // A dynamic axis 0 may be a batch already: then the extra axis is the caller's (a row shape given with its batch).
      const hint = unbatched && want[0] < 0 ? `: one axis too many — where axis 0 of the model's input is its batch, a row shape (augmented(), graph(), rewrite --shape) leaves the batch out; where the model takes one sample without a batch axis, ${noBatch}`
        : unbatched ? `: the model takes one sample without a batch axis; ${noBatch}`
        // The shape of token ids (or of one row of them): the explained input is their embedding (rewrite --shape N,L,H).
        : this.tokens && dims.length <= this.tokens.ids.dims.length ? embeddingHint(this.input.name, this.tokens, dims) : '';
      throw new ExplainError(`${this.label}: input '${this.input.name}' has shape [${dims}], expected rank ${want.length} ${show}${hint}`);
    }
    dims.forEach((d, k) => {
      if (k > 0 && want[k] > 0 && d !== want[k]) {
        // Token ids: name the model's ids input and its own dims, not the embedding cut out of it.
        const ids = this.tokens && k < this.tokens.ids.dims.length ? this.tokens.ids : undefined;
        if (ids) throw new ExplainError(`${this.label}: token ids '${ids.name}' have shape [${dims.slice(0, ids.dims.length)}], expected [${ids.dims.map((w, j) => (j === 0 || w < 0 ? '?' : w)).join(', ')}] (the model fixes axis ${k} at ${want[k]})`);
        throw new ExplainError(`${this.label}: input '${this.input.name}' has shape [${dims}], expected ${show}`);
      }
      if (d <= 0) throw new ExplainError(`${this.label}: input '${this.input.name}' has an empty dimension in shape [${dims}]`);
    });
  }

  /**
   * Shapes, batch handling and the (possibly batch-freed, possibly one-hot canonized) graph for one
   * input shape.
   */
  prepare(rowDims: number[], onehotAxis?: number, feeds: Record<string, TensorInput> = {}): Promise<Prepared> {
    const unread = Object.keys(feeds).find((name) => this.inputs.some((i) => i.name === name && isCacheInput(i)) && !this.view.nodes.some((n) => n.input?.includes(name)));
    if (unread) throw new ExplainError(`${this.label}: --feed ${unread}: the model does not read this generation cache (an optimum merged decoder is read as its first pass); explain its decoder_with_past model to give a past`);
    const side = sideRowDims(this.inputs, this.input, rowDims, feeds, this.label);
    const specs: InputSpec[] = this.inputs.map((i) => ({ ...i, dims: [1, ...(i === this.input ? rowDims : side[i.name])] }));
    const shapeRows = this.shapeSetters().length ? this.shapeFeedsFor(specs) : undefined;
    const key = `${JSON.stringify(specs.map((s) => [s.name, s.dims]))}/${onehotAxis ?? ''}${shapeRows ? `/${this.shapeFeeds!.key}` : ''}`;
    let p = this.prepared.get(key);
    if (!p) {
      p = (async () => {
        this.validate([1, ...rowDims]);
        let view = this.view;
        const batch = fixedBatch(view.graph, specs);
        if (batch > 1) {
          // Everything below probes one row: a model that fixes a larger batch is batch-freed first,
          // which runs that batch once (a declared batch of 2³¹−1 would fill memory for minutes).
          const values = batch * specs.reduce((sum, s) => sum + s.dims.reduce((a, d) => a * d, 1), 0);
          // A text model's input is the embedding its ids look up: the ids are what the user gave.
          const fixer = this.tokens ? `token ids input '${this.tokens.ids.name}'` : `input '${this.input.name}'`;
          if (values > MAX_FIXED_BATCH_VALUES) throw new ExplainError(`${this.label}: ${fixer} fixes batch ${batch}: ${batch} rows of its inputs hold ${values} values, more than the ${MAX_FIXED_BATCH_VALUES} onnx-explain runs to check it; export it with a dynamic batch axis (torch.onnx.export's dynamic_axes)`);
          const freed = await freeHardCodedBatch(view, specs, shapeRows?.[0]);
          if (!freed) {
            // Constants of that many rows the export folded (a Reshape to [B·P, −1], a Split of the batch).
            const tied = batchConstants(view, batch).slice(0, 3).map(({ name, c }) => `'${name}' [${c.dims}]`);
            const because = tied.length ? ` (constants of ${batch} rows: ${tied.join(', ')})` : '';
            throw new ExplainError(`${this.label}: ${fixer} fixes batch ${batch} and the graph does not give the same rows at another batch${because}; export it with a dynamic batch axis (torch.onnx.export's dynamic_axes), or with a leading batch axis if its first axis is not one (a model that takes one unbatched image, a seq-first [L, N, …] input); --unbatched (API unbatched: true) explains the whole tensor as one row`);
          }
          view = new GraphView(freed, this.label);
        }
        // Each stage's graph follows from the model, the input shapes and the stages before it.
        let stage = 0;
        const probe = (model: ModelProto) => this.cachedProbe(model, specs, `${key}/${this.explained.map((i) => i.name)}/${stage++}`, shapeRows?.[0]).catch((e) => {
          // Default values (zeros, ones for a mask) may select nothing where the model's shapes follow from them.
          if (!(e instanceof ExplainError) || !this.shapeFeeds?.defaults) throw e;
          throw new ExplainError(`${e.message}; its tensors' shapes follow from the values of ${this.shapeSetters().map((n) => `'${n}'`).join(', ')}, which were not given: give them (--feed NAME=FILE, API feeds)`);
        });
        let first = await probe(view.model);
        if (onehotAxis !== undefined) {
          // After a probe, which gives the pads and shapes an export computes (torch's F.pad, x.view(x.size(0), …)).
          view = new GraphView(normalizeOneHotWeights(view, this.input.name, onehotAxis, rowDims, first.facts), this.label);
          first = await probe(view.model);
        }
        // Ifs on constant or shape-only conditions become their taken branch (nested ones in turn),
        // Loops of known trip count their iterations, sequences of known positions their tensors —
        // until neither changes anything: an iteration's If on the iteration number (`if i % 2 == 0:`
        // in a scripted loop) is known once its Loop is written out.
        for (let changed = true; changed;) {
          changed = false;
          for (let inlined = inlineConstantIfs(view, first.facts.values); inlined; inlined = inlineConstantIfs(view, first.facts.values)) {
            view = new GraphView(inlined, this.label);
            first = await probe(view.model);
          }
          for (let flat = staticLoopsAndSequences(view, first.facts); flat; flat = staticLoopsAndSequences(view, first.facts)) {
            view = new GraphView(flat, this.label);
            first = await probe(view.model);
            changed = true;
          }
        }
        // Then recurrent cells become their time steps.
        const unrolled = unrollRecurrent(view, first.facts);
        if (unrolled) {
          view = new GraphView(unrolled, this.label);
          first = await probe(view.model);
        }
        if (shapeRows) await this.sameShapes(view.model, specs, first.facts, shapeRows);
        const batched = async (): Promise<{ view: GraphView } & ProbeResult> => {
          if (first.batchDynamic) return { view, ...first };
          const freed = await freeHardCodedBatch(view, specs, shapeRows?.[0]);
          const second = freed && await probe(freed);
          return second && second.batchDynamic ? { view: new GraphView(freed, this.label), ...second } : { view, ...first };
        };
        // Dynamic quantization's statistics, taken over the whole batch, become per row (per tensor where the batch stays fixed).
        const settled = await batched();
        const perRow = quantizePerRow(settled.view, settled.facts);
        return perRow ? { view: new GraphView(perRow, this.label), ...(await probe(perRow)) } : settled;
      })().then((prepared) => {
        validateProbed(prepared.view, prepared.facts.shapes);
        // Shapes show rows that mix as an outer product; rowMixingNode the values that mix.
        if (prepared.batchDynamic && rowMixingNode(prepared.view, prepared.facts, this.explained.map((i) => i.name))) Object.assign(prepared, { facts: rowByRow(prepared.facts), batchDynamic: false });
        // One shared reference row, unless the other batch inputs meet it where rows do not broadcast.
        prepared.facts.batchBroadcasts &&= sharedReferenceFits(prepared.view, prepared.facts, this.explained.map((i) => i.name));
        return prepared;
      });
      this.prepared.set(key, p);
      p.catch(() => this.prepared.delete(key));
    }
    return p;
  }

  /**
   * The fed inputs whose values set tensor shapes (valueShaped), or, without a batch axis (one value
   * for every row), an If's condition (TF1's is_training placeholder) or a Loop's trip count or
   * first condition: the probe runs with their given values, so the If becomes the branch they
   * take and the Loop its iterations.
   */
  shapeSetters(): string[] {
    if (this.shapeSetterNames) return this.shapeSetterNames;
    const explained = new Set(this.explained.map((i) => i.name));
    const conditions = this.view.nodes.flatMap((n) => (n.domain ? [] : n.op_type === 'If' ? [n.input![0]] : n.op_type === 'Loop' ? (n.input ?? []).slice(0, 2).filter(Boolean) : []));
    const steers = (name: string) => {
      const reached = valueDescendants(this.view, [name]);
      return conditions.some((c) => c === name || reached.has(c));
    };
    this.shapeSetterNames = this.inputs.filter((i) => !explained.has(i.name) && (valueShaped(this.view, [i.name]).size > 0 || (i.unbatched && steers(i.name)))).map((i) => i.name);
    return this.shapeSetterNames;
  }

  /**
   * Remembers the shape setters' values for the rows of x (given in `feeds`, else their defaults)
   * and runs `call` once the calls before it are done: graphs built meanwhile are for these values.
   */
  private withShapeFeeds<T>(x: OrtTensor, feeds: Record<string, DenseInput> | undefined, call: () => Promise<T>): Promise<T> {
    const setters = this.shapeSetters();
    if (!setters.length) return call();
    const next = this.shapeQueue.then(async () => {
      const values = this.shapeValues(x, feeds);
      // Graphs of other values are not used again soon: their sessions (each with its weights) go.
      if (this.shapeFeeds && this.shapeFeeds.key !== values.key) await this.pool.releaseAll();
      this.shapeFeeds = values;
      return call();
    });
    this.shapeQueue = next.catch(() => undefined);
    return next;
  }

  /** The shape setters' values for the rows of x, per row: given in `feeds`, else their defaults. */
  private shapeValues(x: OrtTensor, feeds: Record<string, DenseInput> | undefined): NonNullable<Explainer['shapeFeeds']> {
    const setters = this.shapeSetters();
    const side = this.sideFeeds(x, feeds);
    const rows = splitFeeds(Object.fromEntries(setters.map((name) => [name, side[name]])), x.dims[0]);
    return { key: digestRows(rows), rows, defaults: setters.some((name) => !feeds?.[name]) };
  }

  /** The shape setters' values per row for one input shape: the remembered ones, or the defaults for one row of zeros. */
  private shapeFeedsFor(specs: InputSpec[]): Record<string, OrtTensor>[] {
    const width = (name: string) => JSON.stringify(specs.find((s) => s.name === name)!.dims.slice(1));
    const fits = this.shapeFeeds?.rows.every((row) => Object.entries(row).every(([name, t]) => JSON.stringify(t.dims.slice(1)) === width(name)));
    if (!fits) this.shapeFeeds = this.shapeValues(this.zeros(specs.find((s) => s.name === this.input.name)!.dims), {});
    return this.shapeFeeds!.rows;
  }

  /** Zeros of the explained input's type. */
  private zeros(dims: number[]): OrtTensor {
    return makeOrtTensor(this.input.elemType, new Array(dims.reduce((a, d) => a * d, 1)).fill(0), dims);
  }

  /** Every row's shape setters give the shapes row 0's give (else the rows cannot share one graph). */
  private async sameShapes(model: ModelProto, specs: InputSpec[], facts: TensorFacts, rows: Record<string, OrtTensor>[]): Promise<void> {
    const shaped = [...valueShaped(new GraphView(model, this.label), this.shapeSetters()).keys()];
    const seen = new Set([digestRows([rows[0]])]);
    for (const [r, row] of rows.entries()) {
      const key = digestRows([row]);
      if (seen.has(key)) continue;
      seen.add(key);
      const other = (await probeFacts(model, specs, this.label, row)).facts;
      const differs = shaped.find((t) => other.shapes.get(t)?.join() !== facts.shapes.get(t)?.join());
      if (differs) throw new ExplainError(`${this.label}: rows 0 and ${r} give '${differs}' the shapes [${facts.shapes.get(differs)}] and [${other.shapes.get(differs)}]: its shape follows from the values of ${this.shapeSetters().map((n) => `'${n}'`).join(', ')} (e.g. how many <eos> tokens a row holds); explain rows that give the same shapes together`);
    }
  }

  /** probeFacts, through the graph cache where there is one (the probe's runs are the larger part of a cached call on a large model). */
  private async cachedProbe(model: ModelProto, specs: InputSpec[], stage: string, given?: Record<string, OrtTensor>): Promise<ProbeResult> {
    const store = this.cache?.store;
    const key = `${this.cache?.modelId}/probe/${stage}`;
    const cached = store?.getProbe && await store.getProbe(key);
    if (cached) {
      try {
        return decodeProbe(cached);
      } catch {
        // A damaged entry: probe again.
      }
    }
    const result = await probeFacts(model, specs, this.label, given);
    if (store?.putProbe) await store.putProbe(key, encodeProbe(result));
    return result;
  }

  /** Weights and attributes checked against the shapes that follow from an input shape, before onnxruntime sees them. */
  private validate(dims: number[]): void {
    // The model's own weights: a reading may fold them away (opset 7's BatchNormalization with spatial 0).
    if (!this.weightsChecked) validateWeights(new GraphView(this.model, this.label));
    this.weightsChecked = true;
    // Shapes follow from the batch the model fixes, where it fixes one (its Reshape constants may too).
    const at = (d: number[]) => validateGraph(this.view, this.input.name, this.input.dims[0] > 0 ? [this.input.dims[0], ...d.slice(1)] : d);
    try {
      at(dims);
    } catch (e) {
      // A first axis that is not a batch (a TDNN's time steps, which the model unsqueezes a batch
      // onto) fails at one row where more rows pass; a batch axis never decides that.
      const more = this.input.dims[0] < 0 && dims[0] === 1 && e instanceof ExplainError && !throws(() => at([64, ...dims.slice(1)]));
      if (more) throw new ExplainError(`${e.message}, at one row of the input's first axis, where 64 rows pass: if that axis is not a batch (time steps, a sequence), explain the input as one sample with --unbatched (API: unbatched: true)`);
      throw e;
    }
  }

  /**
   * Which tensor to explain (a model output, or any tensor of the graph) and the tensor the seed
   * goes on: the pre-softmax logits when it is a Softmax's output, unless explainSoftmax; the logit
   * behind a Sigmoid too for a method that seeds logits (LRP); `squash` names the op between them.
   */
  resolveOutput(output: string | undefined, explainSoftmax = false, method?: string): ExplainedTensor {
    const names = (this.view.graph.output ?? []).map((o) => o.name ?? '');
    const chosen = output ?? this.defaultOutput();
    if (!names.includes(chosen) && !this.view.producer.has(chosen)) throw new ExplainError(`${this.label}: ${this.notATensor(chosen) ?? `no output or tensor named '${chosen}'`} (outputs: ${shortList(names)}; 'onnx-explain info' lists the explainable tensors)`);
    const copied = (name: string) => producerPastCopies(this.view, name);
    const producer = producerPastViews(this.view, chosen);
    const logitsToo = !!method && !!methods[method]?.seedsLogit;
    const isSoftmax = (n: NodeProto | undefined) => n?.op_type === 'Softmax' || n?.op_type === 'LogSoftmax' || (logitsToo && isSigmoid(n));
    const softmax = (n: NodeProto | undefined) => isSoftmax(n) && !explainSoftmax;
    const squashed = (n: NodeProto, from: string, shift = 0, perm?: number[]): ExplainedTensor => ({ output: chosen, from, squash: n.op_type!, classes: isSigmoid(n) ? undefined : classAxes(this.view, n, shift, perm) });
    if (softmax(producer)) return squashed(producer!, producer!.input![0]);
    // The same heads written out in element-wise ops (hand-written torch modules).
    const written = producer && !explainSoftmax ? writtenSquash(this.view, producer) : undefined;
    if (written && (written.op !== 'Sigmoid' || logitsToo)) {
      const axes = written.axes;
      return { output: chosen, from: written.logits, squash: written.op, classes: axes && ((rank) => axes.map((a) => (a < 0 ? a + rank : a))) };
    }
    // A Softmax between Transposes that undo each other (MATLAB's softmax over channels last): the logits before the first, in the output's layout.
    const inner = producer?.op_type === 'Transpose' ? copied(producer.input![0]) : undefined;
    const before = softmax(inner) ? copied(inner!.input![0]) : undefined;
    const [p1, p2] = [before, producer].map((n) => (n?.op_type === 'Transpose' ? attrInts(n, 'perm') : undefined));
    if (p1 && p2 && p1.length === p2.length && p2.every((p, k) => p1[p] === k)) return squashed(inner!, before!.input![0], 0, p1);
    // An unbatched model's output is its sample's with an axis put on (withSampleAxis), as are a final Softmax's logits.
    const sample = producer?.op_type === 'Unsqueeze' ? producerPastViews(this.view, producer.input![0]) : undefined;
    const logits = softmax(sample) ? withBatchAxis(sample!.input![0]) : undefined;
    return logits && this.view.producer.has(logits) ? squashed(sample!, logits, 1) : { output: chosen, from: chosen };
  }

  /** Fails where `explainSoftmax` would change nothing: the explained tensor is no final Softmax's output (nor, for LRP, a Sigmoid's). */
  checkExplainSoftmax(options: Pick<AttributeOptions, 'output' | 'explainSoftmax' | 'method'>): void {
    if (!options.explainSoftmax) return;
    const { output, from } = this.resolveOutput(options.output, false, options.method);
    if (from === output) throw new ExplainError(`${this.label}: --explain-softmax: '${output}' is not a Softmax's output (nor, for LRP, a Sigmoid's); it is explained as it is without the option`);
  }

  /** Why `name`, which no node of the main graph computes, is no tensor to explain: a node's name, a weight, an input; undefined otherwise. */
  private notATensor(name: string): string | undefined {
    const node = this.view.nodes.find((n) => n.name === name);
    if (node?.output?.[0]) return `'${name}' is the name of ${this.view.nodeLabel(node)}, not a tensor: its output${node.output.length > 1 ? 's are' : ' is'} ${node.output.filter(Boolean).map((o) => `'${o}'`).join(', ')}`;
    if (this.view.initializers.has(name) || this.view.constant(name)) return `'${name}' is a constant (a weight), not computed from the input`;
    if (this.explained.some((i) => i.name === name)) return `'${name}' is the explained input itself, not a tensor computed from it`;
    if (this.view.inputs.some((i) => i.name === name)) return `'${name}' is a model input, not computed from the explained input`;
    return undefined;
  }

  /**
   * Checks that a tensor can be explained or attributed to at this input shape: float, one row per
   * input row (batch on axis 0). `role` names it in errors; the walk says when it has no gradient.
   */
  checkTensor(prepared: Prepared, name: string, role: string): number[] {
    const { facts } = prepared;
    const shape = facts.shapes.get(name);
    const where = `${this.label}: ${role} '${name}'`;
    if (!shape) {
      const producer = this.view.producer.get(name);
      throw new ExplainError(producer ? `${where}: an output of ${this.view.nodeLabel(producer)}, which is read as other ops here (its outputs are not kept); pick a tensor before or after it` : `${this.label}: ${role} ${this.notATensor(name) ?? `'${name}': no such tensor in the main graph (tensors inside If/Loop bodies cannot be explained)`}`);
    }
    const text = rowsText(shape);
    if (!isFloatType(facts.dtypes.get(name))) throw new ExplainError(`${where} ${text} is not a float tensor (${typeName(facts.dtypes.get(name) ?? 0)})`);
    if (!holdsRows(facts, name, prepared.batchDynamic)) {
      // A batch-1 export whose head squeezed the batch away (`model(x)[0]`, `.squeeze(0)`).
      const before = seqFirstBatch(this.view, this.input.name) ?? this.explainInstead(prepared, name, () => true, role);
      throw new ExplainError(`${where} has shape [${shape}] at batch 1 with no batch on axis 0; only tensors with one row per input row can be explained${before}`);
    }
    // A stochastic policy's sampled action: mean + std·RandomNormalLike.
    const { drawn, random } = drawnValues(prepared.view);
    if (random.has(name)) {
      const source = drawn.find((n) => valueDescendants(prepared.view, n.output ?? []).has(name))!;
      throw new ExplainError(`${where} depends on ${this.view.nodeLabel(source)}, which draws new values on every run, so no two runs (the input's and the reference's, a path's points, perturbations) compute the same function${this.explainInstead(prepared, name, (t) => !random.has(t), role)}`);
    }
    return shape;
  }

  /**
   * A refusal's advice: the nearest tensor `name` is computed from (breadth first, through ArgMax and
   * comparisons too: an accuracy) that holds rows, has a gradient with respect to the explained
   * inputs, and `accept`s, to give as the same `role` (a layer, or the explained tensor); '' where there is none.
   */
  private explainInstead(prepared: Prepared, name: string, accept: (t: string) => boolean, role: string): string {
    const { view, facts } = prepared;
    const diff = differentiable(view, facts, this.explained.map((i) => i.name));
    // First through float tensors only (the values it is computed from, not the indices an NMS or
    // TopK picks them with: a detector's kept scores come from its pre-NMS scores, not its boxes),
    // then through integer ones too (an accuracy through its ArgMax).
    for (const floatsOnly of [true, false]) {
      const queue = [name];
      for (let k = 0; k < queue.length; k++) {
        for (const i of view.producer.get(queue[k])?.input ?? []) {
          if (!i || queue.includes(i) || !view.producer.has(i)) continue;
          if (floatsOnly && !isFloatType(facts.dtypes.get(i))) continue;
          if (diff.has(i) && isFloatType(facts.dtypes.get(i)) && holdsRows(facts, i, prepared.batchDynamic) && accept(i)) return `; ${role === 'layer' ? 'attribute to' : 'explain'} '${i}' ${rowsText(facts.shapes.get(i)!)}, which it is computed from (${role === 'layer' ? '--layer' : '--output'})`;
          queue.push(i);
        }
      }
    }
    return '';
  }

  /** Checks a layer to attribute to: an explainable tensor that the explained tensor `from` depends on. */
  checkLayer(prepared: Prepared, layer: string, from: string): void {
    const shape = this.checkTensor(prepared, layer, 'layer');
    if (!differentiable(prepared.view, prepared.facts, [layer]).has(from)) throw new ExplainError(`${this.label}: the explained tensor '${from}' does not depend on layer '${layer}' ${rowsText(shape)}`);
  }

  /**
   * Whether the explained tensor also depends on the explained input through paths that avoid
   * `layer` (a residual's skip, LayerNorm's own input): then attributions at the layer need not sum
   * to f(x) − f(x⁰), for DeepLIFT as for Captum's layer methods.
   */
  async layerBypassed(rowDims: number[], options: AttributeRequest & { layer: string }): Promise<boolean> {
    const { from } = this.resolveOutput(options.output, options.explainSoftmax, options.method);
    const prepared = await this.prepare(rowDims, options.onehotAxis, options.feeds);
    // Any path of values counts, steps included (a mask computed from the input around the layer);
    // the explained input itself is on every path.
    if (this.explained.some((i) => i.name === options.layer)) return false;
    return valueDescendants(prepared.view, this.explained.map((i) => i.name), new Set([options.layer])).has(from);
  }

  /** Where the explained tensor reads the explained input through steps on a gradient path (stepsOnPath): the operands read, and what reads the first. */
  async inputSteps(rowDims: number[], options: AttributeRequest = {}): Promise<{ reads: string[]; said: string } | undefined> {
    const { from } = this.resolveOutput(options.output, options.explainSoftmax, options.method);
    const prepared = await this.prepare(rowDims, options.onehotAxis, options.feeds);
    const found = this.stepsFound.get(prepared) ?? new Map<string, ReturnType<typeof stepsOnPath>>();
    this.stepsFound.set(prepared, found);
    if (!found.has(from)) found.set(from, stepsOnPath({ view: prepared.view, facts: prepared.facts, wrt: this.explained.map((i) => i.name), from }));
    return found.get(from);
  }

  /** Grad-CAM's layer where none is given (defaultCamLayer) for the tensor `options` explain, at one input row shape. */
  async camLayer(rowDims: number[], options: Pick<AttributeRequest, 'output' | 'explainSoftmax' | 'method' | 'onehotAxis' | 'feeds'> = {}): Promise<string | undefined> {
    // A `layer` (or any other attribute option) changes nothing here: the default is what it names.
    checkKnown('camLayer', options, { output: true, explainSoftmax: true, method: true, onehotAxis: true, feeds: true });
    const { from } = this.resolveOutput(options.output, options.explainSoftmax, options.method);
    const prepared = await this.prepare(rowDims, options.onehotAxis, options.feeds);
    return defaultCamLayer(prepared.view, prepared.facts, prepared.batchDynamic, from, this.input.name)?.layer;
  }

  /** The target space of the explained tensor (its non-batch axes, less the reduced ones). */
  targetSpace(prepared: Prepared, { output, from, squash, classes }: ExplainedTensor, options: TargetOptions): TargetSpace {
    const shape = this.checkTensor(prepared, from, squash ? `explained tensor (input of the ${squash} of '${output}')` : 'explained tensor');
    // Targets index the chosen tensor's layout (a Softmax's probabilities flattened after it: [N, C] of logits [N, C, 1, 1]),
    // which holds the same rows (a reshape to [−1, C] that splits them is refused as the tensor itself would be).
    const row = output === from ? shape.slice(1) : this.checkTensor(prepared, output, 'explained tensor').slice(1);
    return new TargetSpace(output, row, this.label, options, this.predictsMin(from), classes && { dims: shape.slice(1), axes: classes(shape.length).filter((a) => a > 0).map((a) => a - 1) });
  }

  /** Whether the model's own prediction is this tensor's smallest value: an ArgMin reads it, or the tensor it copies (a k-means' distances). */
  private predictsMin(tensor: string): boolean {
    for (let t: string | undefined = tensor; t;) {
      if ((this.view.consumers.get(t) ?? []).some((n) => !n.domain && n.op_type === 'ArgMin' && attrInt(n, 'axis', 0) !== 0)) return true;
      const p = this.view.producer.get(t);
      t = p && !p.domain && p.op_type === 'Identity' ? p.input![0] : undefined;
    }
    return false;
  }

  /** The target space of `options.output` for one input row shape (labels and values of targets). */
  async targetSpaceFor(rowDims: number[], options: AttributeRequest): Promise<TargetSpace> {
    return this.targetSpace(await this.prepare(rowDims, options.onehotAxis, options.feeds), this.resolveOutput(options.output, options.explainSoftmax, options.method), options);
  }

  /**
   * The float tensors computed from the explained inputs, in graph order (candidates for `output` and
   * `layer`), with their shapes at batch 1 for `rowDims` (default: the input's, when static) and the fed inputs.
   */
  async explainableTensors(rowDims = this.input.dims.slice(1), feeds?: Record<string, TensorInput>): Promise<{ name: string; op: string; shape?: number[] }[]> {
    const given = denseFeeds(feeds, this.label);
    const prepared = rowDims.every((d) => d > 0) ? await this.prepare(rowDims, undefined, given).catch(() => undefined) : undefined;
    const wrt = this.explained.map((i) => i.name);
    // What the walk differentiates (quantized integer values included); without shapes, a guess by op type.
    const diff = prepared && differentiable(prepared.view, prepared.facts, wrt);
    const reached = new Set(wrt);
    // A shape that follows from the explained input's values holds for the probe's values only (the walk refuses them).
    const shaped = valueShaped(this.view, wrt);
    const { random } = drawnValues(this.view);
    const list: { name: string; op: string; shape?: number[] }[] = [];
    // The prepared graph's walk (Loops written out: what follows them is reached), listing the model's own tensors by their op there.
    const own = new Map(this.view.nodes.flatMap((n) => (n.output ?? []).map((o): [string, string] => [o, n.op_type ?? ''])));
    for (const n of (prepared?.view ?? this.view).nodes) {
      if (!(n.input ?? []).some((i) => reached.has(i))) continue;
      for (const o of n.output ?? []) {
        if (!o || (diff ? !diff.has(o) : STRUCTURAL_OPS.has(n.op_type ?? ''))) continue;
        reached.add(o);
        // Dropout's mask (float before opset 12) holds no value of the input: its gradient is 0.
        if (n.op_type === 'Dropout' && o !== n.output![0]) continue;
        if (shaped.has(o) || random.has(o)) continue;
        if (prepared && !isFloatType(prepared.facts.dtypes.get(o))) continue;
        // The batch views' own steps are not listed; the copies they name are (an output, a final Softmax's logits).
        if (isViewNode(n) && n.op_type !== 'Identity') continue;
        if (!own.has(o)) continue;
        if (!prepared || holdsRows(prepared.facts, o, prepared.batchDynamic)) list.push({ name: o, op: own.get(o)!, shape: prepared?.facts.shapes.get(o) });
      }
    }
    return list;
  }

  /** The rule table of a backprop method (what one augmented graph computes). */
  method(name: string | undefined): Method {
    const m = methods[name ?? 'gradient'];
    if (!m) throw new ExplainError(`unknown method '${name}' (methods one augmented graph computes: ${Object.keys(methods).join(', ')})`);
    return m;
  }

  /**
   * The augmented model for one input row shape (what `onnx-explain rewrite` saves): a backward
   * walk, or a class activation map; `build` may name the method table itself and a path
   * (integrated gradients), or build the reference in (`zeroBaseline`, `baselineRows`) or declare it one row
   * (`sharedBaseline`).
   */
  async augmented(rowDims: number[], options: AttributeOptions = {}, build: GraphBuild = {}): Promise<{ model: ModelProto; prepared: Prepared; from: string; camNote?: string }> {
    checkKnown('augmented', options, REQUEST_KEYS);
    checkRuleOptions(options);
    // As `attribute` and `rewrite --shape` check it: a token model's rows are its embedding's ([L, width]), not the ids'.
    if (!this.joint) this.checkShape([1, ...rowDims]);
    let camNote: string | undefined;
    const map = build.method ? undefined : mapMethods[options.method ?? ''] as ((spec: MapSpec) => ModelProto) | undefined;
    const method = map ? undefined : build.method ?? this.method(options.method);
    const explained = this.resolveOutput(options.output, options.explainSoftmax, options.method);
    const { output, from } = explained;
    const prepared = await this.prepare(rowDims, options.onehotAxis, options.feeds);
    this.targetSpace(prepared, explained, options);
    if (map && GRAD_CAMS.has(options.method!) && options.layer === undefined && !this.joint) {
      const chosen = defaultCamLayer(prepared.view, prepared.facts, prepared.batchDynamic, from, this.input.name);
      camNote = chosen && `${options.method}: layer '${chosen.layer}', ${chosen.source} (--layer picks another)`;
      if (camNote) this.warnOnce(camNote);
      options = { ...options, layer: chosen?.layer };
    }
    if (options.layer !== undefined) this.checkLayer(prepared, options.layer, from);
    if (options.lrpRules) checkLrpRules(prepared.view, options.lrpRules);
    if (this.joint && (map || options.layer !== undefined)) this.refuseJoint(map ? `method '${options.method}'` : '--layer');
    const expose = [...new Set([output, from])].filter((name) => !this.outputNames.includes(name));
    const spec = { view: prepared.view, facts: prepared.facts, batchDynamic: prepared.batchDynamic, input: this.input.name, inputs: this.joint ? this.explained.map((i) => i.name) : undefined, from, expose, options, io: this.io };
    if (map) return { model: map(spec), prepared, from, camNote };
    const model = buildAugmented({ ...spec, method: method!, layer: options.layer, path: build.path, zeroBaseline: build.zeroBaseline, baselineRows: build.baselineRows, sharedBaseline: build.sharedBaseline, stepsKept: build.stepsKept });
    return { model, prepared, from };
  }

  /** The one graph that computes a method (what `onnx-explain rewrite` saves), for one input row shape. */
  async graph(rowDims: number[], options: AttributeOptions = {}): Promise<ModelProto> {
    this.checkGraphOptions('graph', options);
    const driver = driverFor(options);
    if (!driver.graph) throw new ExplainError(`method '${options.method}' runs several graphs (or none); rewrite cannot save it as one`);
    return this.forFeeds(rowDims, options.feeds, () => driver.graph!(this, rowDims, options));
  }

  /** Fails on what `attribute` refuses in `options` (rewrite and export-triton save graphs without running them). */
  checkGraphOptions(what: string, options: AttributeOptions): void {
    checkRuleOptions(options);
    checkRequest(options, what);
    this.checkExplainSoftmax(options);
  }

  /** `call` with `feeds` (one row; defaults for the others) as the values of the inputs that set shapes (shapeSetters). */
  forFeeds<T>(rowDims: number[], feeds: Record<string, DenseInput> | undefined, call: () => Promise<T>): Promise<T> {
    if (!this.shapeSetters().length) return call();
    // Sizes checked against the graph before a row of them is made.
    this.validate([1, ...rowDims]);
    return this.withShapeFeeds(this.zeros([1, ...rowDims]), feeds, call);
  }

  /** One session per key (graph and shape; and the shape setters' values where a graph depends on them), built on first use. */
  session(name: string, build: () => Promise<ModelProto>, probed = true): Promise<PooledSession> {
    const key = probed ? this.withShapeKey(name) : name;
    let s = this.sessions.get(key);
    if (!s) {
      s = build().then((m) => this.createSession(sessionModel(m), undefined, parallelFor(m)));
      this.sessions.set(key, s);
      s.catch(() => this.sessions.delete(key));
    }
    return s;
  }

  private createSession(model: SessionModel, level?: GraphLevel, parallel?: boolean): Promise<PooledSession> {
    return this.pool.open(() => this.ortSession(model, level, parallel));
  }

  private ortSession(model: SessionModel, level?: GraphLevel, parallel?: boolean) {
    return createSession(model, this.provider, (w) => this.warnOnce(w), { options: this.sessionOptions, threads: this.threads, level, parallel });
  }

  /**
   * The session of the augmented graph for one input row shape and set of options, and what
   * running it needs; taken from the graph cache when it holds it (no probe, no rewrite), else
   * built and stored there. `key` names everything the graph depends on besides the model.
   */
  graphSession(rowDims: number[], options: AttributeOptions, name: string, build: Pick<GraphBuild, 'zeroBaseline' | 'baselineRows' | 'sharedBaseline' | 'stepsKept'> = {}): Promise<{ session: PooledSession; info: GraphInfo }> {
    const key = this.withShapeKey(name);
    let g = this.graphs.get(key);
    if (!g) {
      g = (async () => {
        const level = this.sessionOptions.graphOptimizationLevel ?? 'all';
        const cacheKey = this.cache && `${this.cache.modelId}/${this.explained.map((i) => i.name).join(',')}${this.joint ? '/joint' : ''}/${this.provider}/${level}/${graphOptionsKey(this.sessionOptions)}/${key}`;
        // The session of a stored entry; undefined where there is none or it cannot be opened (damaged,
        // or removed meanwhile by another process's trim): the graph is then built, or the one in memory serves.
        const fromCache = async (): Promise<{ session: PooledSession; info: GraphInfo } | undefined> => {
          const stored: CachedGraph | undefined = cacheKey ? await this.cache!.store.get(cacheKey) : undefined;
          if (!stored) return undefined;
          // The pool opens the session again after releasing it: where the entry has gone by then (trimmed by
          // this or another process, a cleaner), the graph is built again, and kept, as without a cache.
          let [model, level, parallel] = [inlineModel(stored.model), stored.info.level, stored.info.parallel];
          let opened = false;
          const open = () => this.ortSession(model, level, parallel);
          const reopen = () => open().then((s) => ((opened = true), s), async (e) => {
            if (!opened) throw e;
            const built = (await this.augmented(rowDims, options, build)).model;
            [model, level, parallel] = [sessionModel(built), levelFor(built), parallelFor(built)];
            return open();
          });
          try {
            return { session: await this.pool.open(reopen), info: stored.info };
          } catch {
            return undefined;
          }
        };
        const cached = await fromCache();
        if (cached?.info.camNote) this.warnOnce(cached.info.camNote);
        if (cached) return cached;
        const { model, prepared, from, camNote } = await this.augmented(rowDims, options, build);
        const opening = openingNote(model, options.method ?? 'gradient');
        if (opening) this.warnOnce(opening);
        const { facts, batchDynamic } = prepared;
        const info: GraphInfo = { fromDims: facts.shapes.get(from)!, batchDynamic, batchBroadcasts: facts.batchBroadcasts, level: levelFor(model), parallel: parallelFor(model), camNote };
        // onnxruntime's optimised graph is kept for the CPU only (other providers partition it their
        // way), where the binding can write it (onnxruntime-node, not onnxruntime-web), and from IR 4
        // (below, onnxruntime lists the constants it folds as graph inputs, then wants them fed).
        // Nor where it could pass protobuf's 2 GB: onnxruntime folds what follows from constants
        // alone (a reference pass from a built-in zero baseline) into weights of the activations' size
        // (a 720×1280 segmentation model's DeepLIFT graph: 5.5 GB, which protobuf refused, on stderr).
        const small = rowBytes(prepared) + weightBytes(this.view.graph) < MAX_OPTIMIZED_BYTES;
        const optimized = cacheKey && this.provider === 'cpu' && backend().optimizedModels && toNumber(model.ir_version ?? 0) >= 4 && small ? this.cache!.store.optimizedPath?.(cacheKey) : undefined;
        if (optimized) {
          // This session only writes onnxruntime's optimised graph; the runs, this call's included,
          // read that graph from the cache, so that a result does not depend on whether the cache
          // held it (the two sessions round differently on extreme inputs).
          const written = await createSession(sessionModel(model), this.provider, (w) => this.warnOnce(w), { options: { ...this.sessionOptions, optimizedModelFilePath: optimized }, level: info.level, parallel: info.parallel })
            .then((writer) => writer.release().then(() => true), () => false);
          // A writer that failed (a full disk, a folder whose access check passes only for root) leaves
          // the graph uncached, and no partial file; the session below reports the model's own errors.
          if (!written) this.cache!.store.discardOptimized?.(optimized);
          if (written) {
            // Read as written: optimising the optimised graph again changes nothing but the time to open it.
            await this.cache!.store.put(cacheKey!, { model: optimized, info: { ...info, level: 'disabled' } });
            const stored = await fromCache();
            if (stored) return stored;
          }
        }
        const session = await this.createSession(sessionModel(model), info.level, info.parallel);
        if (cacheKey && !optimized) await this.cache!.store.put(cacheKey, { model: encodeModel(model), info });
        return { session, info };
      })();
      this.graphs.set(key, g);
      g.catch(() => this.graphs.delete(key));
    }
    return g;
  }

  /** Forgets the graph graphSession(…, name) built and releases its session (at once, or when its runs end). */
  async dropGraph(name: string): Promise<void> {
    const key = this.withShapeKey(name);
    const g = this.graphs.get(key);
    this.graphs.delete(key);
    await (await g?.catch(() => undefined))?.session.release();
  }

  /** A graph's key with the digest of the shape setters' values it was built for (none without shape setters). */
  private withShapeKey(key: string): string {
    return this.shapeSetters().length && this.shapeFeeds ? `${key}/shapes:${this.shapeFeeds.key}` : key;
  }

  /**
   * Releases every onnxruntime session this Explainer holds (forward, augmented graphs,
   * optimisation loops); each keeps its own copy of the weights in onnxruntime's memory (in a page,
   * the WASM heap or the GPU). The Explainer stays usable: sessions are created again when needed.
   */
  async release(): Promise<void> {
    await Promise.all([this.pool.releaseAll(), releaseLoopSessions(this)]);
  }

  /** Runs the original model (its other inputs from `feeds`, or all inputs by name as attribute takes them; token ids or their embeddings for text models). */
  async forward(inputs: TensorInput | Record<string, TensorInput>, fed: Record<string, TensorInput> = {}): Promise<Record<string, TensorData>> {
    const { given, options } = this.byName(inputs, { feeds: fed });
    let feeds = options.feeds;
    let input = fromNdarray(given);
    if (this.tokens && isTokenIds(this.tokens, input)) ({ x: input, feeds } = lookUp(this.tokens, input, feeds, this.label));
    ({ feeds } = this.lookUpJoint(feeds));
    const x = this.toTensor(input);
    this.validate([1, ...x.dims.slice(1)]);
    const fixed = this.input.dims[0];
    // A model that fixes a batch other than 1 runs other batches in its batch-freed form (prepare).
    if (fixed > 1 && x.dims[0] !== fixed) return (await tensorsAt(this, x.dims.slice(1), this.outputNames, undefined, feeds))(x);
    const s = await this.session('forward', async () => this.view.model, false);
    const all = this.feedsFor(x, feeds);
    // Dynamic quantization takes its statistics per row (as when each row runs alone): so do the rows here.
    const rowWise = fixed === 1 || this.view.nodes.some((n) => readPerRow(this.view, n));
    const runs = rowWise && x.dims[0] > 1 ? splitFeeds(all, x.dims[0]) : [all];
    const results = [];
    for (const f of runs) results.push(await s.run(f, this.outputNames));
    return concatRows(results, this.outputNames);
  }

  /** The model's other inputs for the rows of x: given, or defaults with a note (see runtime/inputs.ts). */
  sideFeeds(x: OrtTensor, given: Record<string, TensorInput> = {}): Record<string, OrtTensor> {
    return sideFeeds(this.inputs, this.input, x, given, this.label, (m) => this.warnOnce(m));
  }

  /** Feeds of every model input for the rows of x. */
  feedsFor(x: OrtTensor, given: Record<string, TensorInput> = {}): Record<string, OrtTensor> {
    return { [this.input.name]: x, ...this.sideFeeds(x, given) };
  }

  /**
   * Attributions for the rows of `given`: the explained input's tensor, or a record of input
   * tensors by name (Captum's tuple: the explained inputs, and others instead of `feeds`).
   */
  async attribute(given: TensorInput | Record<string, TensorInput>, request: AttributeRequest = {}): Promise<AttributionResult> {
    checkRequest(request);
    checkRuleOptions(request);
    checkInternalBatchSize(request.internalBatchSize);
    if (request.baselineToken !== undefined && !this.tokens) throw new ExplainError(`baselineToken (--baseline-token) applies to token ids; '${this.input.name}' is explained as floats (give a baseline)`);
    let options: AttributeOptions;
    const { baseline, baselines, ...rest } = request;
    ({ given, options } = this.byName(given, { ...rest, baseline: typeof baseline === 'number' ? undefined : baseline }));
    const input = fromNdarray(given);
    if (typeof baseline === 'number') options.baseline = this.constantRow(baseline, input.dims.slice(1));
    options.baselines = this.namedBaselines(input, options.feeds, baseline, baselines);
    const driver = driverFor(options);
    this.checkExplainSoftmax(options);
    if (this.joint && (!driver.joint || options.layer !== undefined)) this.refuseJoint(driver.joint ? '--layer' : `method '${options.method}'`);
    if (options.baselines) {
      this.checkBaselines(options);
      // The first input's baseline by name is its baseline.
      const { [this.nameOf(this.input)]: first, ...others } = options.baselines;
      if (first) options = { ...options, baseline: first, baselines: others };
    }
    // Token ids have the ids' rank; an embedding baseline has the embedding's (its values may be whole numbers).
    const baselineIds = options.baseline && fromNdarray(options.baseline);
    const idsBaseline = this.tokens && baselineIds && isTokenIds(this.tokens, baselineIds) && baselineIds.dims.length === input.dims?.length ? baselineIds : undefined;
    if (idsBaseline && options.baselineToken !== undefined) throw new ExplainError(`${this.label}: the baseline is given twice, as token ids and as --baseline-token ${options.baselineToken}`);
    const looked = this.tokens ? lookUp(this.tokens, input, options.feeds, this.label, idsBaseline ?? options.baselineToken) : undefined;
    const firstRun = looked ? { ...options, feeds: looked.feeds, baseline: looked.baseline ?? options.baseline } : options;
    const run = { ...firstRun, ...this.lookUpJoint(firstRun.feeds, firstRun.baselines) };
    const x = this.toTensor(looked?.x ?? input);
    const result = this.byInputName(await this.withShapeFeeds(x, run.feeds, () => driver.attribute(this, x, run)));
    // Outputs may hold −Inf where the model masks (logits of classes it rules out); NaN and +Inf never.
    const bad = [['the attributions hold', result.attributions.data], ...Object.entries(result.inputAttributions ?? {}).map(([k, t]) => [`the attributions to '${k}' hold`, t.data]), ['delta holds', result.delta ?? []]] as [string, ArrayLike<number>][];
    const broken = Object.entries(result.outputs).find(([, t]) => Array.prototype.some.call(t.data, brokenOutput));
    const found = bad.find(([, data]) => firstNonFinite(data) >= 0) ?? (broken && [`output '${broken[0]}' holds`]);
    if (found) throw new ExplainError(`${this.label}: ${found[0]} non-finite values: ${await locateNonFiniteIn(this, x, driver.parts?.(this, x, run) ?? [{ options: run }], result.targets, driver.perturbs)}`);
    // Per-token scores where the attributions are shaped like the embeddings (the input, or a layer such as their LayerNorm).
    const perToken = this.tokens && result.attributions.dims.join() === x.dims.join();
    const scores = perToken ? { tokenScores: tokenScores(result.attributions, this.tokens!.width) } : {};
    return { ...result, ...scores, ...(this.warnings.length ? { warnings: [...this.warnings] } : {}) };
  }

  /**
   * Joint attribution's baselines by input name, numbers made rows of that value at the input's row
   * shape (an input left unfed is refused later); a bare number `baseline` is every explained float
   * input's that `baselines` does not name.
   */
  private namedBaselines(input: DenseInput, feeds: Record<string, DenseInput> = {}, baseline?: TensorInput | number, baselines?: Record<string, TensorInput | number>): Record<string, TensorInput> | undefined {
    const floats = this.explained.slice(1).filter((i) => !this.tokenInputs.has(i.name));
    const constants = this.joint && typeof baseline === 'number' ? Object.fromEntries(floats.map((i) => [this.nameOf(i), baseline])) : {};
    const named = Object.entries({ ...constants, ...baselines });
    const rowOf = (name: string, b: TensorInput | number) => {
      if (typeof b !== 'number') return b;
      if (name === this.nameOf(this.input)) return this.constantRow(b, input.dims.slice(1));
      if (this.explained.some((i) => this.nameOf(i) === name && this.tokenInputs.has(i.name))) throw new ExplainError(`${this.label}: baseline ${b} of '${name}': the baseline of token ids is token ids or an embedding`);
      return this.constantRow(b, Object.hasOwn(feeds, name) ? feeds[name].dims.slice(1) : []);
    };
    return named.length ? Object.fromEntries(named.map(([name, b]) => [name, rowOf(name, b)])) : undefined;
  }

  /** A number as a baseline: one row of that value (Captum's scalar `baselines`); a text model's baseline is token ids or a token. */
  private constantRow(value: number, rowDims: number[]): DenseInput {
    if (this.tokens) throw new ExplainError(`${this.label}: baseline ${value}: a text model's baseline is token ids or baselineToken (--baseline-token ID)`);
    if (!Number.isFinite(Math.fround(value))) throw new ExplainError(`${this.label}: baseline ${value} ${Number.isFinite(value) ? 'overflows float32 (the model runs in float32)' : 'is not a finite number'}`);
    return { data: new Float32Array(rowDims.reduce((a, d) => a * d, 1)).fill(value), dims: [1, ...rowDims] };
  }

  /** `given` as a record of input tensors: the explained input's is the input, the others join the feeds. */
  private byName(given: TensorInput | Record<string, TensorInput>, request: Omit<AttributeOptions, 'feeds'> & { feeds?: Record<string, TensorInput> }): { given: TensorInput; options: AttributeOptions } {
    const options = { ...request, feeds: denseFeeds(request.feeds, this.label) };
    const g = given as { dims?: unknown; shape?: unknown };
    if (!g || typeof g !== 'object' || g.dims !== undefined || g.shape !== undefined || ArrayBuffer.isView(g) || Array.isArray(g)) return { given: given as TensorInput, options };
    // Token ids by their input's name (the explained input is their embedding).
    const key = this.nameOf(this.input) in given ? this.nameOf(this.input) : this.input.name;
    const { [key]: x, ...others } = given as Record<string, TensorInput>;
    if (!x) throw new ExplainError(`${this.label}: the inputs given by name (${Object.keys(given).join(', ')}) lack the explained input '${this.nameOf(this.input)}'`);
    const twice = Object.keys(others).find((k) => options.feeds[k]);
    if (twice) throw new ExplainError(`${this.label}: input '${twice}' is given both by name and in feeds`);
    return { given: x, options: { ...options, feeds: { ...options.feeds, ...denseFeeds(others, this.label) } } };
  }

  /**
   * Fails for what attributes to one tensor only, under joint attribution. With --wrt NAME the other
   * inputs keep their values, also in a reference pass and along a path (Captum's tuple of inputs
   * moves them all): the same for a layer's gradient, not for its DeepLIFT, IG or conductance.
   */
  refuseJoint(what: string): never {
    const others = what === '--layer' ? ' (the others keep their values, in the reference and on the path too, where Captum moves every input of a tuple to its baseline)' : '';
    throw new ExplainError(`${this.label}: ${what} attributes to one tensor; explain one input with --wrt NAME${others} (joint attribution covers ${this.explainedNames.map((n) => `'${n}'`).join(', ')})`);
  }

  /** The name results give an explained input: its token ids' input name where it is their embedding. */
  nameOf(input: ModelInput): string {
    return this.tokenInputs.get(input.name)?.ids.name ?? input.name;
  }

  /** The explained inputs by the names results give them (nameOf). */
  get explainedNames(): string[] {
    return this.explained.map((i) => this.nameOf(i));
  }

  /**
   * Joint attribution to token ids after the first explained input: their ids, given among the
   * feeds by input name (and their baselines, token ids or embeddings, by the same name), become
   * the embeddings explained for them; the ids are also fed as they are.
   */
  private lookUpJoint(feeds: Record<string, DenseInput> = {}, baselines?: Record<string, TensorInput>): { feeds: Record<string, DenseInput>; baselines?: Record<string, TensorInput> } {
    const unfed = this.explained.slice(1).find((i) => !feeds[this.nameOf(i)]);
    if (unfed) {
      const name = this.nameOf(unfed);
      throw new ExplainError(`${this.label}: ${this.tokenInputs.has(unfed.name) ? `token ids '${name}' are` : `input '${name}' is`} explained jointly: give ${this.tokenInputs.has(unfed.name) ? 'them' : 'it'} with --feed ${name}=FILE (API: attribute({ ${this.nameOf(this.input)}: …, ${name}: … }))`);
    }
    const later = this.explained.slice(1).filter((i) => this.tokenInputs.has(i.name));
    if (!later.length) return { feeds, baselines };
    const out = { ...feeds };
    const refs = { ...baselines };
    for (const input of later) {
      const tokens = this.tokenInputs.get(input.name)!;
      const name = tokens.ids.name;
      const ids = out[name];
      delete out[name];
      const given = refs[name] && fromNdarray(refs[name]);
      delete refs[name];
      const asIds = given && isTokenIds(tokens, given) && given.dims.length === ids.dims.length ? given : undefined;
      const looked = lookUp(tokens, ids, out, this.label, asIds);
      Object.assign(out, looked.feeds, { [input.name]: looked.x });
      if (looked.baseline ?? given) refs[input.name] = (looked.baseline ?? given)!;
    }
    return { feeds: out, baselines: baselines && refs };
  }

  /** A result's attributions by the names of the inputs given (token ids, not their embeddings), with per-token scores for each. */
  private byInputName(result: AttributionResult): AttributionResult {
    if (!result.inputAttributions || !this.tokenInputs.size) return result;
    const entries = Object.entries(result.inputAttributions);
    const inputTokenScores = Object.fromEntries(entries.filter(([k]) => this.tokenInputs.has(k)).map(([k, t]) => [this.tokenInputs.get(k)!.ids.name, tokenScores(t, this.tokenInputs.get(k)!.width)]));
    const inputAttributions = Object.fromEntries(entries.map(([k, t]) => [this.tokenInputs.get(k)?.ids.name ?? k, t]));
    return { ...result, inputAttributions, inputTokenScores };
  }

  private checkBaselines(options: AttributeOptions): void {
    const first = this.nameOf(this.input);
    if (!this.joint) throw new ExplainError(`${this.label}: baselines by input name are for joint attribution (--wrt all or a list); give the baseline of '${first}' with --baseline B.npy`);
    for (const name of Object.keys(options.baselines!)) {
      if (!this.explainedNames.includes(name)) throw new ExplainError(`${this.label}: --baseline ${name}=FILE: '${name}' is not an explained input (${this.explainedNames.join(', ')})`);
    }
    if (options.baseline && options.baselines![first]) throw new ExplainError(`${this.label}: the baseline of '${first}' is given twice (as the baseline and by name)`);
    if (options.baselineToken !== undefined && this.tokens && options.baselines![first]) throw new ExplainError(`${this.label}: the baseline of '${first}' is given twice (by name and as --baseline-token ${options.baselineToken})`);
  }

  /** The names of the attribution outputs: `attribution`, or `attribution:<name>` per input for joint attribution. */
  get attributionNames(): string[] {
    return this.joint ? this.explained.map((i) => perInput(this.io.attribution, i.name)) : [this.io.attribution];
  }

  /**
   * The reference inputs of a reference graph: `baseline` for the explained input, or
   * `baseline:<name>` per explained input (joint attribution), each from baselineFor with the rows
   * of that input in `values`.
   */
  referenceFeeds(options: AttributeOptions, values: Record<string, OrtTensor>, shareable: boolean): Record<string, OrtTensor> {
    if (!this.joint) return { [this.io.baseline]: this.baselineFor(options.baseline, values[this.input.name], shareable) };
    const feeds = (share: boolean) => this.explained.map((i): [string, OrtTensor] => {
      const given = options.baselines?.[i.name] ?? (i === this.input ? options.baseline : undefined);
      return [perInput(this.io.baseline, i.name), this.baselineFor(given, values[i.name], share, i.name)];
    });
    const shared = feeds(shareable);
    // The reference pass has one batch: where one input's baseline has a row per input row, every input's has.
    return Object.fromEntries(new Set(shared.map(([, t]) => t.dims[0])).size > 1 ? feeds(false) : shared);
  }

  /** A run's outputs split into the attributions (per explained input when joint), delta and the model's outputs. */
  splitOutputs(all: Record<string, TensorData>): Pick<AttributionResult, 'attributions' | 'inputAttributions' | 'outputs' | 'delta'> {
    const { [this.io.delta]: delta, ...rest } = all;
    const names = this.attributionNames;
    const outputs = Object.fromEntries(Object.entries(rest).filter(([k]) => !names.includes(k)));
    const inputAttributions = this.joint ? Object.fromEntries(this.explained.map((i, k) => [i.name, all[names[k]]])) : undefined;
    return { attributions: all[names[0]], inputAttributions, outputs, delta: delta?.data };
  }

  toTensor(input: TensorInput): OrtTensor {
    const given = fromNdarray(input);
    const x = inputTensor(this.input, given, this.label);
    this.checkShape([...x.dims]);
    if (x.type === 'float32') requireFinite(x.data as Float32Array, `${this.label}: input '${this.input.name}'`, given.data as ArrayLike<unknown>);
    return x;
  }

  /**
   * The reference input: one row shared by all rows (the reference pass then runs once) where the
   * model's activations broadcast over the batch, else one row per input row.
   */
  baselineFor(baseline: TensorInput | undefined, x: OrtTensor, shareable: boolean, name?: string): OrtTensor {
    baseline = baseline && fromNdarray(baseline);
    const what = name === undefined ? 'baseline' : `baseline of '${name}'`;
    const rowDims = x.dims.slice(1);
    const row = x.size / x.dims[0];
    if (baseline) checkFloatBaseline(`${this.label}: ${what}`, baseline, name === undefined);
    const b = baseline ? Float32Array.from(baseline.data as ArrayLike<number>) : new Float32Array(row);
    if (baseline) {
      const dims = [...baseline.dims];
      const same = (a: readonly number[], c: readonly number[]) => a.length === c.length && a.every((d, k) => d === c[k]);
      if (!same(dims, x.dims) && !same(dims, [1, ...rowDims]) && !same(dims, rowDims)) throw new ExplainError(`${this.label}: ${what} has shape [${dims}]; expected one row [${[1, ...rowDims]}] or the input's shape [${x.dims}]`);
      if (b.length !== dims.reduce((a, d) => a * d, 1)) throw new ExplainError(`${this.label}: ${what} has ${b.length} values but shape [${dims}]`);
      requireFinite(b, `${this.label}: ${what}`, baseline.data as ArrayLike<unknown>);
      if (same(dims, x.dims)) return floatTensor(b, x.dims);
    }
    if (shareable) return floatTensor(b, [1, ...rowDims]);
    const rows = new Float32Array(x.size);
    for (let r = 0; r < x.dims[0]; r++) rows.set(b, r * row);
    return floatTensor(rows, x.dims);
  }
}

/** Every option attribute takes (the compiler checks the list against AttributeRequest). */
const REQUEST_KEYS: Record<keyof AttributeRequest, true> = {
  method: true, target: true, contrast: true, reduce: true, reduceAxes: true, reduceWeights: true, softmaxNormalize: true, output: true, layer: true, neuron: true,
  explainSoftmax: true, baseline: true, baselines: true, onehotAxis: true, progress: true, steps: true, igMethod: true, noiseTunnel: true,
  noiseStd: true, stdevs: true, samples: true, feeds: true, baselineToken: true, epsilon: true, maxpoolRule: true, lrpMaxpool: true, alpha: true, beta: true, stabilizer: true, gamma: true, boxLow: true, boxHigh: true, lrpRules: true, multiplyByInputs: true, drawBaselineFromDistrib: true,
  window: true, stride: true, fill: true, seed: true, featureMask: true, internalBatchSize: true, relu: true, upsample: true, interpolate: true, tokenGrid: true,
};

/** Every option Explainer.load takes. */
export const LOAD_KEYS: Record<keyof ExplainerOptions, true> = {
  provider: true, baseDir: true, warn: true, sessionOptions: true, cache: true, maxSessions: true, wrt: true, fed: true, unbatched: true,
};

/** Options the method does not read are refused (method-options.ts), as Captum refuses a keyword its attribute() does not take. */
function checkMethodOptions(what: string, options: AttributeRequest): void {
  const { method = 'gradient', noiseTunnel } = options;
  for (const [key, value] of Object.entries(options)) {
    const why = value === undefined ? undefined : misappliedOption(key, method, noiseTunnel !== undefined, (o) => `option '${o}'`, options.fill);
    if (why) throw new ExplainError(`${what}: ${why}`);
  }
}

function checkRequest(request: unknown, what = 'attribute'): void {
  checkKnown(what, request, REQUEST_KEYS);
  const { progress, seed, interpolate, baselineToken, upsample, method } = request as AttributeRequest;
  checkMethodOptions(what, request as AttributeRequest);
  if (baselineToken !== undefined && !Number.isSafeInteger(baselineToken)) throw new ExplainError(`${what}: baselineToken ${typeof baselineToken === 'string' ? JSON.stringify(baselineToken) : baselineToken} is not a token id (an integer)`);
  if (interpolate !== undefined && interpolate !== 'bilinear' && interpolate !== 'nearest') throw new ExplainError(`${what}: interpolate '${interpolate}' is not bilinear or nearest`);
  // Guided Grad-CAM always resizes its map to the input.
  if (interpolate !== undefined && !upsample && method !== 'guided-grad-cam') throw new ExplainError(`${what}: interpolate (--interpolate) sets how upsample (--upsample, or a .png figure) resizes the map; without it the map is kept at its size`);
  checkSeed(what, seed);
  const { baselines } = request as AttributeRequest;
  // Captum's scalar or tuple `baselines` is `baseline` here; spread, a number named no input at all.
  if (baselines != null && (typeof baselines !== 'object' || Array.isArray(baselines) || ArrayBuffer.isView(baselines) || 'dims' in baselines || 'shape' in baselines)) {
    throw new ExplainError(`${what}: baselines must be an object of baselines by input name ({ name: tensor or number }); one tensor or number for the explained inputs is baseline, got ${typeof baselines === 'string' ? JSON.stringify(baselines) : Array.isArray(baselines) ? 'an array' : typeof baselines === 'object' ? 'a tensor' : typeof baselines}`);
  }
  if (progress !== undefined && typeof progress !== 'function') throw new ExplainError(`${what}: progress must be a function (done, total) => void, got ${typeof progress}`);
}

/** A model as the API takes it: a path (where the platform has files), its bytes, a Blob (a File) or a fetch Response. */
export type ModelInputSource = string | Uint8Array | ArrayBuffer | ArrayBufferView | Blob | Response;

/** A model given as the API takes it, as a path or a Uint8Array. */
export async function modelBytes(given: ModelInputSource): Promise<string | Uint8Array> {
  return modelSource(await fetchedBytes(given));
}

/** A Blob (a File from an <input>) or a fetch Response as its bytes; anything else as it is. */
async function fetchedBytes<T>(given: T | Blob | Response): Promise<T | Uint8Array> {
  // A path or bytes before the global Response is read: in Node that loads undici, whose WebAssembly
  // start-up aborts the process under a virtual-memory limit (ulimit -v) or --jitless.
  if (typeof given !== 'object' || given === null || given instanceof ArrayBuffer || ArrayBuffer.isView(given)) return given as T;
  if (typeof Blob !== 'undefined' && given instanceof Blob) return new Uint8Array(await given.arrayBuffer());
  if (typeof Response !== 'undefined' && given instanceof Response) {
    if (!given.ok) throw new ExplainError(`the model's response${given.url ? ` from ${given.url}` : ''} is HTTP ${given.status}${given.statusText ? ` ${given.statusText}` : ''}, not the model`);
    return new Uint8Array(await given.arrayBuffer());
  }
  return given as T;
}

/** The kinds of Explainer.load's options (a wrong kind failed as a TypeError deep inside: `cache: -1`, `warn: ''`, `fed: true`). */
function checkLoadOptions(o: ExplainerOptions): void {
  const strings = (v: unknown) => typeof v === 'string' || (Array.isArray(v) && v.every((s) => typeof s === 'string'));
  const wrong = (name: string, what: string) => { throw new ExplainError(`Explainer.load: ${name} must be ${what}`); };
  if (o.warn !== undefined && typeof o.warn !== 'function') wrong('warn', 'a function of one message');
  if (o.cache !== undefined && !['modelId', 'get', 'put'].every((f) => typeof (o.cache as unknown as Record<string, unknown>)?.[f] === 'function')) wrong('cache', 'a GraphCache (folderCache(dir), or an object with modelId, get and put)');
  if (o.wrt !== undefined && !strings(o.wrt)) wrong('wrt', 'an input name, a list of them, or \'all\'');
  if (o.fed !== undefined && !(Array.isArray(o.fed) && strings(o.fed))) wrong('fed', 'a list of input names');
  if (o.baseDir !== undefined && typeof o.baseDir !== 'string') wrong('baseDir', 'a folder path');
  if (o.unbatched !== undefined && typeof o.unbatched !== 'boolean') wrong('unbatched', 'true or false');
  // One the platform does not offer (cuda in a browser) falls back with a warning; a name that is none was taken for that.
  if (o.provider !== undefined && !PROVIDERS.includes(o.provider)) wrong('provider', `one of ${PROVIDERS.join(', ')}, got ${JSON.stringify(o.provider)}`);
}

/** A model given as a path or bytes: an ArrayBuffer (fetch().arrayBuffer()) or another view of bytes as a Uint8Array. */
export function modelSource(given: string | Uint8Array | ArrayBuffer | ArrayBufferView): string | Uint8Array {
  // A Proxy of bytes (a Vue reactive() store's) passes instanceof, but typed-array getters refuse it as their receiver.
  if (given instanceof Uint8Array && !ArrayBuffer.isView(given)) throw new ExplainError('the model\'s bytes are wrapped in a Proxy (a reactive store\'s?), which typed arrays cannot be read through: pass the Uint8Array itself (Vue: toRaw(bytes))');
  if (typeof given === 'string' || given instanceof Uint8Array) return given;
  if (given instanceof ArrayBuffer) return new Uint8Array(given);
  if (ArrayBuffer.isView(given)) return new Uint8Array(given.buffer, given.byteOffset, given.byteLength);
  throw new ExplainError(`the model must be a path or its bytes (a Uint8Array, ArrayBuffer, Blob or Response), got ${given === null ? 'null' : typeof given === 'object' ? (given as object).constructor?.name ?? 'object' : typeof given}`);
}

/** A model from bytes, or from a path where the platform has files (Node). */
export function readModel(source: string | Uint8Array, baseDir?: string, read?: ModelBytes): ModelProto {
  const { loadModel } = backend();
  if (typeof source === 'string' && !loadModel) throw new ExplainError(`${source}: this platform cannot read files; pass the model's bytes`);
  return loadModel ? loadModel(source, { baseDir, read }) : parseModel(source as Uint8Array, '<bytes>');
}

/** How messages name a model: its path, or '<bytes>'. */
export const modelLabel = (source: string | Uint8Array): string => (typeof source === 'string' ? source : '<bytes>');
