// Runs in headless Chromium for examples/browser-bench.ts: the browser module on the ResNet-18 bench
// model: onnxruntime-web's start, load, probe, rewrite, and forward vs attribution times measured in
// the same run. `checkpoint(name)` (exposed by the driver) records the page's memory after a step.
import * as ox from '../../dist/browser/onnx-explain.mjs';

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
async function time(f) {
  const t0 = performance.now();
  await f();
  return performance.now() - t0;
}

export async function run({ model, methods, runs, provider }) {
  const checkpoint = globalThis.checkpoint ?? (async () => {});
  const report = {};
  // The first session fetches and compiles onnxruntime-web's 27 MB .wasm: timed apart on a small model.
  const small = new Uint8Array(await (await fetch('/models/digits/model.onnx')).arrayBuffer());
  report.ortStartMs = await time(async () => (await ox.ort.InferenceSession.create(small, { executionProviders: [provider] })).release());
  await checkpoint('onnxruntime-web started');
  let bytes;
  report.fetchMs = await time(async () => { bytes = new Uint8Array(await (await fetch(model)).arrayBuffer()); });
  report.modelMB = bytes.length / 1e6;
  let ex;
  // The page's flow keeps one session alive at a time (maxSessions 1): the weights sit in the WASM heap once.
  report.loadMs = await time(async () => { ex = await ox.Explainer.load(bytes, { provider, maxSessions: 1 }); });
  const row = ex.input.dims.slice(1).map((d, k) => (d > 0 ? d : [3, 224, 224][k]));
  const x = { data: Float32Array.from({ length: row.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i * 12.9898) * 2), dims: [1, ...row] };
  report.probeMs = await time(() => ex.prepare(row));
  await checkpoint('model loaded and probed');
  report.rewriteMs = {};
  for (const method of methods) report.rewriteMs[method] = await time(() => ex.augmented(row, { method }));
  report.firstForwardMs = await time(() => ex.forward(x));
  await checkpoint('forward');
  report.firstAttributionMs = {};
  for (const method of methods) {
    report.firstAttributionMs[method] = await time(() => ex.attribute(x, { method, target: 7 }));
    await checkpoint(`${method} explanation`);
  }
  // Interleaved forward and attribution runs: every session stays alive (no limit), as in Node.
  await ex.release();
  ex = await ox.Explainer.load(bytes, { provider });
  await ex.forward(x);
  for (const method of methods) await ex.attribute(x, { method, target: 7 });
  report.ratios = {};
  for (const method of methods) {
    const f = [], a = [];
    for (let i = 0; i < runs; i++) {
      f.push(await time(() => ex.forward(x)));
      a.push(await time(() => ex.attribute(x, { method, target: 7 })));
    }
    report.ratios[method] = { forwardMs: median(f), attributionMs: median(a), ratio: median(a) / median(f) };
  }
  report.executionProvider = ex.executionProvider;
  report.jsHeapMB = performance.memory ? performance.memory.totalJSHeapSize / 1e6 : undefined;
  return report;
}
