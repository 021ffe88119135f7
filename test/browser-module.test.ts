import * as fs from 'fs';
import * as path from 'path';
import type { Page } from 'playwright-core';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Explainer, maximize, readNpy, TensorData } from '../runtime';
import { drivers } from '../runtime/drivers';
import { methodNames } from '../rules/methods';
import { BrowserSession, browserMissing, openPage } from '../examples/web/headless';
import { ROOT } from '../examples/web/serve';
import { loadModel } from '../runtime/node/model-file';
import { relL2 } from './support/fixtures';
import { skip } from './support/skip';
import { indexMath } from './support/webgpu-native';
import { decodeModel } from '../rewriter/proto';

// dist/browser/onnx-explain.mjs in headless Chromium against onnxruntime-node CPU: every method on
// two fixtures, on WASM and on WebGPU (SwiftShader: correctness only), plus WebGPU placement from
// onnxruntime's verbose log and the fallback when the page has no WebGPU adapter.
// Both have Conv, ReLU, a global average pool and a linear head (CAM needs them); resnet_bn adds
// BatchNormalization and residual sums, cam_gap MaxPool.
const FIXTURES: Record<string, { dir: string; layer: string }> = {
  resnet_bn: { dir: 'models/fixtures/resnet_bn', layer: '/body/body.4/relu2/Relu_output_0' },
  cam_gap: { dir: 'models/cam-fixtures/cam_gap', layer: '/body/body.7/Relu_output_0' },
};
/** Every method, plus options that change how a method runs (noise tunnel, layer attribution) and maximize. */
const METHODS = [...Object.keys(drivers), 'smoothgrad', 'layer-deeplift', 'maximize'];
/** Options the methods need beyond a target, sized for the fixtures' [3, 16, 16] rows. */
const PATCHES = { data: Array.from({ length: 256 }, (_, i) => 4 * Math.floor(i / 64) + Math.floor((i % 16) / 4)), dims: [1, 1, 16, 16] };
const QUADRANTS = { data: Array.from({ length: 256 }, (_, i) => 2 * Math.floor(i / 128) + Math.floor((i % 16) / 8)), dims: [1, 1, 16, 16] };
const BASELINES = { data: Array.from({ length: 2 * 768 }, (_, i) => Math.sin(i) * 0.5), dims: [2, 3, 16, 16] };
function methodOptions(name: string): Record<string, object> {
  const { layer } = FIXTURES[name];
  return {
    occlusion: { window: [3, 4, 4], stride: [3, 4, 4], fill: 'random', seed: 7 },
    'feature-ablation': { featureMask: PATCHES },
    'feature-permutation': { featureMask: PATCHES, seed: 4 },
    'shapley-values': { featureMask: QUADRANTS },
    'shapley-value-sampling': { featureMask: QUADRANTS, samples: 2, seed: 6 },
    'kernel-shap': { featureMask: QUADRANTS, samples: 12, seed: 8 },
    lime: { featureMask: QUADRANTS, samples: 12, seed: 9 },
    'deeplift-shap': { baseline: BASELINES },
    'gradient-shap': { baseline: BASELINES, samples: 2, seed: 3 },
    'grad-cam': { layer },
    'guided-grad-cam': { layer },
    'layer-activation': { layer },
    'internal-influence': { layer, steps: 4 },
    'layer-conductance': { layer, steps: 4 },
    'neuron-conductance': { layer, neuron: 0, steps: 4 },
    'integrated-gradients': { steps: 8 },
    'lrp-epsilon-gamma-box': { boxLow: -3, boxHigh: 3 },
    smoothgrad: { method: 'gradient', noiseTunnel: 'smoothgrad', samples: 3, seed: 5 },
    'layer-deeplift': { method: 'deeplift', layer },
    maximize: { target: 1, stages: 2, steps: 3, seed: 9 },
  };
}

function fixture(name: string): { model: string; input: TensorData; target: number[] } {
  const dir = path.join(ROOT, FIXTURES[name].dir);
  const x = readNpy(path.join(dir, 'input.npy'));
  return { model: path.join(dir, 'model.onnx'), input: { data: x.data as Float32Array, dims: x.dims }, target: JSON.parse(fs.readFileSync(path.join(dir, 'meta.json'), 'utf8')).target };
}

interface PageRun { attributions: Record<string, number[]>; warnings: string[] }

/** The warnings but LIME's note that its Lasso zeroed a row (these fixtures' logits vary too little for α, on Node too). */
const notLime = (warnings: string[]) => warnings.filter((w) => !/: lime: the Lasso .* set every coefficient/.test(w));
/** One run of a text model in the page: an explainer (joint over `wrt`), options, and the reference files its attributions match (by input name; '' for one input). */
interface TextCase { wrt?: string[]; zeroIds?: boolean; options: { method?: string; steps?: number; baselineToken?: number }; want?: Record<string, string> }
const MARK = 'onnx-explain-test: webgpu session';

/** In the page (test/support/browser-harness.mjs): every method on one fixture. */
function runInPage(page: Page, name: string, provider: string, verbose: boolean): Promise<PageRun> {
  const args = JSON.stringify({ dir: FIXTURES[name].dir, provider, methods: METHODS, options: methodOptions(name), target: fixture(name).target, verbose });
  return page.evaluate(`import('/test/support/browser-harness.mjs').then((h) => h.run(${args}))`);
}

async function cpuReference(name: string): Promise<Record<string, Float32Array>> {
  const fx = fixture(name);
  const ex = await Explainer.load(fx.model);
  const out: Record<string, Float32Array> = {};
  for (const method of METHODS) {
    const options = methodOptions(name)[method];
    // Layer activation explains no output: it takes no target (Captum's LayerActivation).
    out[method] = method === 'maximize' ? (await maximize(ex, options)).image.data : (await ex.attribute(fx.input, { method, ...(method === 'layer-activation' ? {} : { target: fx.target }), ...options })).attributions.data;
  }
  return out;
}

function assertSame(got: Record<string, number[]>, want: Record<string, Float32Array>, where: string): void {
  for (const method of METHODS) {
    const err = relL2(got[method], want[method]);
    assert.ok(err <= 1e-4, `${where} × ${method}: rel L2 ${err} vs onnxruntime-node CPU`);
  }
}

/** The console lines of each webgpu session the harness logged verbosely. */
function sessionLogs(consoleLines: string[]): string[][] {
  const sessions: string[][] = [];
  for (const line of consoleLines) {
    if (line === `${MARK} begin`) sessions.push([]);
    else if (line !== `${MARK} end` && sessions.length) sessions[sessions.length - 1].push(line);
  }
  return sessions;
}

/** Nodes a verbose session log places on an EP other than WebGPU ("Node(s) placed on [EP]" blocks). */
function offWebGpu(lines: string[]): string[] {
  if (lines.some((l) => l.includes('All nodes placed on [WebGpuExecutionProvider]'))) return [];
  const off: string[] = [];
  let ep = '';
  for (const line of lines) {
    const text = /VerifyEachNodeIsAssignedToAnEp\] (.*)$/.exec(line)?.[1] ?? '';
    const header = /placed on \[(\w+)\]/.exec(text);
    if (header) ep = header[1];
    else if (ep && ep !== 'WebGpuExecutionProvider' && /^\s{2}\S/.test(text)) off.push(`${ep}: ${text.trim()}`);
  }
  return off.length || lines.length ? off : ['no placement lines in the verbose log'];
}

const missing = browserMissing();
if (missing) {
  for (const name of Object.keys(FIXTURES)) for (const provider of ['wasm', 'webgpu']) skip(test, `browser module: ${name} × every method on ${provider}`, missing);
  skip(test, 'browser module: scripted_loop (a Loop carrying a sequence) on wasm and webgpu', missing);
  for (const name of ['bert_op17', 'gpt2_op14']) skip(test, `browser module: ${name} (int64 token inputs) on wasm and webgpu`, missing);
  skip(test, 'browser module: webgpu without an adapter falls back to wasm with a warning', missing);
  skip(test, 'browser module: an Explainer loaded without a provider runs on wasm, with no warning', missing);
} else {
  let session: BrowserSession;
  test.before(async () => { session = await openPage(); });
  test.after(async () => { await session?.close(); });

  for (const name of Object.keys(FIXTURES)) {
    test(`browser module: ${name} × every method on wasm equals Node CPU`, async () => {
      const run = await runInPage(session.page, name, 'wasm', false);
      assertSame(run.attributions, await cpuReference(name), `${name} wasm`);
      assert.equal(notLime(run.warnings), []);
    });
    test(`browser module: ${name} × every method on webgpu equals Node CPU, every node on WebGpuExecutionProvider`, async () => {
      const from = session.console.length;
      const run = await runInPage(session.page, name, 'webgpu', true);
      const placements = sessionLogs(session.console.slice(from));
      assert.equal(notLime(run.warnings), [], 'no fallback');
      assertSame(run.attributions, await cpuReference(name), `${name} webgpu`);
      assert.ok(placements.length >= methodNames.length, `${placements.length} WebGPU sessions for ${methodNames.length} augmented-graph methods`);
      placements.forEach((lines, k) => assert.equal(offWebGpu(lines), [], `session ${k}`));
    });
  }

  // The default provider was 'cpu', which the browser has not: every result carried a fallback warning.
  test('browser module: an Explainer loaded without a provider runs on wasm, with no warning', async () => {
    const fx = fixture('resnet_bn');
    const args = JSON.stringify({ dir: FIXTURES.resnet_bn.dir, methods: ['gradient'], options: {}, target: fx.target });
    const run: PageRun & { executionProvider: string } = await session.page.evaluate(`import('/test/support/browser-harness.mjs').then((h) => h.run(${args}))`);
    assert.equal(run.warnings, []);
    assert.is(run.executionProvider, 'wasm');
    const want = (await (await Explainer.load(fx.model)).attribute(fx.input, { target: fx.target })).attributions.data;
    assert.ok(relL2(run.attributions.gradient, want) <= 1e-5, `rel L2 ${relL2(run.attributions.gradient, want)}`);
  });

  // A model read with its loops written out (torch.jit.script: a Loop carrying a sequence): the
  // probe runs it as exported on WASM; the augmented graphs hold no Loop and run on WebGPU.
  test('browser module: scripted_loop (a Loop carrying a sequence) × gradient, DeepLIFT, IG on wasm and webgpu equals Node CPU, every node on WebGpuExecutionProvider', async () => {
    const dir = 'models/fixtures/scripted_loop';
    const x = readNpy(path.join(ROOT, dir, 'input.npy'));
    const target: number[] = JSON.parse(fs.readFileSync(path.join(ROOT, dir, 'meta.json'), 'utf8')).target;
    const methods = ['gradient', 'deeplift', 'integrated-gradients'];
    const options = { 'integrated-gradients': { steps: 4 } };
    const ex = await Explainer.load(path.join(ROOT, dir, 'model.onnx'));
    const modelNodes = new Set(loadModel(path.join(ROOT, dir, 'model.onnx')).graph!.node!.map((n) => n.name));
    const want: Record<string, Float32Array> = {};
    for (const method of methods) want[method] = (await ex.attribute({ data: x.data as Float32Array, dims: x.dims }, { method, target, ...(options as Record<string, object>)[method] })).attributions.data;
    for (const provider of ['wasm', 'webgpu']) {
      const from = session.console.length;
      const run: PageRun = await session.page.evaluate(`import('/test/support/browser-harness.mjs').then((h) => h.run(${JSON.stringify({ dir, provider, methods, options, target, verbose: provider === 'webgpu' })}))`);
      assert.equal(run.warnings, []);
      for (const method of methods) assert.ok(relL2(run.attributions[method], want[method]) <= 1e-4, `${provider} × ${method}: rel L2 ${relL2(run.attributions[method], want[method])}`);
      // The model's own Gather h[:, 0] (and its copies on the reference and path points) runs on the
      // CPU; every node onnx-explain adds runs on WebGPU.
      if (provider === 'webgpu') {
        const sessions = sessionLogs(session.console.slice(from));
        assert.ok(sessions.length >= methods.length, `${sessions.length} WebGPU sessions`);
        const own = (entry: string) => modelNodes.has((/\((.*)\)$/.exec(entry)?.[1] ?? '').replace(/^(ref|path)\//, ''));
        sessions.forEach((lines, k) => assert.equal(offWebGpu(lines).filter((entry) => !own(entry)), [], `session ${k}`));
      }
    }
  });

  // Text models (transformers.js's use: token ids, an attention mask and token types as int64
  // inputs) against PyTorch's float64 autograd (models/make_text.py) and DeepLIFT's sums, with
  // WebGPU placement. GPT-2 pools its last non-pad token: DeepLIFT from pad ids copies that Gather.
  const TEXT_CASES: { dir: string; inputs: string[]; runs: TextCase[] }[] = [
    {
      dir: 'models/text/bert_op17', inputs: ['input_ids', 'attention_mask', 'token_type_ids'],
      runs: [
        { options: {}, want: { '': 'grad_embedding' } },
        { wrt: ['input_ids', 'token_type_ids'], zeroIds: true, options: { method: 'integrated-gradients', steps: 8 }, want: { input_ids: 'ig_joint_word', token_type_ids: 'ig_joint_segment' } },
        { wrt: ['input_ids', 'token_type_ids'], zeroIds: true, options: { method: 'deeplift' } },
      ],
    },
    {
      dir: 'models/text/gpt2_op14', inputs: ['input_ids', 'attention_mask'],
      runs: [
        { options: {}, want: { '': 'grad_embedding' } },
        { options: { method: 'integrated-gradients', steps: 16 }, want: { '': 'ig_embedding' } },
        { options: { method: 'deeplift', baselineToken: 0 } },
      ],
    },
  ];
  for (const { dir, inputs, runs } of TEXT_CASES) {
    test(`browser module: ${path.basename(dir)} (int64 token inputs) × ${runs.map((r) => `${r.options.method ?? 'gradient'}${r.wrt ? ' joint' : ''}`).join(', ')} on wasm and webgpu equal PyTorch, DeepLIFT sums to delta, every added node on WebGpuExecutionProvider but maths on integer tensors`, async () => {
      const meta = JSON.parse(fs.readFileSync(path.join(ROOT, dir, 'meta.json'), 'utf8'));
      const npy = (name: string) => readNpy(path.join(ROOT, dir, `${name}.npy`)).data as Float32Array;
      const modelNodes = new Set(loadModel(path.join(ROOT, dir, 'model.onnx')).graph!.node!.map((n) => n.name));
      const pageRuns = runs.map(({ wrt, zeroIds, options }) => ({ wrt, zeroIds, options: { target: meta.target, ...options } }));
      for (const provider of ['wasm', 'webgpu']) {
        const from = session.console.length;
        await session.page.evaluate("import('/test/support/browser-harness.mjs').then((h) => h.takeGraphs())");
        const run: { results: { logits: number[]; attributions: number[] | Record<string, number[]>; delta: number[] }[]; warnings: string[] } = await session.page.evaluate(`import('/test/support/browser-harness.mjs').then((h) => h.runTokens(${JSON.stringify({ dir, provider, inputs, runs: pageRuns, verbose: provider === 'webgpu' })}))`);
        assert.equal(run.warnings, []);
        const near = (got: number[], want: Float32Array, what: string, tol: number) => assert.ok(relL2(got, want) <= tol, `${dir} ${provider} × ${what}: rel L2 ${relL2(got, want)}`);
        near(run.results[0].logits, npy('output'), 'logits', 1e-5);
        runs.forEach(({ want, options }, k) => {
          const got = run.results[k];
          for (const [name, file] of Object.entries(want ?? {})) near(name ? (got.attributions as Record<string, number[]>)[name] : got.attributions as number[], npy(file), `${options.method ?? 'gradient'} ${name}`, 1e-4);
          if (options.method === 'deeplift') got.delta.forEach((delta, r) => assert.ok(Math.abs(delta) <= 1e-5, `${dir} ${provider} × DeepLIFT row ${r}: delta ${delta}`));
        });
        if (provider === 'webgpu') {
          const sessions = sessionLogs(session.console.slice(from));
          assert.ok(sessions.length >= runs.length, `${sessions.length} WebGPU sessions`);
          const own = (entry: string) => modelNodes.has((/\((.*)\)$/.exec(entry)?.[1] ?? '').replace(/^(ref|path)\//, ''));
          // Maths on the model's own integer and boolean tensors (a pick's index, the causal mask) stays on
          // the CPU with them: onnxruntime's WebGPU kernels take no int64.
          const graphs: string[] = await session.page.evaluate("import('/test/support/browser-harness.mjs').then((h) => h.takeGraphs())");
          assert.is(graphs.length, sessions.length);
          const ex = await Explainer.load(path.join(ROOT, dir, 'model.onnx'));
          const { view, facts } = await ex.prepare([readNpy(path.join(ROOT, dir, 'input_ids.npy')).dims[1], ...ex.tokens!.rowDims]);
          sessions.forEach((lines, k) => {
            const indices = indexMath(decodeModel(Buffer.from(graphs[k], 'base64')), view.nodes.length, facts.dtypes);
            const allowed = (entry: string) => own(entry) || indices.has(/\((.*)\)$/.exec(entry)?.[1] ?? '');
            assert.equal(offWebGpu(lines).filter((entry) => !allowed(entry)), [], `${dir} session ${k}`);
          });
        }
      }
    });
  }

  test('browser module: webgpu without an adapter falls back to wasm with a warning', async () => {
    const page = await session.browser.newPage();
    const messages: string[] = [];
    page.on('console', (msg) => messages.push(msg.text()));
    await page.addInitScript('Object.defineProperty(navigator, "gpu", { value: undefined })');
    await page.goto(`${session.url}/test/support/blank.html`);
    const run = await runInPage(page, 'cam_gap', 'webgpu', false);
    await page.close();
    const warnings = notLime(run.warnings);
    assert.is(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0], /execution provider 'webgpu' is unavailable .*falling back to wasm/);
    assert.ok(messages.includes(warnings[0]), 'the warning is also on the console');
    assertSame(run.attributions, await cpuReference('cam_gap'), 'cam_gap fallback');
  });
}

test.run();
