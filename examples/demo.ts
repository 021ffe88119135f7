/**
 * Demo: explain the bundled digits CNN (models/digits) with every backprop method onnx-explain
 * knows, integrated gradients and GradientShap, and the forward-only methods (occlusion, feature
 * ablation, Shapley value sampling, KernelShap, LIME) over 4×4-pixel patches.
 *
 *   npm run demo        (= tsc -p tsconfig.json && node dist/examples/demo.js)
 *
 * Writes out/demo/<method>.png: one row per sample digit, the digit (grayscale, ×8) next to its
 * attribution for the predicted class (signed methods: blue < 0 < red, symmetric range at the
 * 99th percentile of |a| per image; non-negative methods such as saliency: sequential map).
 */
import * as fs from 'fs';
import * as path from 'path';
import { AttributeOptions, Explainer, patchMask } from '../runtime';
import { readNpy } from '../runtime/node/npy-file';
import { methodNames } from '../rules/methods';
import { Canvas, colourBar, diverging, grid, gray, imageOf, inferno, symmetricScale, upscale } from '../runtime/plot';
import { writePng } from '../runtime/node/png-file';

const ROOT = path.resolve(__dirname, '../..');
const MODEL = path.join(ROOT, 'models/digits/model.onnx');
const SAMPLE = path.join(ROOT, 'models/digits/sample.npy');
const LABELS = path.join(ROOT, 'models/digits/sample-labels.json');
const OUT_DIR = path.join(ROOT, 'out/demo');
const ZOOM = 8;

function argmax(row: ArrayLike<number>): number {
  let best = 0;
  for (let k = 1; k < row.length; k++) if (row[k] > row[best]) best = k;
  return best;
}

async function main(): Promise<void> {
  const ex = await Explainer.load(MODEL);
  const npy = readNpy(SAMPLE);
  if (npy.dtype === 'int64') throw new Error(`${SAMPLE}: expected float data`);
  const input = { data: Float32Array.from(npy.data as Float32Array | Float64Array), dims: npy.dims };
  const labels: number[] = JSON.parse(fs.readFileSync(LABELS, 'utf8')).labels;
  const [n, , h, w] = input.dims;
  const pixels = h * w;

  const logits = (await ex.forward(input))[ex.outputNames[0]];
  const classes = logits.data.length / n;
  const predicted = Array.from({ length: n }, (_, r) => argmax(logits.data.subarray(r * classes, (r + 1) * classes)));

  // 4×4-pixel patches: the feature groups of the forward-only methods.
  const patches = patchMask(h, w, 4);
  const runs: [string, AttributeOptions][] = [
    ...methodNames.map((m): [string, AttributeOptions] => [m, {}]),
    ['integrated-gradients', {}], ['gradient-shap', { samples: 20 }],
    ['occlusion', { window: [1, 4, 4], stride: [1, 2, 2] }], ['feature-ablation', { featureMask: patches }],
    ['shapley-value-sampling', { featureMask: patches }], ['kernel-shap', { featureMask: patches, samples: 200 }], ['lime', { featureMask: patches, samples: 200 }],
  ];
  const methods = runs.map(([m]) => m);
  const sums: Record<string, number[]> = {};
  const written: string[] = [];
  for (const [method, options] of runs) {
    const { attributions } = await ex.attribute(input, { ...options, method, target: predicted });
    const a = attributions.data;
    // Non-negative attributions (saliency, or any method that only produced values ≥ 0) get a sequential map.
    const signed = method !== 'saliency' && a.some((v) => v < 0);
    sums[method] = [];
    const rows: Canvas[][] = [];
    for (let r = 0; r < n; r++) {
      const digit = input.data.subarray(r * pixels, (r + 1) * pixels);
      const attr = a.subarray(r * pixels, (r + 1) * pixels); // single channel
      sums[method].push(attr.reduce((s, v) => s + v, 0));
      const scale = symmetricScale(attr, 99);
      const heat = signed ? imageOf(attr, w, h, diverging, scale) : imageOf(attr, w, h, inferno, scale);
      rows.push([upscale(imageOf(digit, w, h, gray), ZOOM), upscale(heat, ZOOM)]);
    }
    // Colour bar under the heat-map column (range is per image, so the bar shows only the mapping).
    rows.push([new Canvas(1, 1), signed ? colourBar(diverging, w * ZOOM, 10, -1, 1) : colourBar(inferno, w * ZOOM, 10, 0, 1)]);
    const file = path.join(OUT_DIR, `${method}.png`);
    writePng(file, grid(rows, { pad: 8 }));
    written.push(path.relative(process.cwd(), file) || file);
  }

  const col = (s: string, k: number): string => s.padStart(k);
  const widths = methods.map((m) => Math.max(m.length, 10));
  console.log(`digits CNN (${path.relative(process.cwd(), MODEL)}), ${n} samples, attributions for the predicted class`);
  console.log(['sample', 'true', 'pred', ...methods.map((m, k) => col(`Σ ${m}`, widths[k] + 2))].join('  '));
  for (let r = 0; r < n; r++) {
    console.log([col(String(r), 6), col(String(labels[r] ?? '?'), 4), col(String(predicted[r]), 4),
      ...methods.map((m, k) => col(sums[m][r].toFixed(4), widths[k] + 2))].join('  '));
  }
  console.log('\nwrote:');
  for (const f of written) console.log(`  ${f}`);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
