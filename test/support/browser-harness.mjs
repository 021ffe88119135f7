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

/**
 * A text model in `dir` (models/text/bert_*): the gradient at the word embedding with the attention
 * mask and token types fed, and joint integrated gradients and DeepLIFT to input_ids and
 * token_type_ids from ids 0 and token types 0.
 */
export async function runText({ dir, provider, target, steps, verbose }) {
  if (verbose) logPlacements();
  const npy = async (name) => m.parseNpy(new Uint8Array(await (await fetch(`/${dir}/${name}.npy`)).arrayBuffer()));
  const bytes = new Uint8Array(await (await fetch(`/${dir}/model.onnx`)).arrayBuffer());
  const given = { input_ids: await npy('input_ids'), attention_mask: await npy('attention_mask'), token_type_ids: await npy('token_type_ids') };
  const ex = await m.Explainer.load(bytes, { provider });
  const g = await ex.attribute(given.input_ids, { target, feeds: { attention_mask: given.attention_mask, token_type_ids: given.token_type_ids } });
  const joint = await m.Explainer.load(bytes, { provider, wrt: ['input_ids', 'token_type_ids'] });
  const zeros = { data: new BigInt64Array(given.input_ids.data.length), dims: given.input_ids.dims };
  const baselines = { input_ids: zeros, token_type_ids: zeros };
  const ig = await joint.attribute(given, { method: 'integrated-gradients', steps, target, baselines });
  const d = await joint.attribute(given, { method: 'deeplift', target, baselines });
  return {
    logits: Array.from(g.outputs.logits.data),
    gradient: Array.from(g.attributions.data),
    igWord: Array.from(ig.inputAttributions.input_ids.data),
    igSegment: Array.from(ig.inputAttributions.token_type_ids.data),
    delta: Array.from(d.delta),
    warnings: [...ex.warnings, ...joint.warnings],
  };
}
