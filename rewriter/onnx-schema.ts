/**
 * The ONNX protobuf schema (onnx.proto, IR version 10) as a protobufjs JSON descriptor.
 * Field names keep ONNX's snake_case. Every field of the current spec is listed so that a
 * decode/encode round trip keeps all of a model's data.
 */
type Fields = Record<string, { type: string; id: number; rule?: 'repeated'; options?: { packed: boolean } }>;

const f = (type: string, id: number) => ({ type, id });
const r = (type: string, id: number) => ({ type, id, rule: 'repeated' as const });
const packed = (type: string, id: number) => ({ type, id, rule: 'repeated' as const, options: { packed: true } });

const messages: Record<string, { fields: Fields; nested?: Record<string, unknown>; oneofs?: Record<string, { oneof: string[] }> }> = {
  AttributeProto: {
    fields: {
      name: f('string', 1), ref_attr_name: f('string', 21), doc_string: f('string', 13), type: f('int32', 20),
      f: f('float', 2), i: f('int64', 3), s: f('bytes', 4), t: f('TensorProto', 5), g: f('GraphProto', 6),
      sparse_tensor: f('SparseTensorProto', 22), tp: f('TypeProto', 14),
      floats: packed('float', 7), ints: packed('int64', 8), strings: r('bytes', 9), tensors: r('TensorProto', 10),
      graphs: r('GraphProto', 11), sparse_tensors: r('SparseTensorProto', 23), type_protos: r('TypeProto', 15),
    },
  },
  ValueInfoProto: {
    fields: { name: f('string', 1), type: f('TypeProto', 2), doc_string: f('string', 3), metadata_props: r('StringStringEntryProto', 4) },
  },
  NodeProto: {
    fields: {
      input: r('string', 1), output: r('string', 2), name: f('string', 3), op_type: f('string', 4), domain: f('string', 7),
      overload: f('string', 8), attribute: r('AttributeProto', 5), doc_string: f('string', 6),
      metadata_props: r('StringStringEntryProto', 9), device_configurations: r('NodeDeviceConfigurationProto', 10),
    },
  },
  IntIntListEntryProto: { fields: { key: f('int64', 1), value: packed('int64', 2) } },
  NodeDeviceConfigurationProto: {
    fields: { configuration_id: f('string', 1), sharding_spec: r('ShardingSpecProto', 2), pipeline_stage: f('int32', 3) },
  },
  ShardingSpecProto: {
    fields: {
      tensor_name: f('string', 1), device: packed('int64', 2),
      index_to_device_group_map: r('IntIntListEntryProto', 3), sharded_dim: r('ShardedDimProto', 4),
    },
  },
  ShardedDimProto: { fields: { axis: f('int64', 1), simple_sharding: r('SimpleShardedDimProto', 2) } },
  SimpleShardedDimProto: { fields: { dim_value: f('int64', 1), dim_param: f('string', 2), num_shards: f('int64', 3) } },
  TrainingInfoProto: {
    fields: {
      initialization: f('GraphProto', 1), algorithm: f('GraphProto', 2),
      initialization_binding: r('StringStringEntryProto', 3), update_binding: r('StringStringEntryProto', 4),
    },
  },
  ModelProto: {
    fields: {
      ir_version: f('int64', 1), opset_import: r('OperatorSetIdProto', 8), producer_name: f('string', 2),
      producer_version: f('string', 3), domain: f('string', 4), model_version: f('int64', 5), doc_string: f('string', 6),
      graph: f('GraphProto', 7), metadata_props: r('StringStringEntryProto', 14), training_info: r('TrainingInfoProto', 20),
      functions: r('FunctionProto', 25), configuration: r('DeviceConfigurationProto', 26),
    },
  },
  DeviceConfigurationProto: { fields: { name: f('string', 1), num_devices: f('int32', 2), device: r('string', 3) } },
  StringStringEntryProto: { fields: { key: f('string', 1), value: f('string', 2) } },
  TensorAnnotation: { fields: { tensor_name: f('string', 1), quant_parameter_tensor_names: r('StringStringEntryProto', 2) } },
  GraphProto: {
    fields: {
      node: r('NodeProto', 1), name: f('string', 2), initializer: r('TensorProto', 5), sparse_initializer: r('SparseTensorProto', 15),
      doc_string: f('string', 10), input: r('ValueInfoProto', 11), output: r('ValueInfoProto', 12), value_info: r('ValueInfoProto', 13),
      quantization_annotation: r('TensorAnnotation', 14), metadata_props: r('StringStringEntryProto', 16),
    },
  },
  TensorProto: {
    fields: {
      dims: packed('int64', 1), data_type: f('int32', 2), segment: f('Segment', 3), float_data: packed('float', 4),
      int32_data: packed('int32', 5), string_data: r('bytes', 6), int64_data: packed('int64', 7), name: f('string', 8),
      doc_string: f('string', 12), raw_data: f('bytes', 9), external_data: r('StringStringEntryProto', 13),
      data_location: f('int32', 14), double_data: packed('double', 10), uint64_data: packed('uint64', 11),
      metadata_props: r('StringStringEntryProto', 16),
    },
    nested: { Segment: { fields: { begin: f('int64', 1), end: f('int64', 2) } } },
  },
  SparseTensorProto: { fields: { values: f('TensorProto', 1), indices: f('TensorProto', 2), dims: packed('int64', 3) } },
  TensorShapeProto: {
    fields: { dim: r('Dimension', 1) },
    nested: {
      Dimension: {
        oneofs: { value: { oneof: ['dim_value', 'dim_param'] } },
        fields: { dim_value: f('int64', 1), dim_param: f('string', 2), denotation: f('string', 3) },
      },
    },
  },
  TypeProto: {
    oneofs: { value: { oneof: ['tensor_type', 'sequence_type', 'map_type', 'optional_type', 'sparse_tensor_type'] } },
    fields: {
      tensor_type: f('Tensor', 1), sequence_type: f('Sequence', 4), map_type: f('Map', 5), optional_type: f('Optional', 9),
      sparse_tensor_type: f('SparseTensor', 8), denotation: f('string', 6),
    },
    nested: {
      Tensor: { fields: { elem_type: f('int32', 1), shape: f('TensorShapeProto', 2) } },
      Sequence: { fields: { elem_type: f('TypeProto', 1) } },
      Map: { fields: { key_type: f('int32', 1), value_type: f('TypeProto', 2) } },
      Optional: { fields: { elem_type: f('TypeProto', 1) } },
      SparseTensor: { fields: { elem_type: f('int32', 1), shape: f('TensorShapeProto', 2) } },
    },
  },
  OperatorSetIdProto: { fields: { domain: f('string', 1), version: f('int64', 2) } },
  FunctionProto: {
    fields: {
      name: f('string', 1), input: r('string', 4), output: r('string', 5), attribute: r('string', 6),
      attribute_proto: r('AttributeProto', 11), node: r('NodeProto', 7), doc_string: f('string', 8),
      opset_import: r('OperatorSetIdProto', 9), domain: f('string', 10), overload: f('string', 13),
      value_info: r('ValueInfoProto', 12), metadata_props: r('StringStringEntryProto', 14),
    },
  },
};

export const onnxSchema = { nested: { onnx: { nested: messages } } };
