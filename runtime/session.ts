import type * as OrtCommon from 'onnxruntime-common';
import { backend, OrtSession } from './backend';
import { firstLine } from './run-errors';
import { ExplainError } from '../rewriter/errors';
import { ModelProto } from '../rewriter/proto';
import { SessionModel } from './session-model';
import { checkKnown } from './known-options';

export type Provider = 'cpu' | 'cuda' | 'webgpu' | 'wasm';
export const PROVIDERS: Provider[] = ['cpu', 'cuda', 'webgpu', 'wasm'];

/**
 * onnxruntime session options applied to every session an Explainer creates (intraOpNumThreads,
 * graphOptimizationLevel, freeDimensionOverrides, enableMemPattern, ...); the execution provider
 * comes from the Explainer's `provider`.
 */
export type SessionOptions = Omit<OrtCommon.InferenceSession.SessionOptions, 'executionProviders'>;

/** Defaults: every graph optimisation, and only fatal native log lines (errors are ours to report). */
const DEFAULTS: SessionOptions = { logSeverityLevel: 4, graphOptimizationLevel: 'all' };

/** Intra-op threads at most: past this onnxruntime only slows (1,000 on 2 cores: 49 s for an MLP). */
const MAX_THREADS = 256;

const LEVELS: GraphLevel[] = ['disabled', 'basic', 'extended', 'layout', 'all'];

/** onnxruntime's SessionOptions (onnxruntime-common 1.30) that a user may set: executionProviders is the Explainer's `provider`, externalData its model's. */
const SESSION_KEYS: Record<string, true> = {
  intraOpNumThreads: true, interOpNumThreads: true, freeDimensionOverrides: true, graphOptimizationLevel: true, enableCpuMemArena: true, enableMemPattern: true, executionMode: true,
  optimizedModelFilePath: true, enableProfiling: true, profileFilePrefix: true, logId: true, logSeverityLevel: true, logVerbosityLevel: true, preferredOutputLocation: true, enableGraphCapture: true, extra: true,
};

/**
 * The user's session options: known to onnxruntime (a misspelt key was ignored), not the ones the
 * Explainer sets (executionProviders was replaced by `provider`'s), and the values onnxruntime would
 * reject with a TypeError of its own: the intra-op thread count (0, onnxruntime's choice, to
 * MAX_THREADS) and the optimisation level.
 */
export function checkSessionOptions(options: SessionOptions | undefined): void {
  if ((options as Record<string, unknown> | undefined)?.executionProviders !== undefined) throw new ExplainError('sessionOptions.executionProviders: the Explainer\'s provider option (--provider) chooses the execution provider');
  checkKnown('sessionOptions', options ?? {}, SESSION_KEYS);
  const threads = options?.intraOpNumThreads;
  if (threads !== undefined && !(Number.isInteger(threads) && threads >= 0 && threads <= MAX_THREADS)) throw new ExplainError(`--threads (intraOpNumThreads): ${threads} is not an integer from 0 (onnxruntime's choice) to ${MAX_THREADS}`);
  const level = options?.graphOptimizationLevel;
  if (level !== undefined && !LEVELS.includes(level)) throw new ExplainError(`sessionOptions.graphOptimizationLevel: ${JSON.stringify(level)} is not one of ${LEVELS.join(', ')}`);
}

/** Session options that only set threads, memory, logging or profiling: the graph onnxruntime optimises is the same whatever they are. */
const RUN_ONLY_OPTIONS = new Set(['intraOpNumThreads', 'interOpNumThreads', 'executionMode', 'enableCpuMemArena', 'enableMemPattern', 'logId', 'logSeverityLevel', 'logVerbosityLevel', 'enableProfiling', 'profileFilePrefix', 'optimizedModelFilePath']);

/**
 * The user's session options that may change the graph onnxruntime optimises (its level, config
 * entries such as `optimization.disable_specified_optimizers`, free dimension overrides), as a
 * canonical text for a cached graph's key.
 */
export function graphOptionsKey(options: SessionOptions): string {
  const canonical = (v: unknown): unknown => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])])) : v);
  return JSON.stringify(canonical(Object.fromEntries(Object.entries(options).filter(([k, v]) => !RUN_ONLY_OPTIONS.has(k) && v !== undefined))));
}

/**
 * The user's options over our defaults. Native sessions get one intra-op thread per physical core
 * as the OS counts them (runtime/node/cores.ts; onnxruntime's own count gave one thread on this
 * 2-core machine, half the speed), and their pool threads stop spinning when a run returns
 * (`session.force_spinning_stop`): an Explainer holds several sessions, and the spinning workers
 * of the one that just ran took the cores from the next (ResNet-18 forward after a gradient run:
 * 21 ms instead of 11 ms on 2 cores). Every session leaves out onnxruntime's Pad_Fusion
 * (`optimization.disable_specified_optimizers`): it folds a zero constant Pad into the next
 * MaxPool's pads, which pad with −inf, so a window reaching the padding whose values are all
 * negative lost the Pad's 0 (onnxruntime 1.30: Pad → MaxPool of −1s gave −6 for −2).
 */
export function sessionOptions(options: SessionOptions = {}): SessionOptions {
  const threads = backend().cpuThreads;
  const extra = (options.extra ?? {}) as Record<string, unknown>;
  const optimization = { disable_specified_optimizers: 'Pad_Fusion', ...(extra.optimization ?? {}) as Record<string, unknown> };
  if (!threads) return { ...DEFAULTS, ...options, extra: { ...extra, optimization } };
  const session = (extra.session ?? {}) as Record<string, unknown>;
  return { ...DEFAULTS, intraOpNumThreads: threads, ...options, extra: { ...extra, optimization, session: { force_spinning_stop: '1', ...session } } };
}

/**
 * Session settings: onnxruntime options (the user's), the intra-op threads and optimisation level to
 * use where the user sets none, and (loops) outputs kept on the WebGPU device for the next run.
 */
export interface SessionTuning { options?: SessionOptions; threads?: number; level?: GraphLevel; parallel?: boolean; outputsOnDevice?: boolean }

export type GraphLevel = NonNullable<SessionOptions['graphOptimizationLevel']>;

/**
 * Graphs with more nodes than this (recurrent cells unrolled over long sequences) default to the
 * basic optimisations: each of the extended level's ~50 passes re-resolves the whole graph, and a
 * 200-step bidirectional LSTM's DeepLIFT graph took 251 s to open at 'all' against 64 s at 'basic',
 * with runs as fast ('disabled' opens in 16 s but runs 4× slower).
 */
const LARGE_GRAPH = 10_000;

/**
 * Graphs with more nodes than this open unoptimised: onnxruntime's set-up of even the basic passes
 * grows faster than the graph, while the runs slow down less than in proportion (a 2-layer 256-token
 * BiLSTM's DeepLIFT graph, 54,397 nodes: 126 s to open at 'basic' against 32 s, runs 0.175 against
 * 0.20 s; at 21,258 nodes 13.6 s against 2.6 s, runs 97 against 263 ms).
 */
const HUGE_GRAPH = 30_000;

/**
 * A note for graphs onnxruntime takes minutes to open, even unoptimised: past HUGE_GRAPH nodes (a
 * 512-step two-layer BiLSTM's DeepLIFT graph, 125,053 nodes, took more than 5 minutes).
 */
export function openingNote(model: ModelProto, method: string): string | undefined {
  const nodes = model.graph?.node?.length ?? 0;
  if (nodes <= HUGE_GRAPH) return undefined;
  return `${method}: its graph has ${nodes.toLocaleString('en-US')} nodes, which onnxruntime may take minutes to open; the gradient's smaller graph opens sooner (a recurrent model's, written out per step, at a shorter sequence too)`;
}

/** Whether a forward graph of this many nodes gives large augmented graphs (which have 3–10× its nodes). */
export function largeForward(nodes: number): boolean {
  return nodes * 4 > LARGE_GRAPH;
}

/** The optimisation level a graph's sessions default to: 'basic' for large graphs, 'disabled' for huge ones, else the default. */
export function levelFor(model: ModelProto): GraphLevel | undefined {
  const nodes = model.graph?.node?.length ?? 0;
  return nodes > HUGE_GRAPH ? 'disabled' : nodes > LARGE_GRAPH ? 'basic' : undefined;
}

/**
 * Graphs with more nodes than this open in onnxruntime's parallel executor (two inter-op threads) on
 * the CPU: its sequential executor's planning takes time that grows faster than the graph, most
 * where many tensors stay alive for the backward pass (an unrolled 30-step two-layer LSTM's DeepLIFT
 * graph, 8,090 nodes, opened in 18–25 s against 2–4 s, its gradient graph of 2,395 nodes in 1.4 s
 * against 0.09 s), for runs a third slower (11 → 15 ms). CNN graphs stay below (ResNet-50's
 * DeepLIFT graph: 1,219 nodes).
 */
const PARALLEL_GRAPH = 2_000;

/** Whether a graph's CPU sessions default to the parallel executor (see PARALLEL_GRAPH). */
export function parallelFor(model: ModelProto): boolean | undefined {
  return (model.graph?.node?.length ?? 0) > PARALLEL_GRAPH || undefined;
}

/** Graphs with fewer weights run faster on one thread: the per-op thread-pool hand-off dominates. */
const SMALL_MODEL = 1_000_000;

/**
 * The intra-op threads a model's sessions default to: one below SMALL_MODEL weights (digits CNN
 * DeepLIFT at batch 8: 0.9 ms on one thread, 1.15 ms on two), else the platform's default.
 */
export function threadsFor(model: ModelProto): number | undefined {
  const weights = (model.graph?.initializer ?? []).reduce((a, t) => a + (t.dims ?? []).reduce((p: number, d) => p * Number(d), 1), 0);
  return weights < SMALL_MODEL ? 1 : undefined;
}

/**
 * onnxruntime's WebGPU EP (onnxruntime-web/webgpu and onnxruntime-node 1.30) in its default NHWC
 * layout computes some Convs wrongly (relative error 0.1–1; e.g. 6 or 9 input channels with a
 * multiple of 4 outputs, or grouped Convs with 6 outputs per group; measured on SwiftShader,
 * the mobilenet and exporter cases of test/webgpu-runtime.test.ts); in NCHW layout every case is right.
 */
const WEBGPU = { name: 'webgpu', preferredLayout: 'NCHW' } as const;

/** The `executionProviders` entry sessions on `provider` are created with. */
export function executionProvider(provider: Provider): string | typeof WEBGPU {
  return provider === 'webgpu' ? WEBGPU : provider;
}

/** Providers that failed to load in this process, with why: not tried again, and said to every Explainer that asks for one. */
const unavailable = new Map<string, string>();
let noticeGiven = false;

/** The provider sessions requested on `provider` run on: the platform's fallback once it failed to load. */
export function providerInUse(provider: Provider): string {
  return unavailable.has(provider) ? backend().fallback : provider;
}

/** A session on the model's bytes, or on the file onnxruntime-node reads itself (a cached graph). */
function open(model: SessionModel, options: OrtCommon.InferenceSession.SessionOptions): Promise<OrtSession> {
  const { ort } = backend();
  // Two calls: onnxruntime's create has one overload for a path and one for bytes, none for either.
  return typeof model.bytes === 'string' ? ort.InferenceSession.create(model.bytes, options) : ort.InferenceSession.create(model.bytes, options);
}

/**
 * onnxruntime's messages for a graph its optimiser broke (the probe ran the model itself
 * unoptimised); a type error in a node without a name is one the optimiser made.
 */
const OPTIMISER_BROKE = /^(Exception during initialization|This is an invalid model\. (In Node|Type Error: .* in node \(\) is invalid))/;

/**
 * An onnxruntime session on the requested execution provider; when that provider cannot be created
 * (CUDA libraries not installed, no WebGPU adapter) warns in one line and uses the platform's
 * fallback (cpu in Node, wasm in the browser).
 */
export async function createSession(model: SessionModel, provider: Provider, warn: (m: string) => void, tuning: SessionTuning = {}): Promise<OrtSession> {
  const { providers, fallback, deviceOutputs, notice, probe } = backend();
  if (notice && !noticeGiven) {
    noticeGiven = true;
    warn(notice);
  }
  // onnxruntime-node rejects keys that are present but undefined.
  const options = Object.fromEntries(Object.entries(tuning.options ?? {}).filter(([, v]) => v !== undefined));
  const defaults = { ...(tuning.threads ? { intraOpNumThreads: tuning.threads } : {}), ...(tuning.level ? { graphOptimizationLevel: tuning.level } : {}) };
  const base = { ...sessionOptions({ ...defaults, ...options }), ...externalData(model) };
  const fellBack = (reason: string) => warn(`onnx-explain: warning: execution provider '${provider}' is unavailable (${reason}); falling back to ${fallback}`);
  const failed = unavailable.get(provider);
  if (failed !== undefined) fellBack(failed);
  else if (provider !== fallback) {
    try {
      if (!providers.includes(provider)) throw new Error(`not offered on this platform (${providers.join(', ')})`);
      const refused = await probe?.(provider);
      if (refused) throw new Error(refused);
      const device = tuning.outputsOnDevice && deviceOutputs && provider === 'webgpu' ? { preferredOutputLocation: 'gpu-buffer' as const } : {};
      return await open(model, { ...base, ...device, executionProviders: [executionProvider(provider)] });
    } catch (e) {
      unavailable.set(provider, firstLine(e).slice(0, 200));
      fellBack(unavailable.get(provider)!);
    }
  }
  // The parallel executor where the graph is large (parallelFor) and the user chose no executor.
  const parallel = tuning.parallel && fallback === 'cpu' && !options.executionMode ? { executionMode: 'parallel' as const, interOpNumThreads: 2, ...options } : {};
  try {
    return await open(model, { ...base, ...parallel, executionProviders: [fallback] });
  } catch (e) {
    // onnxruntime's optimiser can break a valid graph (its Pad fusion moves a Pad's spatial pads
    // into the next pool, which refuses pads as large as its kernel; its QDQ bias quantisation adds
    // a Round to an opset-10 graph, which has none; it fuses a float8 DequantizeLinear and a
    // MatMul of the transposed weights into a MatMulIntegerToFloat, which takes no float8): run
    // such a graph unoptimised.
    const start = backend().startFailure?.(e);
    if (start) throw new ExplainError(start);
    const line = firstLine(e);
    if (options.graphOptimizationLevel || base.graphOptimizationLevel === 'disabled' || !OPTIMISER_BROKE.test(line)) throw e;
    const session = await open(model, { ...base, graphOptimizationLevel: 'disabled', executionProviders: [fallback] });
    // The input's name left out: the reference pass's copy of a graph fails the same way.
    const what = line.split(/was false\. |This is an invalid model\. /).pop()!.replace(/ of input parameter \([^)]*\)/, ' of an input').slice(0, 200);
    warn(`onnx-explain: warning: onnxruntime's graph optimiser failed on this graph (${what}); it runs unoptimised`);
    return session;
  }
}

/** The session option that hands onnxruntime the buffers a graph's weights lie in (none: the option is left out). */
export function externalData(model: SessionModel): Pick<OrtCommon.InferenceSession.SessionOptions, 'externalData'> {
  return model.externalData.length ? { externalData: model.externalData } : {};
}
