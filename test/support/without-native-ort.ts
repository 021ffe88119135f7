// Loaded with `node --require`: makes require('onnxruntime-node') fail as it does where npm dropped
// the optional dependency (its install script failed), to test the onnxruntime-web fallback.
import Module = require('module');

const loader = Module as unknown as { _load(request: string, ...rest: unknown[]): unknown };
const load = loader._load;
loader._load = function (this: unknown, request: string, ...rest: unknown[]) {
  if (request === 'onnxruntime-node') throw Object.assign(new Error("Cannot find module 'onnxruntime-node'"), { code: 'MODULE_NOT_FOUND' });
  return load.call(this, request, ...rest);
};
