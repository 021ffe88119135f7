import { NodeProto } from '../../rewriter/proto';
import { WEBGPU_NATIVE } from '../../rewriter/webgpu-ops';

/** Op types of `model`'s nodes that are not among `original`'s outputs and not WebGPU-native. */
export function emittedNonNative(original: NodeProto[], model: { graph?: { node?: NodeProto[] } }): string[] {
  const forward = new Set(original.flatMap((n) => n.output ?? []));
  const emitted = (model.graph?.node ?? []).filter((n) => !(n.output ?? []).some((o) => forward.has(o)));
  return [...new Set(emitted.map((n) => n.op_type ?? '').filter((op) => !WEBGPU_NATIVE.has(op)))];
}
