import * as fs from 'fs';
import * as path from 'path';
import { PNG } from 'pngjs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ROOT } from '../examples/web/serve';
import { decodeModel } from '../rewriter/proto';
import { Explainer, parseNpy, visualize } from '../runtime';
import { imageToTensor } from '../runtime/image';
import { readImage } from '../runtime/node/image-file';
import { BrowserSession, browserMissing, openPage } from '../examples/web/headless';
import { relL2 } from './support/fixtures';
import { skip } from './support/skip';

// examples/web driven end to end in headless Chromium: drop the digits model, pick an image, explain
// with DeepLIFT on wasm; the drawn overlay, the downloads and the numbers shown are checked
// against onnxruntime-node CPU and runtime/visualize's figure computed here.
const TITLE = 'web page: drop a model and an image, DeepLIFT overlay drawn, downloads equal Node CPU; feature ablation over patches and Grad-CAM at a listed layer';
const MODEL = path.join(ROOT, 'models', 'digits', 'model.onnx');
const IMAGE = path.join(ROOT, 'examples', 'web', 'digit-3.png');

async function download(s: BrowserSession, button: string): Promise<Uint8Array> {
  const [d] = await Promise.all([s.page.waitForEvent('download'), s.page.click(button)]);
  return new Uint8Array(fs.readFileSync(await d.path()));
}

/** Waits until the page's status line matches `pattern` or shows an error. */
async function waitStatus(s: BrowserSession, pattern: RegExp): Promise<void> {
  await s.page.waitForFunction(`${pattern}.test(document.getElementById('status').textContent) || document.getElementById('status').className === 'error'`, undefined, { timeout: 120_000 });
}

const missing = browserMissing();
if (missing) {
  skip(test, TITLE, missing);
} else {
  test(TITLE, async () => {
    const s = await openPage('/examples/web/');
    try {
      const { page } = s;
      await page.selectOption('#provider', 'wasm');
      await page.evaluate(`(async () => {
        const bytes = await (await fetch('/models/digits/model.onnx')).arrayBuffer();
        const drop = new DataTransfer();
        drop.items.add(new File([bytes], 'model.onnx'));
        document.getElementById('model-zone').dispatchEvent(new DragEvent('drop', { dataTransfer: drop, bubbles: true, cancelable: true }));
      })()`);
      await waitStatus(s, /model loaded/);
      assert.match(await page.textContent('#model-info') ?? '', 'input [?, 1, 16, 16]');
      await page.setInputFiles('#input-file', IMAGE);
      await waitStatus(s, /input ready/);
      assert.is(await page.textContent('#status'), 'input ready: pick a method and explain');
      await page.selectOption('#method', 'deeplift');
      await page.click('#explain');
      await waitStatus(s, /^done$|error/);
      assert.is(await page.textContent('#status'), 'done');

      // The same computation in Node: image → tensor → DeepLIFT (top-1 target) on CPU → heat map.
      const ex = await Explainer.load(MODEL);
      const { tensor, shown } = imageToTensor(readImage(IMAGE), ex.input.dims, 'none', 'digit-3.png');
      const want = await ex.attribute(tensor, { method: 'deeplift' });
      const stats = await page.textContent('#stats') ?? '';
      assert.match(stats, `target ${want.targets[0]}`);
      assert.match(stats, 'execution provider: wasm');
      assert.match(stats, /forward: [\d.]+ ms/);
      assert.match(stats, /explanation: [\d.]+ ms/);
      const delta = Number(/convergence delta: (\S+)/.exec(stats)?.[1]);
      assert.ok(Math.abs(delta - want.delta![0]) <= 1e-5 + 1e-3 * Math.abs(want.delta![0]), `delta shown ${delta}, Node ${want.delta![0]}`);
      assert.is(await page.locator('#top5 tr').count(), 6, 'header and five classes');
      assert.is(Number(await page.textContent('#top5 tr:nth-child(2) td')), want.targets[0], 'top-1 class first');

      // The page draws runtime/visualize's figure: the screenshot must be that figure, pixel for pixel.
      const figure = visualize({ columns: [{ title: 'deeplift', attributions: want.attributions }], images: [shown], captions: [`target ${want.targets[0]}`] }, { size: 320 });
      const box = (await page.locator('#overlay').boundingBox())!;
      assert.equal([box.width, box.height], [figure.width, figure.height], 'canvas size');
      const png = PNG.sync.read(Buffer.from(await page.screenshot({ clip: { x: Math.round(box.x), y: Math.round(box.y), width: figure.width, height: figure.height } })));
      let worst = 0;
      for (let i = 0; i < png.data.length; i++) if (i % 4 !== 3) worst = Math.max(worst, Math.abs(png.data[i] - figure.data[i]));
      assert.ok(worst <= 2, `overlay pixels differ from the expected figure by up to ${worst}`);
      const blue = (k: number) => figure.data[k + 2] > figure.data[k] + 60;
      assert.ok(Array.from({ length: figure.data.length / 4 }, (_, i) => blue(i * 4)).some(Boolean), 'the heat map is drawn (blue pixels)');

      const attributions = parseNpy(await download(s, '#download-attr'));
      assert.equal(attributions.dims, [1, 1, 16, 16]);
      assert.ok(relL2(attributions.data as Float32Array, want.attributions.data) <= 1e-4, 'downloaded attributions equal Node CPU');
      const graph = decodeModel(await download(s, '#download-graph'));
      assert.equal(graph.graph!.output!.map((o) => o.name), ['logits', 'attribution', 'delta']);

      // lrp-epsilon-gamma-box's z^B bounds are the input's range.
      await page.selectOption('#method', 'lrp-epsilon-gamma-box');
      await page.click('#explain');
      await waitStatus(s, /^done$|error/);
      assert.is(await page.textContent('#status'), 'done');
      const composite = await ex.attribute(tensor, { method: 'lrp-epsilon-gamma-box', boxLow: Math.min(...tensor.data), boxHigh: Math.max(...tensor.data) });
      assert.ok(relL2(parseNpy(await download(s, '#download-attr')).data as Float32Array, composite.attributions.data) <= 1e-4, 'LRP composite equals Node CPU');

      // Forward-only methods get patches of an eighth of the image as their mask (16×16 → 2×2 pixels).
      assert.is(await page.inputValue('#patch'), '2');
      await page.selectOption('#method', 'feature-ablation');
      await page.click('#explain');
      await waitStatus(s, /^done$|error/);
      assert.is(await page.textContent('#status'), 'done');
      const patches = Int32Array.from({ length: 256 }, (_, i) => Math.floor(Math.floor(i / 16) / 2) * 8 + Math.floor((i % 16) / 2));
      const ablation = await ex.attribute(tensor, { method: 'feature-ablation', featureMask: { data: patches, dims: [1, 1, 16, 16] } });
      assert.ok(relL2(parseNpy(await download(s, '#download-attr')).data as Float32Array, ablation.attributions.data) <= 1e-4, 'feature ablation over 2×2 patches equals Node CPU');

      // Grad-CAM at a layer picked from the list (tensors of rank 3 or more), upsampled to the image and drawn.
      const layers = await page.locator('#layer option').evaluateAll((os) => os.map((o) => (o as unknown as { value: string }).value));
      const layer = (await ex.explainableTensors()).find((t) => t.op === 'Relu' && t.shape?.length === 4)!.name;
      assert.ok(layers.includes(layer), `${layer} is listed among ${layers}`);
      await page.selectOption('#layer', layer);
      await page.selectOption('#method', 'grad-cam');
      await page.click('#explain');
      await waitStatus(s, /^done$|error/);
      assert.is(await page.textContent('#status'), 'done');
      const cam = await ex.attribute(tensor, { method: 'grad-cam', layer, upsample: true });
      const shownCam = parseNpy(await download(s, '#download-attr'));
      assert.equal(shownCam.dims, [1, 1, 16, 16]);
      assert.ok(relL2(shownCam.data as Float32Array, cam.attributions.data) <= 1e-4, 'Grad-CAM equals Node CPU');
      assert.not.match(await page.textContent('#stats') ?? '', 'not drawable');
      assert.equal(s.console.filter((l) => l.startsWith('pageerror')), []);
    } finally {
      await s.close();
    }
  });
}

test.run();
