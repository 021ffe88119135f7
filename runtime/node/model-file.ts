import * as fs from 'fs';
import * as path from 'path';
import { ExplainError } from '../../rewriter/errors';
import { parseModel } from '../../rewriter/model-io';
import { encodeModel, ModelProto, TensorProto } from '../../rewriter/proto';
import type { ModelBytes } from '../backend';
import { readFully, readRegularFile, writeFileAtomic } from './files';

/** Protobuf's limit on one message, so on an ONNX file without external data. */
const MAX_PROTOBUF_BYTES = 2 ** 31 - 1;

/**
 * Loads an ONNX model from a path or bytes; external-data tensors are read from `baseDir` (default:
 * the model's folder); `read` receives the bytes parsed and the external tensors' (a graph cache's
 * identity of the model: reading the file again could see another model saved meanwhile).
 */
export function loadModel(source: string | Uint8Array, options: { baseDir?: string; read?: ModelBytes } = {}): ModelProto {
  const size = typeof source === 'string' ? fs.statSync(source, { throwIfNoEntry: false })?.size ?? 0 : source.length;
  if (size > MAX_PROTOBUF_BYTES) throw new ExplainError(`${typeof source === 'string' ? source : '<bytes>'}: ${size} bytes, over protobuf's 2 GiB limit for one message: a model this large keeps its weights as external data (onnx.save_model(model, path, save_as_external_data=True))`);
  const bytes = typeof source === 'string' ? readRegularFile(source) : source;
  if (options.read) options.read.model = bytes;
  const baseDir = options.baseDir ?? (typeof source === 'string' ? path.dirname(path.resolve(source)) : undefined);
  return parseModel(bytes, typeof source === 'string' ? source : '<bytes>', baseDir === undefined ? undefined : externalReader(baseDir, options.read?.external));
}

export function saveModel(model: ModelProto, file: string): void {
  writeFileAtomic(file, encodeModel(model));
}

/** Reads external data confined to `baseDir` (no absolute locations, no escaping through .. or links). */
function externalReader(baseDir: string, external?: Uint8Array[]) {
  return (t: TensorProto, label: string): void => {
    const info = new Map((t.external_data ?? []).map((e) => [e.key ?? '', e.value ?? '']));
    const location = info.get('location');
    if (!location) throw new ExplainError(`${label}: tensor '${t.name}' has external data without a location`);
    if (path.isAbsolute(location)) {
      throw new ExplainError(`${label}: tensor '${t.name}' external data location '${location}' is an absolute path; it must stay inside the model's folder`);
    }
    const root = path.resolve(baseDir);
    const file = path.resolve(root, location);
    const escapes = (from: string, to: string) => {
      const rel = path.relative(from, to);
      return rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel);
    };
    if (escapes(root, file)) {
      throw new ExplainError(`${label}: tensor '${t.name}' external data location '${location}' escapes the model's folder`);
    }
    if (!fs.existsSync(file)) throw new ExplainError(`${label}: tensor '${t.name}' external data file '${location}' not found`);
    if (escapes(fs.realpathSync(root), fs.realpathSync(file))) {
      throw new ExplainError(`${label}: tensor '${t.name}' external data location '${location}' links outside the model's folder`);
    }
    const st = fs.statSync(file);
    if (!st.isFile()) throw new ExplainError(`${label}: tensor '${t.name}' external data '${location}' is not a regular file`);
    const size = st.size;
    const whole = (key: string, fallback: number) => {
      const v = info.has(key) ? Number(info.get(key)) : fallback;
      if (!Number.isSafeInteger(v) || v < 0) throw new ExplainError(`${label}: tensor '${t.name}' external data ${key} '${info.get(key)}' is not a non-negative integer`);
      return v;
    };
    const offset = whole('offset', 0);
    const length = whole('length', Math.max(0, size - offset));
    if (offset + length > size) throw new ExplainError(`${label}: tensor '${t.name}' external data '${location}' is shorter than offset+length`);
    const fd = fs.openSync(file, 'r');
    try {
      const buf = new Uint8Array(length);
      readFully(fd, buf, offset, file);
      t.raw_data = buf;
      external?.push(buf);
    } finally {
      fs.closeSync(fd);
    }
  };
}
