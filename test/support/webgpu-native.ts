import { ModelProto, NodeProto, toNumber } from '../../rewriter/proto';
import { nonNativeOps } from '../../rewriter/webgpu-ops';

/** Op types of `model`'s nodes that are not among `original`'s outputs and not WebGPU-native at its opset. */
export function emittedNonNative(original: NodeProto[], model: ModelProto): string[] {
  const forward = new Set(original.flatMap((n) => n.output ?? []));
  const emitted = (model.graph?.node ?? []).filter((n) => !(n.output ?? []).some((o) => forward.has(o)));
  const opset = toNumber((model.opset_import ?? []).find((o) => !o.domain)?.version ?? 0);
  return nonNativeOps(emitted, 0, opset);
}
