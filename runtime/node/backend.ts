import * as os from 'os';
import { Backend, oneCallAtATime, OrtApi, setBackend } from '../backend';
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
  try {
    native = require('onnxruntime-node') as OrtApi;
  } catch {
    // Not installed: onnxruntime-web below.
  }
  if (native) return { ort: native, providers: ['cpu', 'cuda', 'webgpu'], fallback: 'cpu', memoryBudget, loadModel, optimizedModels: true, probe: probeProvider, cpuThreads: physicalCores() };
  const web = require('onnxruntime-web') as OrtApi;
  return {
    ort: oneCallAtATime(web),
    // onnxruntime-web runs 'cpu' sessions on its WASM backend.
    providers: ['cpu', 'wasm'],
    fallback: 'cpu',
    memoryBudget,
    loadModel,
    notice: `onnx-explain: warning: onnxruntime-node is not installed (its install script fails without internet access to NuGet), running on onnxruntime-web's slower WASM backend; for the native binding run \`ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node@${ownManifest().optionalDependencies?.['onnxruntime-node']}\` (\`=cuda12\` for CUDA, with internet)`,
  };
}

setBackend(nodeBackend());
