import { ExplainError } from '../rewriter/errors';
import { checkKnown } from './known-options';
import { ModelProto, toNumber, ValueInfoProto } from '../rewriter/proto';

/** Triton's DataType names for ONNX tensor types (TensorProto.DataType → model_config.proto). */
const TRITON_TYPE: Record<number, string> = {
  1: 'TYPE_FP32', 2: 'TYPE_UINT8', 3: 'TYPE_INT8', 4: 'TYPE_UINT16', 5: 'TYPE_INT16', 6: 'TYPE_INT32', 7: 'TYPE_INT64',
  9: 'TYPE_BOOL', 10: 'TYPE_FP16', 11: 'TYPE_FP64', 12: 'TYPE_UINT32', 13: 'TYPE_UINT64', 16: 'TYPE_BF16',
};

export interface TritonSpec {
  /** Model name: the folder name in the repository. */
  name: string;
  /** The graph Triton serves (an augmented graph). */
  model: ModelProto;
  /** Largest batch Triton's dynamic batcher forms; 0 when the graph's batch axis is fixed. */
  maxBatchSize: number;
  /** How long a request may wait for others to form a batch. */
  maxQueueDelayMicroseconds?: number;
}

/**
 * config.pbtxt (protobuf text format of Triton's ModelConfig) for serving `model` on Triton's
 * onnxruntime backend. With batching, every input and output keeps its batch as the first axis,
 * left out of `dims`; a tensor that is only a batch ([N], such as `delta`) is declared as dims [1]
 * with an empty reshape, as Triton's documentation prescribes.
 */
const SPEC_KEYS: Record<keyof TritonSpec, true> = { name: true, model: true, maxBatchSize: true, maxQueueDelayMicroseconds: true };

export function tritonConfig(spec: TritonSpec): string {
  checkKnown('tritonConfig', spec, SPEC_KEYS);
  const { model, maxBatchSize } = spec;
  const graph = model.graph!;
  if (!Number.isSafeInteger(maxBatchSize) || maxBatchSize < 0) throw new ExplainError(`max batch size ${maxBatchSize} must be an integer ≥ 0`);
  if (!/^[A-Za-z0-9_.-]+$/.test(spec.name) || /^\.+$/.test(spec.name)) throw new ExplainError(`Triton model name '${spec.name}' may use letters, digits, '_', '.' and '-' only, and is not '.' or '..' (it names a folder of the repository)`);
  const initializers = new Set((graph.initializer ?? []).map((t) => t.name));
  const tensor = (vi: ValueInfoProto, field: 'input' | 'output'): string => {
    const tt = vi.type?.tensor_type;
    const type = TRITON_TYPE[tt?.elem_type ?? 0];
    if (!type || !tt?.shape?.dim) throw new ExplainError(`${field} '${vi.name}' has no tensor type and shape Triton can declare`);
    const dims = tt.shape.dim.map((d) => (d.dim_param || !toNumber(d.dim_value) ? -1 : toNumber(d.dim_value)));
    if (maxBatchSize > 0 && !tt.shape.dim[0]?.dim_param) throw new ExplainError(`${field} '${vi.name}' has a fixed first axis; batching needs it dynamic (export with max batch size 0)`);
    const declared = maxBatchSize > 0 ? dims.slice(1) : dims;
    const lines = [`  name: ${JSON.stringify(vi.name)}`, `  data_type: ${type}`];
    if (declared.length) lines.push(...declared.map((d) => `  dims: ${d}`));
    else lines.push('  dims: 1', '  reshape {', '  }');
    return `${field} {\n${lines.join('\n')}\n}`;
  };
  const parts = [
    `name: ${JSON.stringify(spec.name)}`,
    'backend: "onnxruntime"',
    `max_batch_size: ${maxBatchSize}`,
    ...(graph.input ?? []).filter((i) => !initializers.has(i.name)).map((i) => tensor(i, 'input')),
    ...(graph.output ?? []).map((o) => tensor(o, 'output')),
  ];
  if (maxBatchSize > 0) parts.push(`dynamic_batching {\n  max_queue_delay_microseconds: ${spec.maxQueueDelayMicroseconds ?? 100}\n}`);
  parts.push('instance_group {\n  kind: KIND_AUTO\n  count: 1\n}');
  return `${parts.join('\n')}\n`;
}
