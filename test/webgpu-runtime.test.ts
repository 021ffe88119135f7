import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Explainer } from '../runtime/explainer';
import { loadFixture, relL2 } from './support/fixtures';

// onnxruntime-node's webgpu EP runs on CPU-only machines through Chromium's SwiftShader Vulkan
// driver (Debian package chromium): correct but slow, so a few small models only.
const ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
const CHILD = path.join(__dirname, 'support', 'webgpu-child.js');

if (!fs.existsSync(ICD)) {
  console.log(`webgpu-runtime: skipped, ${ICD} not found (apt-get install chromium)`);
} else {
  // mobilenet is left out: onnxruntime-node 1.30's WebGPU EP computes the model's own grouped Conv
// (16→24 channels, group 4) wrongly, before any emitted node.
  for (const [name, method] of [['resnet_bn', 'gradient'], ['resnet_bn', 'deeplift'], ['cnn_maxpool', 'lrp-epsilon'], ['cnn_maxpool', 'guided-backprop'], ['transformer', 'deeplift'], ['conv1d_onehot', 'deeplift']]) {
    test(`${name} × ${method} on the WebGPU EP: every emitted node placed on WebGPU, same numbers as CPU`, async () => {
      const child = spawnSync(process.execPath, [CHILD, name, method], {
        env: { ...process.env, VK_ICD_FILENAMES: ICD }, encoding: 'utf8', maxBuffer: 64 << 20, timeout: 120_000,
      });
      assert.is(child.status, 0, child.stderr.split('\n').filter((l) => l.includes('child failed')).join('\n'));
      const onCpu = child.stderr.split('\n').filter((l) => /VerifyEachNodeIsAssignedToAnEp\]\s{3}\S/.test(l) && l.includes('xpl/'));
      assert.ok(/placed on \[WebGpuExecutionProvider\]/.test(child.stderr), 'WebGPU EP took nodes');
      assert.equal(onCpu, [], 'emitted nodes that fell back to the CPU');
      const fx = loadFixture(name);
      const cpu = await (await Explainer.load(fx.model)).attribute(fx.input, { method, target: fx.meta.target });
      const gpu = Float32Array.from(JSON.parse(child.stdout) as number[]);
      assert.ok(relL2(gpu, cpu.attributions.data) <= 1e-4, `rel L2 ${relL2(gpu, cpu.attributions.data)}`);
    });
  }
}

test.run();
