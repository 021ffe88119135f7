import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadFixture } from './support/fixtures';
import { skip } from './support/skip';

// Mesa's lavapipe is a Vulkan driver Dawn rejects: started in this process, the WebGPU EP would
// print Dawn's adapter warning (and Mesa's XDG_RUNTIME_DIR error) on stderr. The child-process
// probe keeps them off: stderr holds our one fallback warning, and the result is the CPU's.
const LAVAPIPE = '/usr/share/vulkan/icd.d/lvp_icd.x86_64.json';
const BIN = path.resolve(__dirname, '../../bin/onnx-explain.js');
const title = '--provider webgpu without a usable adapter: one warning line on stderr, the CPU result';

if (!fs.existsSync(LAVAPIPE)) {
  skip(test, title, `${LAVAPIPE} not found (apt-get install mesa-vulkan-drivers)`);
} else {
  test(title, () => {
    const fx = loadFixture('mlp');
    const env: NodeJS.ProcessEnv = { ...process.env, VK_ICD_FILENAMES: LAVAPIPE };
    delete env.XDG_RUNTIME_DIR;
    const run = (provider: string) => spawnSync(process.execPath, [BIN, 'attribute', fx.model, '--input', path.join(path.dirname(fx.model), 'input.npy'), '--provider', provider, '--no-cache'], { env, encoding: 'utf8', timeout: 120_000 });
    const gpu = run('webgpu');
    assert.is(gpu.status, 0, gpu.stderr);
    const lines = gpu.stderr.split('\n').filter((l) => l.trim());
    assert.is(lines.length, 1, gpu.stderr);
    assert.match(lines[0], /^onnx-explain: warning: execution provider 'webgpu' is unavailable .*falling back to cpu$/);
    assert.is(gpu.stdout, run('cpu').stdout);
  });
}

const SWIFTSHADER = '/usr/lib/chromium/vk_swiftshader_icd.json';
const quiet = '--provider webgpu on SwiftShader with XDG_RUNTIME_DIR unset (a server, CI): nothing on stderr, the private folder removed at exit';
if (!fs.existsSync(SWIFTSHADER)) {
  skip(test, quiet, `${SWIFTSHADER} not found (apt-get install chromium)`);
} else {
  test(quiet, () => {
    const fx = loadFixture('mlp');
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-explain-xdg-test-'));
    const env: NodeJS.ProcessEnv = { ...process.env, VK_ICD_FILENAMES: SWIFTSHADER, TMPDIR: tmp };
    delete env.XDG_RUNTIME_DIR;
    const run = spawnSync(process.execPath, [BIN, 'attribute', fx.model, '--input', path.join(path.dirname(fx.model), 'input.npy'), '--provider', 'webgpu', '--no-cache'], { env, encoding: 'utf8', timeout: 300_000 });
    assert.is(run.status, 0, run.stderr);
    assert.is(run.stderr, '');
    assert.match(run.stdout, /attribution \(gradient\)/);
    assert.equal(fs.readdirSync(tmp).filter((f) => f.startsWith('onnx-explain-runtime-')), []);
    fs.rmSync(tmp, { recursive: true, force: true });
  });
}

test.run();
