import * as fs from 'fs';
import * as path from 'path';
import { ExplainError } from './errors';
import { decodeModel, encodeModel, ModelProto, TensorProto, toNumber } from './proto';

export interface LoadOptions {
  /** Folder that external-data locations are relative to (defaults to the model file's folder). */
  baseDir?: string;
}

/** Loads an ONNX model from a path or bytes; external-data tensors are read into memory. */
export function loadModel(source: string | Uint8Array, options: LoadOptions = {}): ModelProto {
  let bytes: Uint8Array;
  let label: string;
  let baseDir = options.baseDir;
  if (typeof source === 'string') {
    label = source;
    if (!fs.existsSync(source)) throw new ExplainError(`${source}: file not found`);
    if (fs.statSync(source).isDirectory()) throw new ExplainError(`${source}: is a directory, not an ONNX file`);
    bytes = fs.readFileSync(source);
    baseDir ??= path.dirname(path.resolve(source));
  } else {
    label = '<bytes>';
    bytes = source;
  }
  if (bytes.length === 0) throw new ExplainError(`${label}: empty file, not an ONNX model`);
  let model: ModelProto;
  try {
    model = decodeModel(bytes);
  } catch (e) {
    throw new ExplainError(`${label}: not an ONNX model or truncated file (${(e as Error).message})`);
  }
  const graph = model.graph;
  if (!graph || !graph.node?.length || !model.opset_import?.length || toNumber(model.ir_version) <= 0) {
    throw new ExplainError(`${label}: not an ONNX model (no graph, nodes, opset_import or ir_version)`);
  }
  for (const t of graph.initializer ?? []) {
    if (t.data_location === 1) readExternal(t, label, baseDir);
  }
  return model;
}

function readExternal(t: TensorProto, label: string, baseDir: string | undefined): void {
  const info = new Map((t.external_data ?? []).map((e) => [e.key ?? '', e.value ?? '']));
  const location = info.get('location');
  if (!location) throw new ExplainError(`${label}: initializer '${t.name}' has external data without a location`);
  if (!baseDir) throw new ExplainError(`${label}: initializer '${t.name}' uses external data '${location}'; load from a path or pass baseDir`);
  if (path.isAbsolute(location)) {
    throw new ExplainError(`${label}: initializer '${t.name}' external data location '${location}' is an absolute path; it must stay inside the model's folder`);
  }
  const root = path.resolve(baseDir);
  const file = path.resolve(root, location);
  const escapes = (from: string, to: string) => {
    const rel = path.relative(from, to);
    return rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel);
  };
  if (escapes(root, file)) {
    throw new ExplainError(`${label}: initializer '${t.name}' external data location '${location}' escapes the model's folder`);
  }
  if (!fs.existsSync(file)) throw new ExplainError(`${label}: initializer '${t.name}' external data file '${location}' not found`);
  if (escapes(fs.realpathSync(root), fs.realpathSync(file))) {
    throw new ExplainError(`${label}: initializer '${t.name}' external data location '${location}' links outside the model's folder`);
  }
  const size = fs.statSync(file).size;
  const whole = (key: string, fallback: number) => {
    const v = info.has(key) ? Number(info.get(key)) : fallback;
    if (!Number.isSafeInteger(v) || v < 0) throw new ExplainError(`${label}: initializer '${t.name}' external data ${key} '${info.get(key)}' is not a non-negative integer`);
    return v;
  };
  const offset = whole('offset', 0);
  const length = whole('length', Math.max(0, size - offset));
  if (offset + length > size) throw new ExplainError(`${label}: initializer '${t.name}' external data '${location}' is shorter than offset+length`);
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(length);
    fs.readSync(fd, buf, 0, length, offset);
    t.raw_data = buf;
  } finally {
    fs.closeSync(fd);
  }
  delete t.external_data;
  t.data_location = 0;
}

export function saveModel(model: ModelProto, file: string): void {
  fs.writeFileSync(file, encodeModel(model));
}
