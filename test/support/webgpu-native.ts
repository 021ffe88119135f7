import { isFloatType, ModelProto, NodeProto, toNumber } from '../../rewriter/proto';
import { nonNativeOps } from '../../rewriter/webgpu-ops';

/** Op types of `model`'s nodes that are not among `original`'s outputs and not WebGPU-native at its opset. */
export function emittedNonNative(original: NodeProto[], model: ModelProto): string[] {
  const forward = new Set(original.flatMap((n) => n.output ?? []));
  const emitted = (model.graph?.node ?? []).filter((n) => !(n.output ?? []).some((o) => forward.has(o)));
  const opset = toNumber((model.opset_import ?? []).find((o) => !o.domain)?.version ?? 0);
  return nonNativeOps(emitted, 0, opset);
}

/**
 * Names of the nodes after the first `originalCount` computed from integer or boolean tensors
 * (`dtypes`: the model's, by name; their copies) and constants alone: maths on the indices and masks
 * the model computes, which onnxruntime's WebGPU EP leaves on the CPU (its kernels take no int64).
 */
export function indexMath(model: ModelProto, originalCount: number, dtypes: Map<string, number>): Set<string> {
  const graph = model.graph!;
  // Copies on the reference pass or the path points ('ref/…', 'path/…') have their original's type.
  const integer = (t: string) => {
    const type = dtypes.get(t) ?? dtypes.get(t.replace(/^(ref|path)\//, ''));
    return type !== undefined && !isFloatType(type);
  };
  const derived = new Set<string>((graph.initializer ?? []).map((t) => t.name!));
  const names = new Set<string>();
  for (const [k, n] of (graph.node ?? []).entries()) {
    const inputs = (n.input ?? []).filter(Boolean);
    if (k < originalCount ? n.op_type !== 'Constant' : !inputs.every((i) => derived.has(i) || integer(i))) continue;
    for (const o of n.output ?? []) derived.add(o);
    if (k >= originalCount) names.add(n.name!);
  }
  return names;
}
