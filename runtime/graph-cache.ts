import type { GraphLevel } from './session';

/**
 * Augmented graphs kept between processes, so that a later run skips probing, rewriting and
 * (where the cache keeps onnxruntime's optimised graph) graph optimisation. The platform adapter
 * provides the storage (Node: runtime/node/graph-cache.ts, a folder); the core only composes keys.
 */
export interface GraphCache {
  /** Identifies a model's content (e.g. a hash of its bytes and of the tensors it keeps as external data); part of every key. */
  modelId(source: string | Uint8Array, external?: Uint8Array[]): Promise<string>;
  get(key: string): Promise<CachedGraph | undefined>;
  /** Stores a graph after its session was created (with `optimizedPath(key)` when given). */
  put(key: string, graph: CachedGraph): Promise<void>;
  /**
   * Where onnxruntime may write its optimised version of the graph (session option
   * optimizedModelFilePath) while the session for `key` is created on the CPU; `put` then keeps
   * that version, so later sessions skip graph optimisation too. Platforms without files omit it;
   * undefined when the storage cannot be written.
   */
  optimizedPath?(key: string): string | undefined;
  /** Removes what onnxruntime left at an optimizedPath where its session failed (a full disk: a partial file). */
  discardOptimized?(file: string): void;
  /**
   * What probing a model found for one input shape (runtime/probe.ts encodeProbe), so that a later
   * run skips the probe's runs too. Optional: without them every process probes.
   */
  getProbe?(key: string): Promise<string | undefined>;
  putProbe?(key: string, probe: string): Promise<void>;
}

export interface CachedGraph {
  /**
   * The augmented model (ONNX bytes), ready for a session; a folder cache gives its file's path,
   * which onnxruntime-node reads itself (a ResNet-18 gradient graph: 0.7 s instead of 1.1 s). Given
   * to `put` as a path, it is the file onnxruntime wrote at optimizedPath's path, to keep as it is.
   */
  model: Uint8Array | string;
  /** What running it needs besides the graph. */
  info: GraphInfo;
}

/** What the backprop driver needs to feed and split an augmented graph, without probing. */
export interface GraphInfo {
  /** Shape of the seeded tensor at batch 1. */
  fromDims: number[];
  /** The graph takes any batch (else it is run row by row). */
  batchDynamic: boolean;
  /** One shared baseline row broadcasts against the batch. */
  batchBroadcasts: boolean;
  /** The optimisation level its sessions default to (levelFor; 'disabled' for a graph stored as onnxruntime optimised it). */
  level?: GraphLevel;
  /** Its CPU sessions default to onnxruntime's parallel executor (parallelFor: large graphs). */
  parallel?: boolean;
  /** The note naming the layer a class activation map took by default (given again when the graph comes from the cache). */
  camNote?: string;
}
