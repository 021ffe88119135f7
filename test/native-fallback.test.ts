import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Explainer } from '../runtime';
import { readNpy } from '../runtime/node/npy-file';
import { oneLine, runCli, tempDir } from './support/cli-harness';
import { loadFixture, relL2 } from './support/fixtures';

// Where npm dropped onnxruntime-node (an optional dependency whose install script failed), the
// Node adapter runs onnxruntime-web's WASM backend: child processes whose require('onnxruntime-node')
// fails must give the native numbers, one warning line, and clean one-line errors.
const ROOT = path.resolve(__dirname, '../..');
const HOOK = path.join(__dirname, 'support', 'without-native-ort.js');
const BIN = path.join(ROOT, 'bin', 'onnx-explain.js');
const NOTICE = /^onnx-explain: warning: onnxruntime-node is not installed .*ONNXRUNTIME_NODE_INSTALL=skip npm install -O -E onnxruntime-node@1\.30\.0` .*=cuda12/;
const METHODS = ['gradient', 'deeplift', 'guided-backprop', 'lrp-epsilon'] as const;
const FIXTURES = ['cnn_maxpool', 'resnet_bn', 'mlp'];

const withoutNative = (args: string[], cwd = ROOT, env: Record<string, string> = {}) =>
  spawnSync(process.execPath, ['--require', HOOK, ...args], { cwd, encoding: 'utf8', timeout: 120_000, env: { ...process.env, ...env } });

const lines = (s: string) => s.split('\n').filter((l) => l.length > 0);

test('API without onnxruntime-node: onnxruntime-web runs every method, equal to the native binding and to autograd', async () => {
  const script = `
    const { Explainer, readNpy } = require(${JSON.stringify(path.join(ROOT, 'dist/runtime'))});
    const { ortApi } = require(${JSON.stringify(path.join(ROOT, 'dist/runtime/backend'))});
    (async () => {
      const results = {}, warnings = [];
      for (const name of ${JSON.stringify(FIXTURES)}) {
        const dir = ${JSON.stringify(path.join(ROOT, 'models/fixtures'))} + '/' + name;
        const meta = JSON.parse(require('fs').readFileSync(dir + '/meta.json', 'utf8'));
        const ex = await Explainer.load(dir + '/model.onnx', { warn: (m) => warnings.push(m) });
        results[name] = {};
        for (const method of ${JSON.stringify(METHODS)})
          results[name][method] = Array.from((await ex.attribute(readNpy(dir + '/input.npy'), { method, target: meta.target })).attributions.data);
      }
      console.log(JSON.stringify({ versions: ortApi().env.versions, warnings, results }));
    })();`;
  const r = withoutNative(['-e', script]);
  assert.is(r.status, 0, r.stderr);
  const child = JSON.parse(r.stdout) as { versions: Record<string, string>; warnings: string[]; results: Record<string, Record<string, number[]>> };
  assert.ok(child.versions.web && !child.versions.node, `onnxruntime-web ran: ${JSON.stringify(child.versions)}`);
  assert.is(child.warnings.length, 1, 'one notice per process');
  assert.match(child.warnings[0], NOTICE);
  for (const name of FIXTURES) {
    const fx = loadFixture(name);
    const ex = await Explainer.load(fx.model);
    const autograd = fx.ref('grad.npy')!;
    assert.ok(relL2(child.results[name].gradient, autograd) <= 1e-4, `${name}: gradient vs autograd ${relL2(child.results[name].gradient, autograd)}`);
    for (const method of METHODS) {
      const native = (await ex.attribute(fx.input, { method, target: fx.meta.target })).attributions.data;
      const err = relL2(child.results[name][method], native);
      assert.ok(err <= 1e-5, `${name} ${method}: WASM vs native rel L2 ${err}`);
    }
  }
});

test('CLI without onnxruntime-node: the same attributions, the notice as the only stderr line; a user mistake is one error line', async () => {
  const fx = loadFixture('cnn_maxpool');
  const dir = tempDir('fallback');
  const args = ['attribute', fx.model, '--input', path.join(path.dirname(fx.model), 'input.npy'), '--method', 'deeplift', '--no-cache'];
  const r = withoutNative([BIN, ...args, '--out', path.join(dir, 'wasm.npy')]);
  assert.is(r.status, 0, r.stderr);
  const err = lines(r.stderr);
  assert.is(err.length, 1, r.stderr);
  assert.match(err[0], NOTICE);
  assert.match(r.stdout, /convergence delta/);
  const native = await runCli([...args, '--out', path.join(dir, 'native.npy')]);
  assert.is(native.code, 0, native.err.join('\n'));
  const a = readNpy(path.join(dir, 'wasm.npy')).data as Float32Array;
  const b = readNpy(path.join(dir, 'native.npy')).data as Float32Array;
  assert.ok(relL2(a, b) <= 1e-5, `rel L2 ${relL2(a, b)}`);

  for (const mistake of [['--method', 'nope'], ['--target', '99']]) {
    const bad = withoutNative([BIN, ...args, ...mistake, '--out', path.join(dir, 'bad.npy')]);
    assert.is(bad.status, 1, `${mistake}: ${bad.stderr}`);
    const e = lines(bad.stderr);
    assert.is(e.length, 1, `${mistake}: ${bad.stderr}`);
    assert.match(e[0], /^onnx-explain: error: /);
    oneLine(e[0], mistake.join(' '));
  }
  assert.not.ok(fs.existsSync(path.join(dir, 'bad.npy')), 'no file written on an error');
  fs.rmSync(dir, { recursive: true, force: true });
});

test('onnxruntime-node installed but not loadable (a missing library) is said so, not "not installed"; a WASM runtime that cannot start is one line that does not blame the model', () => {
  const fx = loadFixture('cnn_maxpool');
  const args = [BIN, 'attribute', fx.model, '--input', path.join(path.dirname(fx.model), 'input.npy'), '--no-cache'];
  const broken = withoutNative(args, ROOT, { ORT_NODE_LOAD_ERROR: 'libonnxruntime.so.1: cannot open shared object file: No such file or directory' });
  assert.is(broken.status, 0, broken.stderr);
  assert.equal(lines(broken.stderr).map((l) => l.replace(/, running on .*/, '')), ['onnx-explain: warning: onnxruntime-node cannot load here (libonnxruntime.so.1: cannot open shared object file: No such file or directory)']);
  // onnxruntime-web's .mjs/.wasm not found (Yarn PnP without its ESM loader): it refused the model.
  const script = `
    require('onnxruntime-web').env.wasm.wasmPaths = '/nonexistent/';
    process.argv = [process.argv[0], ${JSON.stringify(BIN)}, ...${JSON.stringify(args.slice(1))}];
    require(${JSON.stringify(BIN)});`;
  const r = withoutNative(['-e', script]);
  assert.is(r.status, 1, r.stderr);
  const err = lines(r.stderr);
  assert.is(err.length, 1, r.stderr);
  assert.match(err[0], /^onnx-explain: error: onnxruntime-node is not installed, and onnxruntime-web's WebAssembly runtime could not start in this process \(.*\): install the native binding/);
});

// onnxruntime-web's one WebAssembly instance: two creations at once lost the second's external
// weights ("Module.MountedFiles is not available"), a few runs at once read freed memory, and 50
// hung the process in a futex wait.
test('API without onnxruntime-node: calls at once (new sessions, then 24 runs of warm ones) equal the same calls one at a time', async () => {
  const script = `
    const { Explainer, readNpy } = require(${JSON.stringify(path.join(ROOT, 'dist/runtime'))});
    (async () => {
      const dir = ${JSON.stringify(path.join(ROOT, 'models/fixtures/resnet_bn'))};
      const x = readNpy(dir + '/input.npy');
      const calls = Array.from({ length: 24 }, (_, i) => ({ method: ['gradient', 'deeplift', 'integrated-gradients'][i % 3], target: i % 5, ...(i % 3 === 2 ? { steps: 5 } : {}) }));
      const ex = await Explainer.load(dir + '/model.onnx', { warn: () => undefined });
      const cold = await Promise.all(calls.slice(0, 3).map((o) => ex.attribute(x, o)));
      const warm = await Promise.all(calls.map((o) => ex.attribute(x, o)));
      const alone = [];
      for (const o of calls) alone.push(await ex.attribute(x, o));
      const same = (a, b) => a.attributions.data.every((v, k) => v === b.attributions.data[k]);
      console.log(JSON.stringify({ cold: cold.every((r, i) => same(r, alone[i])), warm: warm.every((r, i) => same(r, alone[i])) }));
    })();`;
  const r = withoutNative(['-e', script]);
  assert.is(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout), { cold: true, warm: true });
});

test.run();
