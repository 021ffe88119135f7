// Runs in the test page (served from the repository root): the browser module on one fixture.
import * as m from '/dist/browser/onnx-explain.mjs';

export const MARK = 'onnx-explain-test: webgpu session';

/**
 * Makes every onnxruntime session asked for webgpu log at level 0 (onnxruntime's log goes to the
 * console), between console lines `${MARK} begin` and `${MARK} end`.
 */
let logging = false;
function logPlacements() {
  if (logging) return;
  logging = true;
  const create = m.ort.InferenceSession.create;
  m.ort.InferenceSession.create = async (bytes, options) => {
    if (!options?.executionProviders?.some((p) => (p.name ?? p) === 'webgpu')) return create.call(m.ort.InferenceSession, bytes, options);
    console.log(`${MARK} begin`);
    try {
      return await create.call(m.ort.InferenceSession, bytes, { ...options, logSeverityLevel: 0 });
    } finally {
      console.log(`${MARK} end`);
    }
  };
}

export async function run({ dir, provider, methods, options, target, verbose }) {
  if (verbose) logPlacements();
  const base = `/${dir}`;
  const bytes = new Uint8Array(await (await fetch(`${base}/model.onnx`)).arrayBuffer());
  const x = m.parseNpy(new Uint8Array(await (await fetch(`${base}/input.npy`)).arrayBuffer()));
  const ex = await m.Explainer.load(bytes, { provider });
  const attributions = {};
  for (const method of methods) {
    const r = method === 'maximize' ? await m.maximize(ex, options[method]) : await ex.attribute({ data: x.data, dims: x.dims }, { method, target, ...options[method] });
    attributions[method] = Array.from((r.attributions ?? r.image).data);
  }
  return { attributions, warnings: [...ex.warnings] };
}
