import type * as OrtCommon from 'onnxruntime-common';
import { ModelProto } from '../rewriter/proto';

/** The onnxruntime API the core uses: onnxruntime-node's or onnxruntime-web's (same shape). */
export type OrtApi = typeof OrtCommon;
export type OrtTensor = OrtCommon.Tensor;
export type OrtSession = OrtCommon.InferenceSession;
export type OrtFeeds = Record<string, OrtTensor>;
export type OrtResults = OrtCommon.InferenceSession.OnnxValueMapType;

/** The bytes a model was read from: the file's as parsed (not read again), then its external tensors'. */
export interface ModelBytes { model?: Uint8Array; external: Uint8Array[] }

/** What a platform adapter (runtime/node, runtime/browser) provides to the core. */
export interface Backend {
  ort: OrtApi;
  /** Execution providers this platform can request. */
  providers: readonly string[];
  /** Used, with a warning, when the requested provider cannot be created. */
  fallback: string;
  /**
   * Loads a model from a path or bytes, with external data (platforms with files; else bytes are
   * parsed as they are); `read` receives the bytes parsed and those of each external tensor.
   */
  loadModel?(source: string | Uint8Array, options: { baseDir?: string; read?: ModelBytes }): ModelProto;
  /**
   * Outputs may stay on the WebGPU device for the next run (`preferredOutputLocation:
   * 'gpu-buffer'`): onnxruntime-web; not onnxruntime-node 1.30, whose binding aborts the process.
   */
  deviceOutputs?: boolean;
  /** Bytes the runs of one explanation may take by default (see rowsInMemory). */
  memoryBudget: number;
  /** Intra-op threads of native sessions when the user sets none: one per physical core (onnxruntime-node). */
  cpuThreads?: number;
  /** CPU sessions can save onnxruntime's optimised graph (`optimizedModelFilePath`): onnxruntime-node. */
  optimizedModels?: boolean;
  /** A warning given once, with the first session (e.g. the native binding is missing). */
  notice?: string;
  /** Where onnxruntime itself could not start (onnxruntime-web's runtime files not found): the message that says what to do, or undefined. */
  startFailure?(e: unknown): string | undefined;
  /** Checks, without starting it here, that a provider can start: why not, or undefined. */
  probe?(provider: string): Promise<string | undefined>;
}

/**
 * onnxruntime-web's API with every session creation, run and release queued one after another:
 * its WebAssembly runtime is one instance, whose external-data mounts, memory and run state
 * concurrent calls share (two creations at once lost the second's weights; a few runs at once read
 * freed memory or hung the process).
 */
export function oneCallAtATime(ort: OrtApi): OrtApi {
  let last: Promise<unknown> = Promise.resolve();
  const queued = <T>(call: () => Promise<T>): Promise<T> => {
    const result = last.then(call, call);
    last = result.catch(() => undefined);
    return result;
  };
  const session = (s: OrtSession): OrtSession => new Proxy(s, {
    get(target, key) {
      if (key === 'run') return (...args: Parameters<OrtSession['run']>) => queued(() => target.run(...args));
      if (key === 'release') return () => queued(() => target.release());
      const value = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const create = ((...args: Parameters<typeof ort.InferenceSession.create>) => queued(() => (ort.InferenceSession.create as (...a: unknown[]) => Promise<OrtSession>)(...args)).then(session)) as typeof ort.InferenceSession.create;
  return { ...ort, InferenceSession: Object.assign(Object.create(ort.InferenceSession), { create }) };
}

/**
 * Where onnxruntime-web answered "no available backend found" (its WebAssembly runtime's files did
 * not load): the first line of the named backend's own error; undefined for any other error.
 */
export function runtimeStartCause(e: unknown, backendName: string): string | undefined {
  const message = String((e as Error)?.message ?? e);
  if (!/no available backend found/.test(message)) return undefined;
  return new RegExp(`ERR: \\[${backendName}\\] (.*)`).exec(message)?.[1]?.split('\n')[0] ?? message.split('\n')[0];
}

let current: Backend | undefined;

export function setBackend(b: Backend): void {
  current = b;
}

export function backend(): Backend {
  if (!current) throw new Error('onnx-explain: no onnxruntime backend registered: import onnx-explain (Node) or its browser module');
  return current;
}

export function ortApi(): OrtApi {
  return backend().ort;
}
