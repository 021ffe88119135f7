// Runs in the test page (served from the repository root): ContrastiveExplainer and
// filterSensitivity of the browser module, results as plain arrays.
import * as m from '/dist/browser/onnx-explain.mjs';
import { fetched } from '/test/support/browser-harness.mjs';

const plain = (t) => ({ data: Array.from(t.data), dims: [...t.dims] });

export async function filters({ model, input, provider, options }) {
  const x = m.parseNpy(await fetched(`/${input}`));
  const ex = await m.Explainer.load(await fetched(`/${model}`), { provider });
  const r = await m.filterSensitivity(ex, { data: x.data, dims: x.dims }, options);
  const rows = r.rows.map((row) => ({
    means: Array.from(row.means), top: row.top,
    occluded: row.occluded?.map((o) => ({ ...o, change: Array.from(o.change) })),
  }));
  return { shape: r.shape, rows, warnings: [...ex.warnings] };
}

export async function contrast({ classifier, generator, samples, index, provider, options }) {
  const images = m.parseNpy(await fetched(`/${samples}`));
  const image = Float32Array.from(images.data.subarray(index * 256, (index + 1) * 256));
  const ce = await m.ContrastiveExplainer.load(await fetched(`/${classifier}`), await fetched(`/${generator}`), { provider });
  const r = await ce.explain({ data: image, dims: [1, 1, 16, 16] }, options);
  return {
    explanation: plain(r.explanation), logits: plain(r.logits), z0: plain(r.z0), ze: plain(r.ze),
    residual: r.residual, constraints: r.constraints, iterations: r.iterations,
    warnings: [...ce.classifier.warnings, ...ce.generator.warnings],
  };
}
