/**
 * Demo: explain the bundled digits CNN (models/digits) with every backprop method onnx-explain
 * knows, integrated gradients and GradientShap, and the forward-only methods (occlusion, feature
 * ablation, Shapley value sampling, KernelShap, LIME) over 4×4-pixel patches.
 *
 *   npm run demo        (= tsc -p tsconfig.json && node dist/examples/demo.js)
 *
 * Writes out/demo/<method>.png (one row per sample digit: the digit, then its attribution for the
 * predicted class over it, captioned with the true label, the prediction and its probability, with a
 * colour scale labelled in attribution values: red < 0 < green; saliency, never negative, in blues)
 * and out/demo/methods.png, every method side by side (FeatureVis Fig. 3).
 */
import * as fs from 'fs';
import * as path from 'path';
import { AttributeOptions, Explainer, Figure, patchMask, rowCaptions, tensorToRgb, visualize, VisColumn, VisualizeOptions } from '../runtime';
import { readNpy } from '../runtime/node/npy-file';
import { methodNames } from '../rules/methods';
import { argmax } from '../runtime/targets';
import { writePng } from '../runtime/node/png-file';

const ROOT = path.resolve(__dirname, '../..');
const MODEL = path.join(ROOT, 'models/digits/model.onnx');
const SAMPLE = path.join(ROOT, 'models/digits/sample.npy');
const LABELS = path.join(ROOT, 'models/digits/sample-labels.json');
const OUT_DIR = path.join(ROOT, 'out/demo');

async function main(): Promise<void> {
  const ex = await Explainer.load(MODEL);
  const npy = readNpy(SAMPLE);
  if (npy.dtype === 'int64') throw new Error(`${SAMPLE}: expected float data`);
  const input = { data: Float32Array.from(npy.data as Float32Array | Float64Array), dims: npy.dims };
  const labels: number[] = JSON.parse(fs.readFileSync(LABELS, 'utf8')).labels;
  const [n, , h, w] = input.dims;
  const pixels = h * w;
  const images = Array.from({ length: n }, (_, r) => tensorToRgb(input, 'sample', r));

  const logits = (await ex.forward(input))[ex.outputNames[0]];
  const classes = logits.data.length / n;
  const predicted = Array.from({ length: n }, (_, r) => argmax(logits.data.subarray(r * classes, (r + 1) * classes)));
  const captions = rowCaptions(logits, predicted).map((c, r) => `sample ${r}, true ${labels[r] ?? '?'}: ${c.replace(/^row \d+: /, '')}`);

  // 4×4-pixel patches: the feature groups of the forward-only methods.
  const patches = patchMask(h, w, 4);
  const runs: [string, AttributeOptions][] = [
    // The z^B rule's bounds: the digits' pixels lie in [0, 1].
    ...methodNames.map((m): [string, AttributeOptions] => [m, m === 'lrp-epsilon-gamma-box' ? { boxLow: 0, boxHigh: 1 } : {}]),
    ['integrated-gradients', {}], ['gradient-shap', { samples: 20 }],
    ['occlusion', { window: [1, 4, 4], stride: [1, 2, 2] }], ['feature-ablation', { featureMask: patches }],
    ['shapley-value-sampling', { featureMask: patches }], ['kernel-shap', { featureMask: patches, samples: 200 }], ['lime', { featureMask: patches, samples: 200 }],
  ];
  const methods = runs.map(([m]) => m);
  const sums: Record<string, number[]> = {};
  const written: string[] = [];
  const write = (name: string, figure: Figure, options: VisualizeOptions) => {
    const file = path.join(OUT_DIR, `${name}.png`);
    writePng(file, visualize(figure, options));
    written.push(path.relative(process.cwd(), file) || file);
  };
  const columns: VisColumn[] = [];
  for (const [method, options] of runs) {
    const { attributions } = await ex.attribute(input, { ...options, method, target: predicted });
    sums[method] = Array.from({ length: n }, (_, r) => attributions.data.subarray(r * pixels, (r + 1) * pixels).reduce((s, v) => s + v, 0));
    columns.push({ title: method, attributions });
    const signed = attributions.data.some((v) => v < 0);
    write(method, { columns: [columns[columns.length - 1]], images, captions }, { sign: signed ? 'all' : 'absolute' });
  }
  write('methods', { columns, images, captions }, { sign: 'all', size: 112 });

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
