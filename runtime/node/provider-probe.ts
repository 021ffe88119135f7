import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DataType, encodeModel, ModelProto, valueInfo } from '../../rewriter/proto';

/**
 * Providers whose start in this process could print native lines on stderr: onnxruntime-node's
 * WebGPU EP initialises Dawn, whose Vulkan backend writes adapter warnings (e.g. "Vulkan
 * shaderUniform*ArrayDynamicIndexing required" for Mesa's lavapipe) and Mesa its own errors
 * straight to file descriptor 2, past onnxruntime's log level. They are started first in a child
 * process whose stderr is discarded; only a provider that starts there is started here.
 */
const PROBED = new Set(['webgpu']);
const TIMEOUT_MS = 60_000;
const verdicts = new Map<string, Promise<string | undefined>>();

/** A one-Relu model: enough for a provider to create its device and compile a kernel. */
function probeModel(): Uint8Array {
  const model: ModelProto = {
    ir_version: 8,
    opset_import: [{ domain: '', version: 13 }],
    graph: {
      name: 'probe', node: [{ name: 'relu', op_type: 'Relu', input: ['x'], output: ['y'] }],
      input: [valueInfo('x', DataType.FLOAT, [1])], output: [valueInfo('y', DataType.FLOAT, [1])],
    },
  };
  return encodeModel(model);
}

const CHILD = `
const ort = require(process.argv[1]);
ort.env.logLevel = 'fatal';
ort.InferenceSession.create(Buffer.from(process.argv[3], 'base64'), { executionProviders: [process.argv[2]], logSeverityLevel: 4 })
  .then((s) => s.run({ x: new ort.Tensor('float32', new Float32Array([1]), [1]) }))
  .then(() => process.exit(0), (e) => { process.stdout.write(String((e && e.message) || e).split('\\n')[0]); process.exit(1); });`;

/** Why `provider` cannot start (its error's first line), or undefined when it can or needs no probe. */
export function probeProvider(provider: string): Promise<string | undefined> {
  if (!PROBED.has(provider)) return Promise.resolve(undefined);
  let verdict = verdicts.get(provider);
  if (!verdict) {
    verdict = new Promise((resolve) => {
      const args = ['-e', CHILD, require.resolve('onnxruntime-node'), provider, Buffer.from(probeModel()).toString('base64')];
      const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'ignore'] });
      let reason = '';
      child.stdout.on('data', (d: Buffer) => { reason += d.toString(); });
      const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS);
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        if (code === 0) privateRuntimeDir();
        resolve(code === 0 ? undefined : reason.trim() || (signal ? `its start was ended by ${signal}` : `its start failed (exit ${code})`));
      });
      child.on('error', (e) => { clearTimeout(timer); resolve(e.message); });
    });
    verdicts.set(provider, verdict);
  }
  return verdict;
}

/**
 * Dawn's Vulkan stack (SwiftShader, Mesa) prints "error: XDG_RUNTIME_DIR is invalid or not set in
 * the environment." on stderr, twice, where the variable is missing (a server, a container, CI),
 * though the run succeeds: before the provider starts here the process gets a private one (created
 * with mode 0700, removed at exit).
 */
function privateRuntimeDir(): void {
  const dir = process.env.XDG_RUNTIME_DIR;
  if (dir && fs.existsSync(dir)) return;
  const made = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-explain-runtime-'));
  process.env.XDG_RUNTIME_DIR = made;
  process.once('exit', () => fs.rmSync(made, { recursive: true, force: true }));
}
