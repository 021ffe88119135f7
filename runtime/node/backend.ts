import * as os from 'os';
import { Backend, oneCallAtATime, OrtApi, runtimeStartCause, setBackend } from '../backend';
import { physicalCores } from './cores';
import { ownManifest } from './manifest';
import { loadModel } from './model-file';
import { probeProvider } from './provider-probe';

/**
 * onnxruntime-node is an optional dependency: npm drops it when its install script fails (it
 * downloads CUDA files from NuGet), so an install needs only the npm registry. Without it the
 * sessions run on onnxruntime-web's WASM backend in Node (the same graphs and numbers, about 10×
 * slower), and the first session prints how to get the native binding.
 */
function nodeBackend(): Backend {
  const memoryBudget = os.totalmem() / 4;
  let native: OrtApi | undefined;
  let broken: string | undefined;
  try {
    native = require('onnxruntime-node') as OrtApi;
  } catch (e) {
    // Not installed (onnxruntime-web below), or installed but not loadable here (another libc or CPU architecture, a missing library).
    const notInstalled = (e as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' && /'onnxruntime-node'/.test(String((e as Error).message));
    if (!notInstalled) broken = String((e as Error)?.message ?? e).split('\n')[0];
  }
  if (native) return { ort: native, providers: ['cpu', 'cuda', 'webgpu'], fallback: 'cpu', memoryBudget, loadModel, optimizedModels: true, probe: probeProvider, cpuThreads: physicalCores() };
  const web = require('onnxruntime-web') as OrtApi;
  const version = ownManifest().optionalDependencies?.['onnxruntime-node'];
  const what = broken ? 'onnxruntime-node cannot load here' : 'onnxruntime-node is not installed';
  const why = `${what} (${broken ?? 'its install script fails without internet access to NuGet'})`;
  return {
    ort: oneCallAtATime(web),
    // onnxruntime-web runs 'cpu' sessions on its WASM backend.
    providers: ['cpu', 'wasm'],
    fallback: 'cpu',
    memoryBudget,
    loadModel,
    // -O -E: kept optional and pinned, so that a later install without the variable drops it again rather than failing.
    notice: `onnx-explain: warning: ${why}, running on onnxruntime-web's slower WASM backend; for the native binding run \`ONNXRUNTIME_NODE_INSTALL=skip npm install -O -E onnxruntime-node@${version}\` (with -g for a global onnx-explain; \`=cuda12\` for CUDA, with internet)`,
    startFailure: (e) => {
      // onnxruntime-web runs 'cpu' sessions on its WASM backend, which names itself 'cpu' there.
      const cause = runtimeStartCause(e, 'cpu');
      return cause === undefined ? undefined : `${what}, and onnxruntime-web's WebAssembly runtime could not start in this process (${cause}): install the native binding (\`ONNXRUNTIME_NODE_INSTALL=skip npm install -O -E onnxruntime-node@${version}\`), or under Yarn Plug'n'Play run through \`yarn node\` (it loads .pnp.loader.mjs for onnxruntime-web's ES modules)`;
    },
  };
}

setBackend(nodeBackend());
