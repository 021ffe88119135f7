// Loaded with `node --require`: makes require('onnxruntime-node') fail as it does where npm dropped
// the optional dependency (its install script failed), to test the onnxruntime-web fallback; with
// ORT_NODE_LOAD_ERROR set, as it fails where it is installed but cannot load (a missing library).
import Module = require('module');

const loader = Module as unknown as { _load(request: string, ...rest: unknown[]): unknown };
const load = loader._load;
loader._load = function (this: unknown, request: string, ...rest: unknown[]) {
  if (request === 'onnxruntime-node' && process.env.ORT_NODE_LOAD_ERROR) throw Object.assign(new Error(process.env.ORT_NODE_LOAD_ERROR), { code: 'ERR_DLOPEN_FAILED' });
  if (request === 'onnxruntime-node') throw Object.assign(new Error("Cannot find module 'onnxruntime-node'\nRequire stack:\n- x.js"), { code: 'MODULE_NOT_FOUND' });
  return load.call(this, request, ...rest);
};
