import { floatCastInputs } from './cast-input';
import { contribQdqAsStandard } from './contrib-quantizers';
import { explicitConvAttributes } from './conv-attributes';
import { convTransposeSameAsPads } from './conv-transpose-pads';
import { embeddingBagsAsLookups } from './embedding-bag';
import { integerOpsToQdq } from './dynamic-quantization';
import { readInFloat32 } from './half-precision';
import { matMulNBitsToMatMul } from './matmul-nbits';
import { firstPassOfMergedDecoder } from './merged-decoder';
import { mapSubgraphs, nodeReads } from './graph-view';
import { GraphProto, ModelProto, toNumber, ValueInfoProto } from './proto';
import { expandFunctionOps } from './onnx-functions';
import { onnxMlToStandard } from './onnx-ml';
import { inlineLocalFunctions } from './local-functions';
import { liftOldOpset } from './opset-lift';
import { lowerNewOpset } from './opset-lower';
import { gatherOpsAtOpset11 } from './opset-upgrade';
import { unfuseTransformerOps } from './ort-fusions';
import { qonnxQuantToQcdq } from './qonnx-quant';
import { qoperatorToQdq } from './qoperator';
import { sliceAttributesInInt32, sliceIndicesAsVectors } from './slice-indices';
import { stringCategoriesAsCodes } from './string-categories';
import { withoutStringInputs } from './string-inputs';
import { zeroInitialStatesDropped } from './zero-initial-states';

/**
 * The readings a model goes through before anything else sees it, in order; each returns the
 * model as it is where it does not apply.
 */
const READINGS: ((model: ModelProto, label: string) => ModelProto)[] = [
  inlineLocalFunctions, // the model's own functions replaced by their bodies
  zeroBatchFreed, // a batch axis declared of size 0 (tf2onnx's Keras models of unknown batch) free
  zeroInitialStatesDropped, // recurrent cells' all-zero constant initial states left out (the spec's default)
  withoutTrailingEmptyInputs, // optional inputs named '' at the end left out
  sliceIndicesAsVectors, // Slice's scalar starts/ends/axes/steps as 1-D tensors
  sliceAttributesInInt32, // opset-1 Slice bounds clamped to int32 (onnxruntime-web's JSEP truncates 2⁶³ − 1 to −1)
  stringCategoriesAsCodes, // string columns read only by categorical encoders as int64 codes
  withoutStringInputs, // other string inputs (ML.NET's Label column) left out with what they compute
  liftOldOpset, // opset 7/8 at opset 9
  gatherOpsAtOpset11, // opset 9/10 with Scatter (ScatterElements at 11) or MaxUnpool at opset 11, whose GatherElements their gradients use
  convTransposeSameAsPads, // SAME-padded ConvTranspose with an output_padding at explicit pads (onnx's shape inference sizes it otherwise than the kernel)
  contribQdqAsStandard, // com.microsoft QuantizeLinear/DequantizeLinear as the standard ops (at opset 21 for 16/4 bits)
  firstPassOfMergedDecoder, // optimum's merged decoder as its first pass (no generation cache)
  readInFloat32, // float16/bfloat16 widened and float64 narrowed to float32
  qonnxQuantToQcdq, // QONNX's IntQuant (Brevitas, FINN) as QuantizeLinear → Clip → DequantizeLinear
  qoperatorToQdq, // QLinear ops as DequantizeLinear → float op → QuantizeLinear
  integerOpsToQdq, // dynamic quantization's integer ops as DequantizeLinear → float op
  matMulNBitsToMatMul, // block-quantized weights dequantized
  unfuseTransformerOps, // onnxruntime's Attention and EmbedLayerNormalization as their definitions
  expandFunctionOps, // opset-23 Attention and RMSNormalization as their function bodies
  onnxMlToStandard, // skl2onnx's linear ops as standard ops
  embeddingBagsAsLookups, // torch's EmbeddingBag Loops over 2-D ids as Gather + reduction
  floatCastInputs, // integer inputs read only through Casts to float as float32
  explicitConvAttributes, // Conv/ConvTranspose defaults written out (onnxruntime-web's JSEP kernels reject them left out)
  lowerNewOpset, // opset 22+ at opset 21 where nothing newer is used (the WebGPU backends' kernels end at 21 for many ops)
];

/** The model in the canonical form the rewriter reads. */
export function canonicalForm(model: ModelProto, label: string): ModelProto {
  const read = READINGS.reduce((m, reading) => reading(m, label), model);
  return read === model ? model : withoutUnusedInitializers(read);
}

/** Initializers a reading left unread (integer weights it dequantized) dropped; graph inputs and outputs kept. */
function withoutUnusedInitializers(model: ModelProto): ModelProto {
  const graph = model.graph!;
  const read = new Set([...(graph.node ?? []).flatMap(nodeReads), ...[...(graph.input ?? []), ...(graph.output ?? [])].map((v) => v.name)]);
  const initializer = (graph.initializer ?? []).filter((t) => read.has(t.name));
  return initializer.length === (graph.initializer ?? []).length ? model : { ...model, graph: { ...graph, initializer } };
}

/**
 * Trailing optional inputs named '' are left out, which ONNX defines as the same: onnxruntime 1.30
 * dereferences some of them (DFT-20's axis given as '' crashes the process).
 */
function withoutTrailingEmptyInputs(model: ModelProto): ModelProto {
  let changed = false;
  const graph = (g: GraphProto): GraphProto => ({
    ...g,
    node: (g.node ?? []).map((n) => {
      const inputs = n.input ?? [];
      let end = inputs.length;
      while (end > 0 && !inputs[end - 1]) end--;
      if (end < inputs.length) changed = true;
      return mapSubgraphs(end < inputs.length ? { ...n, input: inputs.slice(0, end) } : n, graph);
    }),
  });
  const read = graph(model.graph!);
  return changed ? { ...model, graph: read } : model;
}

/**
 * A first axis declared of size 0 on the graph's data inputs (tf2onnx writes a Keras model's batch
 * so when it did not know it; onnxruntime then runs the model on no rows only) is made free, on the
 * outputs and value_info too; all-zero initial states of that batch ([1, 0, H]) are then dropped as
 * any zero state.
 */
function zeroBatchFreed(model: ModelProto): ModelProto {
  const graph = model.graph!;
  const zero = (v: ValueInfoProto) => {
    const d = v.type?.tensor_type?.shape?.dim?.[0];
    return !!d && Object.hasOwn(d, 'dim_value') && toNumber(d.dim_value) === 0;
  };
  const weights = new Set((graph.initializer ?? []).map((t) => t.name));
  if (!(graph.input ?? []).some((v) => !weights.has(v.name) && zero(v))) return model;
  const freed = (v: ValueInfoProto): ValueInfoProto => {
    if (!zero(v)) return v;
    const tt = v.type!.tensor_type!;
    return { ...v, type: { ...v.type, tensor_type: { ...tt, shape: { dim: [{ dim_param: 'batch' }, ...tt.shape!.dim!.slice(1)] } } } };
  };
  const inputs = (graph.input ?? []).map((v) => (weights.has(v.name) ? v : freed(v)));
  return { ...model, graph: { ...graph, input: inputs, output: (graph.output ?? []).map(freed), value_info: (graph.value_info ?? []).map(freed) } };
}
