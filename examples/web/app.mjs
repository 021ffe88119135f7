// The example page: every computation is the browser module's (dist/browser/onnx-explain.mjs);
// this file only wires files, controls and canvases.
import * as ox from '../../dist/browser/onnx-explain.mjs';

const $ = (id) => document.getElementById(id);
const state = { ex: undefined, name: '', input: undefined, shown: undefined, result: undefined, options: undefined };

function status(text, error = false) {
  $('status').textContent = text;
  $('status').className = error ? 'error' : '';
}

/** Runs an async UI action, reporting errors in the status line. */
function action(f) {
  return async (...args) => {
    try {
      await f(...args);
    } catch (e) {
      status(String(e?.message ?? e), true);
      console.error(e);
    }
  };
}

const fetchBytes = async (url) => new Uint8Array(await (await fetch(url)).arrayBuffer());
const dimsText = (dims) => `[${dims.map((d) => (d < 0 ? '?' : d)).join(', ')}]`;

async function loadModel(bytes, name) {
  status(`loading ${name}…`);
  // Each onnxruntime session holds its own copy of the weights (the WASM heap or the GPU): the
  // previous model's are released, and this one keeps one session alive at a time (forward for the
  // top-5, then the chosen method's graph).
  await state.ex?.release();
  state.ex = await ox.Explainer.load(bytes, { provider: $('provider').value, maxSessions: 1 });
  state.name = name;
  state.bytes = bytes;
  state.input = state.result = undefined;
  const outputs = (state.ex.view.graph.output ?? []).map((o) => `  ${o.name} ${dimsText((o.type?.tensorType ?? o.type?.tensor_type)?.shape?.dim?.map((d) => Number(d.dim_value ?? -1)) ?? [])}`);
  $('model-info').textContent = `${name} (${(bytes.length / 1e6).toFixed(2)} MB)\ninput:\n  ${state.ex.input.name} ${dimsText(state.ex.input.dims)}\noutputs:\n${outputs.join('\n')}`;
  await listLayers();
  const channels = state.ex.input.dims.length === 4 && (state.ex.input.dims[1] === 1 || state.ex.input.dims[3] === 1);
  $('preprocess').value = channels ? 'none' : 'torchvision';
  $('explain').disabled = true;
  status(`model loaded; ${state.ex.input.dims.length === 4 ? 'drop an image or .npy' : 'drop an .npy'}`);
}

/** Row `row` of an .npy (batch 1), or an image preprocessed to the model's input. */
async function loadInput(kind, bytes) {
  if (!state.ex) throw new Error('load a model first');
  const label = state.name;
  if (kind === 'npy') {
    const a = ox.parseNpy(bytes);
    const rows = a.dims[0];
    const row = Math.min(Math.max(0, Number($('row').value) || 0), rows - 1);
    const per = a.data.length / rows;
    const data = Float32Array.from(a.data.subarray(row * per, (row + 1) * per), Number);
    state.input = { data, dims: [1, ...a.dims.slice(1)] };
    try { state.shown = ox.tensorToRgb(state.input, label); } catch { state.shown = undefined; }
  } else {
    const rgb = await ox.decodeImage(new Blob([bytes]));
    const values = (id) => $(id).value.split(',').filter((v) => v.trim()).map(Number);
    const normalization = $('mean').value.trim() || $('std').value.trim() ? { mean: values('mean'), std: values('std') } : undefined;
    const { tensor, shown } = ox.imageToTensor(rgb, state.ex.input.dims, $('preprocess').value, label, normalization);
    state.input = tensor;
    state.shown = shown;
  }
  await showTop5();
  $('explain').disabled = false;
}

const output = () => state.ex.outputNames[0];

/** The layer select: the float tensors of rank 3 or more computed from the input (as `info --layers`); a patch of an eighth of the image. */
async function listLayers() {
  const select = $('layer');
  select.length = 1;
  const dims = state.ex.input.dims;
  if (dims.slice(1).every((d) => d > 0)) {
    for (const t of await state.ex.explainableTensors()) {
      if (t.shape && t.shape.length >= 3) select.add(new Option(`${t.name} [N, ${t.shape.slice(1).join(', ')}] (${t.op})`, t.name));
    }
  }
  $('patch').value = dims.length === 4 && dims[2] > 0 ? String(Math.max(1, Math.round(dims[2] / 8))) : '';
}

const FORWARD_ONLY = new Set(['occlusion', 'feature-ablation', 'shapley-values', 'shapley-value-sampling', 'kernel-shap', 'lime']);
const MAPS = new Set(['cam', 'grad-cam', 'guided-grad-cam']);

/**
 * Options the chosen method needs on an image [1, C, H, W] (or channels last, [1, H, W, C]): square
 * patches of `patch` pixels shared by the channels as the feature mask (occlusion: windows of a
 * patch, strides of half a patch), class activation maps upsampled to the image, and the z^B rule's
 * bounds (lrp-epsilon-gamma-box) from the input tensor's own range.
 */
function methodOptions(method) {
  const dims = state.input.dims;
  const p = Number($('patch').value);
  const options = {};
  if (MAPS.has(method)) options.upsample = true;
  if (method === 'lrp-epsilon-gamma-box') {
    const values = state.input.data;
    Object.assign(options, { boxLow: values.reduce((a, v) => Math.min(a, v), Infinity), boxHigh: values.reduce((a, v) => Math.max(a, v), -Infinity) });
  }
  if (!FORWARD_ONLY.has(method) || dims.length !== 4 || !(p >= 1) || $('layer').value) return options;
  const last = ox.channelsLast(dims);
  const [c, h, w] = last ? [dims[3], dims[1], dims[2]] : [dims[1], dims[2], dims[3]];
  const [window, stride] = [[Math.min(p, h), Math.min(p, w)], [Math.max(1, Math.floor(p / 2)), Math.max(1, Math.floor(p / 2))]];
  if (method === 'occlusion') return last ? { window: [...window, c], stride: [...stride, c] } : { window: [c, ...window], stride: [c, ...stride] };
  return { featureMask: ox.patchMask(h, w, p, last) };
}

async function showTop5() {
  await state.ex.forward(state.input);
  // Timed on the second run, once the session exists (the explanation's time includes creating its session).
  const t0 = performance.now();
  const outputs = await state.ex.forward(state.input);
  state.forwardMs = performance.now() - t0;
  const scores = Array.from(outputs[output()].data);
  const isProb = state.ex.resolveOutput(output()).from !== output();
  const max = Math.max(...scores);
  const exp = scores.map((v) => Math.exp(v - max));
  const total = exp.reduce((a, b) => a + b, 0);
  const probs = isProb ? scores : exp.map((v) => v / total);
  const top = probs.map((p, k) => [k, p]).sort((a, b) => b[1] - a[1]).slice(0, 5);
  $('top5').innerHTML = `<table><tr><th>class</th><th>probability</th></tr>${top.map(([k, p]) => `<tr><td>${k}</td><td>${p.toFixed(4)}</td></tr>`).join('')}</table>`;
  $('target').placeholder = `top-1 (${top[0][0]})`;
  status('input ready: pick a method and explain');
}

async function baseline() {
  const choice = $('baseline').value;
  if (choice === 'zeros') return undefined;
  if (choice === 'mean') {
    const mean = state.input.data.reduce((a, b) => a + b, 0) / state.input.data.length;
    return { data: new Float32Array(state.input.data.length).fill(mean), dims: state.input.dims };
  }
  const file = $('baseline-file').files[0];
  if (!file) throw new Error('choose a baseline .npy file');
  const a = ox.parseNpy(new Uint8Array(await file.arrayBuffer()));
  return { data: Float32Array.from(a.data, Number), dims: a.dims };
}

async function explain() {
  const ex = state.ex;
  const method = $('method').value;
  const given = { method, output: output(), baseline: await baseline(), ...methodOptions(method) };
  if ($('layer').value) given.layer = $('layer').value;
  if ($('target').value !== '') given.target = Number($('target').value);
  // The form's choices the method reads (CAM takes no layer, layer activation no output or target).
  const options = Object.fromEntries(Object.entries(given).filter(([k, v]) => v !== undefined && ox.readsOption(k, method, false, given.fill)));
  status(`explaining with ${options.method} on ${ex.provider}…`);
  const t0 = performance.now();
  const result = await ex.attribute(state.input, options);
  const explainMs = performance.now() - t0;
  state.result = result;
  state.options = options;
  const drawn = draw(result.attributions, options, result);
  const lines = [
    `method ${options.method}, target ${result.targets[0]}`,
    `execution provider: ${ex.executionProvider}${ex.executionProvider !== ex.provider ? ` (requested ${ex.provider})` : ''}`,
    `forward: ${state.forwardMs.toFixed(1)} ms`,
    `explanation: ${explainMs.toFixed(1)} ms`,
    result.delta ? `convergence delta: ${result.delta[0].toExponential(3)}` : 'convergence delta: — (method has none)',
    ...(drawn ? [] : ['attributions are not drawable here: download them']),
    ...(result.warnings ?? []),
  ];
  $('stats').textContent = lines.join('\n');
  $('download-attr').disabled = $('download-graph').disabled = false;
  status('done');
}

/** Draws Captum's blended heat map (runtime/visualize) with its colour scale; false for non-image inputs. */
function draw(attributions, options, result) {
  const canvas = $('overlay');
  let figure;
  try {
    figure = ox.visualize({ columns: [{ title: options.method, attributions }], images: [state.shown], captions: [`target ${result.targets[0]}`] }, { size: 320 });
  } catch {
    canvas.width = canvas.height = 1;
    return false;
  }
  canvas.width = figure.width;
  canvas.height = figure.height;
  canvas.getContext('2d').putImageData(ox.rgbaImageData(figure), 0, 0);
  return true;
}

function download(bytes, name) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([bytes], { type: 'application/octet-stream' }));
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

async function downloadGraph() {
  const { model } = await state.ex.augmented(state.input.dims.slice(1), state.options);
  download(ox.encodeModel(model), `${state.options.method}-augmented.onnx`);
}

/** A drop zone and its file input call `onFile(file)`. */
function dropZone(zone, input, onFile) {
  const run = action(onFile);
  zone.addEventListener('dragover', (e) => { e.preventDefault(); zone.classList.add('over'); });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('over');
    if (e.dataTransfer.files[0]) run(e.dataTransfer.files[0]);
  });
  input.addEventListener('change', () => input.files[0] && run(input.files[0]));
}

for (const m of ox.attributionMethods()) $('method').add(new Option(m, m));
dropZone($('model-zone'), $('model-file'), async (file) => loadModel(new Uint8Array(await file.arrayBuffer()), file.name));
dropZone($('input-zone'), $('input-file'), async (file) => loadInput(file.name.endsWith('.npy') ? 'npy' : 'image', new Uint8Array(await file.arrayBuffer())));
$('bundled-model').addEventListener('click', action(async () => loadModel(await fetchBytes('../../models/digits/model.onnx'), 'digits CNN (models/digits/model.onnx)')));
$('bundled-image').addEventListener('click', action(async () => loadInput('image', await fetchBytes('digit-3.png'))));
$('bundled-npy').addEventListener('click', action(async () => loadInput('npy', await fetchBytes('../../models/digits/sample.npy'))));
$('provider').addEventListener('change', action(async () => state.bytes && loadModel(state.bytes, state.name)));
$('baseline').addEventListener('change', () => { if ($('baseline').value === 'file') $('baseline-file').click(); });
$('explain').addEventListener('click', action(explain));
$('download-attr').addEventListener('click', () => download(ox.encodeNpy(state.result.attributions.data, state.result.attributions.dims), `${state.options.method}-attributions.npy`));
$('download-graph').addEventListener('click', action(downloadGraph));
status('drop a model or use the bundled one');
