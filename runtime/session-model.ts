import { DataType, encodeModel, ModelProto, TensorProto } from '../rewriter/proto';

/** A graph as onnxruntime takes it: its bytes (or, in Node, a file onnxruntime reads), and the in-memory files its weights are read from. */
export interface SessionModel {
  bytes: Uint8Array | string;
  /** onnxruntime's `externalData` session option (web and Node): buffers shared, never copied. */
  externalData: { path: string; data: Uint8Array }[];
}

/** Initializers at least this large are referenced where they lie instead of being re-encoded. */
const EXTERNAL_BYTES = 1024;
/** Integer tensors stay inline: onnxruntime reads shapes, split sizes and indices from them when it loads the graph. */
const SHAPE_TYPES = new Set<number>([DataType.INT64, DataType.INT32]);

/**
 * Serializes a graph for a session without copying its weights: each large initializer becomes an
 * external-data reference (location, offset, length) into the buffer that already holds it. For a
 * loaded model that buffer is the model file's own bytes (protobuf decoding views them, see
 * rewriter/proto.ts), so the probe, forward and every augmented graph of one model read their
 * weights from that one buffer, and the graph bytes themselves stay small.
 */
export function sessionModel(model: ModelProto): SessionModel & { bytes: Uint8Array } {
  const files = new Map<ArrayBufferLike, string>();
  const external = (t: TensorProto): TensorProto => {
    const raw = t.raw_data;
    // An unset bytes field decodes as protobufjs's empty default, which may be a plain array.
    if (!(raw instanceof Uint8Array) || raw.byteLength < EXTERNAL_BYTES || SHAPE_TYPES.has(t.data_type ?? 0)) return t;
    let location = files.get(raw.buffer);
    if (!location) files.set(raw.buffer, (location = `weights-${files.size}.bin`));
    const entries = { location, offset: raw.byteOffset, length: raw.byteLength };
    return {
      name: t.name, dims: t.dims, data_type: t.data_type, data_location: 1,
      external_data: Object.entries(entries).map(([key, value]) => ({ key, value: String(value) })),
    };
  };
  const graph = model.graph ?? {};
  const bytes = encodeModel({ ...model, graph: { ...graph, initializer: (graph.initializer ?? []).map(external) } });
  return { bytes, externalData: [...files].map(([buffer, path]) => ({ path, data: new Uint8Array(buffer) })) };
}

/** Graph bytes that carry their weights inline, or the file holding them (a cached graph). */
export function inlineModel(bytes: Uint8Array | string): SessionModel {
  return { bytes, externalData: [] };
}
