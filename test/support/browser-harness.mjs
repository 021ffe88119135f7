// Runs in the test page (served from the repository root): the browser module on one fixture.
import * as m from '/dist/browser/onnx-explain.mjs';

export const MARK = 'onnx-explain-test: webgpu session';

/**
 * Makes every onnxruntime session asked for webgpu log at level 0 (onnxruntime's log goes to the
 * console), between console lines `${MARK} begin` and `${MARK} end`, and keeps its model's bytes
 * for `takeGraphs`.
 */
let logging = false;
let graphs = [];
function logPlacements() {
  if (logging) return;
  logging = true;
  const create = m.ort.InferenceSession.create;
  m.ort.InferenceSession.create = async (bytes, options) => {
    if (!options?.executionProviders?.some((p) => (p.name ?? p) === 'webgpu')) return create.call(m.ort.InferenceSession, bytes, options);
    graphs.push(bytes);
    console.log(`${MARK} begin`);
    try {
      return await create.call(m.ort.InferenceSession, bytes, { ...options, logSeverityLevel: 0 });
    } finally {
      console.log(`${MARK} end`);
    }
  };
}

/** A file served from the repository, as bytes. */
export async function fetched(url) {
  return new Uint8Array(await (await fetch(url)).arrayBuffer());
}

/** The models of the webgpu sessions created since the last call, as base64 (in creation order). */
export function takeGraphs() {
  const taken = graphs.map((bytes) => btoa(Array.from(bytes, (b) => String.fromCharCode(b)).join('')));
  graphs = [];
  return taken;
}

export async function run({ dir, provider, methods, options, target, verbose }) {
  if (verbose) logPlacements();
  const base = `/${dir}`;
  const bytes = await fetched(`${base}/model.onnx`);
  const x = m.parseNpy(await fetched(`${base}/input.npy`));
  const ex = await m.Explainer.load(bytes, { provider });
  const attributions = {};
  for (const method of methods) {
    // Layer activation explains no output: it takes no target (Captum's LayerActivation).
    const r = method === 'maximize' ? await m.maximize(ex, options[method]) : await ex.attribute({ data: x.data, dims: x.dims }, { method, ...(method === 'layer-activation' ? {} : { target }), ...options[method] });
    attributions[method] = Array.from((r.attributions ?? r.image).data);
  }
  return { attributions, warnings: [...ex.warnings], executionProvider: ex.executionProvider };
}

/**
 * A text model in `dir` (models/text/*): its inputs from the .npy files named by `inputs`; each run
 * loads an explainer (joint over `wrt` when given, token ids from a baseline of zero ids when
 * `zeroIds`) and attributes with `options`. Returns each run's logits, attributions (by input name
 * for joint runs) and DeepLIFT deltas.
 */
export async function runTokens({ dir, provider, inputs, runs, verbose }) {
  if (verbose) logPlacements();
  const npy = async (name) => m.parseNpy(await fetched(`/${dir}/${name}.npy`));
  const bytes = await fetched(`/${dir}/model.onnx`);
  const given = Object.fromEntries(await Promise.all(inputs.map(async (name) => [name, await npy(name)])));
  const { input_ids: ids, ...feeds } = given;
  const results = [];
  const warnings = [];
  for (const { wrt, zeroIds, options } of runs) {
    const ex = await m.Explainer.load(bytes, { provider, ...(wrt ? { wrt } : {}) });
    const zeros = { data: new BigInt64Array(ids.data.length), dims: ids.dims };
    const baselines = zeroIds ? { baselines: Object.fromEntries(wrt.map((name) => [name, zeros])) } : {};
    const r = wrt ? await ex.attribute(given, { ...options, ...baselines }) : await ex.attribute(ids, { ...options, feeds });
    const attributions = r.inputAttributions ? Object.fromEntries(Object.entries(r.inputAttributions).map(([name, t]) => [name, Array.from(t.data)])) : Array.from(r.attributions.data);
    results.push({ logits: Array.from(r.outputs.logits.data), attributions, delta: r.delta ? Array.from(r.delta) : [] });
    warnings.push(...ex.warnings);
  }
  return { results, warnings };
}
