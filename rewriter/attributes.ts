import { AttributeProto, NodeProto, tensorValues, toNumber } from './proto';

function find(node: NodeProto, name: string): AttributeProto | undefined {
  return node.attribute?.find((a) => a.name === name);
}

export function attrInt(node: NodeProto, name: string, fallback: number): number {
  const a = find(node, name);
  return a && a.i !== undefined && a.i !== null ? toNumber(a.i) : fallback;
}

export function attrFloat(node: NodeProto, name: string, fallback: number): number {
  const a = find(node, name);
  return a && a.f !== undefined && a.f !== null ? a.f : fallback;
}

export function attrInts(node: NodeProto, name: string): number[] | undefined {
  const a = find(node, name);
  return a && a.ints && (a.ints.length > 0 || a.type === 7) ? a.ints.map(toNumber) : undefined;
}

export function attrFloats(node: NodeProto, name: string): number[] | undefined {
  const a = find(node, name);
  return a?.floats && a.floats.length > 0 ? [...a.floats] : undefined;
}

export function attrString(node: NodeProto, name: string, fallback: string): string {
  const a = find(node, name);
  // Bytes as decoded (a damaged file can leave a plain array where bytes belong).
  return a?.s && a.s.length > 0 ? new TextDecoder().decode(Uint8Array.from(a.s)) : fallback;
}

export function attrTensorValues(node: NodeProto, name: string): number[] | undefined {
  const a = find(node, name);
  return a?.t ? tensorValues(a.t) : undefined;
}

export function hasAttr(node: NodeProto, name: string): boolean {
  return find(node, name) !== undefined;
}

export function attrStrings(node: NodeProto, name: string): string[] | undefined {
  const a = find(node, name);
  return a?.strings && a.strings.length > 0 ? a.strings.map((s) => new TextDecoder().decode(s)) : undefined;
}
