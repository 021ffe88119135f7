import * as fs from 'fs';
import * as path from 'path';
import { ExplainError } from '../rewriter/errors';
import { ContrastiveExplainer } from '../runtime/contrastive';
import { CONTRAST_METHODS } from '../runtime/drivers/cdeepex';
import { channelSum } from '../runtime/image';
import { readNpy, writeNpy } from '../runtime/node/npy-file';
import { writePng } from '../runtime/node/png-file';
import { checkOutput, makeFolder, writeJsonFile } from '../runtime/node/files';
import { argmax } from '../runtime/targets';
import { colourScale, diverging, grid, imageOf, symmetricScale, tickLabel, titled, upscale } from '../runtime/plot';
import { int, intFlag, normalizationOf, num, Parsed, preprocessFlag } from './args';
import { feedFiles, feeds, provider } from './main';
import { PROVIDERS } from '../runtime/session';
import { imageLayout, pictureOf } from './pictures';
import { progressBar, say } from './output';

export const CONTRAST_HELP = `onnx-explain contrast --classifier D.onnx --generator G.onnx --input I.npy --true A --probe B --out-dir DIR [options]

"Why did D say A and not B?" (CDeepEx): z0 = argmin ‖G(z) − I‖² from seeded starts, then
ze = argmin ‖z − z0‖² with llh_A = llh_B ≥ llh_i for every other class i, D reading
G(z) + I − G(z0); the explanation is E = G(z0) − G(ze) (positive: ink that goes away on the way to
B, negative: ink that appears). DIR receives explanation.npy, logits.npy (D at x(ze)), z0.npy,
ze.npy, result.json and contrast.png (I, G(z0), G(ze), E).

  --method M            cdeepex (default) | xgems (only llh_A = llh_B, no inequalities)
  --output NAME         classifier output holding the class scores (when it has several)
  --generator-feed NAME=FILE  a conditional generator G(z, y): hold its input NAME at one row read
                        from FILE (.npy or JSON; its class label or code), every input but z held
                        (repeatable, or NAME=FILE,NAME2=FILE2)
  --starts N            seeded starts of the z0 search (default 8)
  --steps N             Adam steps of the z0 search (default 300)
  --lr L                Adam step size of the z0 search (default 0.05)
  --tolerance T         largest accepted constraint violation, log-likelihood units (default 1e-3)
  --max-outer N         augmented-Lagrangian iterations (default 40)
  --inner N             most graph runs of each inner L-BFGS solve (default 40)
  --retries N           restarts of the constrained search, from seeded prior samples D assigns
                        to B, when the search from z0 fails (default 3)
  --seed N              seed of the starts (default 0)
  --preprocess P        none (default: the input is shown as pixels in [0,1]) | torchvision | tf
  --mean M --std S      the images are shown as (model value) · S + M instead (one value, or one per channel)
  --provider P          ${PROVIDERS.join(' | ')} (default cpu)`;

export const CONTRAST_FLAGS = {
  classifier: true, generator: true, 'generator-feed': true, input: true, true: true, probe: true, 'out-dir': true, method: true, output: true, starts: true,
  steps: true, lr: true, tolerance: true, 'max-outer': true, inner: true, retries: true, seed: true, preprocess: true, mean: true, std: true, provider: true, help: false,
};

const OUTPUTS = ['explanation.npy', 'logits.npy', 'z0.npy', 'ze.npy', 'result.json', 'contrast.png'];

export async function contrastCommand(p: Parsed): Promise<void> {
  if (p.positional.length) throw new ExplainError(`contrast: unexpected argument '${p.positional[0]}' (models are given with --classifier and --generator)`);
  const need = (flag: string) => {
    const v = p.flags.get(flag);
    if (typeof v !== 'string') throw new ExplainError(`contrast: --${flag} is required (see onnx-explain contrast --help)`);
    return v;
  };
  const [classifier, generator, inputFile, dir] = ['classifier', 'generator', 'input', 'out-dir'].map(need);
  const cls = (flag: string) => int(need(flag), `--${flag}`);
  const trueClass = cls('true'), probe = cls('probe');
  const method = (p.flags.get('method') as string | undefined) ?? 'cdeepex';
  if (!(method in CONTRAST_METHODS)) throw new ExplainError(`--method: '${method}' is not one of ${Object.keys(CONTRAST_METHODS).join(', ')}`);
  const number = (flag: string) => (p.flags.has(flag) ? num(p.flags.get(flag) as string, `--${flag}`) : undefined);
  const count = (flag: string) => {
    const v = number(flag);
    if (v !== undefined && (!Number.isInteger(v) || v < 1)) throw new ExplainError(`--${flag}: '${p.flags.get(flag)}' is not a positive integer`);
    return v;
  };
  const retries = () => {
    const v = number('retries');
    if (v !== undefined && (!Number.isInteger(v) || v < 0)) throw new ExplainError(`--retries: '${p.flags.get('retries')}' is not a non-negative integer`);
    return v;
  };
  const generatorFeeds = feeds(p.flags.get('generator-feed') as string | undefined, '--generator-feed');
  if (fs.existsSync(dir) && !fs.statSync(dir).isDirectory()) throw new ExplainError(`--out-dir: ${dir} exists and is not a folder`);
  // By the files' identity: an --out-dir that links to the input's folder would overwrite it.
  for (const f of OUTPUTS) checkOutput(path.join(dir, f), '--out-dir', [classifier, generator, inputFile, ...feedFiles(p, 'generator-feed')]);
  const preprocess = preprocessFlag(p, 'none', ['torchvision', 'tf', 'none']);
  const arr = readNpy(inputFile);
  if (arr.dtype === 'int64') throw new ExplainError(`${inputFile}: int64 array given, the input must be float`);
  const ce = await ContrastiveExplainer.load(classifier, generator, { provider: provider(p), output: p.flags.get('output') as string | undefined, generatorFeeds });
  const r = await ce.explain({ data: Float32Array.from(arr.data as Float32Array), dims: arr.dims }, {
    trueClass, probe, method, starts: count('starts'), reconstructionSteps: count('steps'), lr: number('lr'), tolerance: number('tolerance'),
    maxOuter: count('max-outer'), innerSteps: count('inner'), retries: retries(), seed: intFlag(p, 'seed'), progress: progressBar(method),
  });
  makeFolder(dir);
  const save = (file: string, t: { data: Float32Array; dims: number[] }) => writeNpy(path.join(dir, file), t.data, t.dims);
  save('explanation.npy', r.explanation);
  save('logits.npy', r.logits);
  save('z0.npy', r.z0);
  save('ze.npy', r.ze);
  const c = r.constraints;
  const result = {
    method, true: trueClass, probe, time_ms: Math.round(r.timeMs), residual: r.residual,
    constraints: { llh: c.llh, llh_true: c.llh[trueClass], llh_probe: c.llh[probe], equality: c.equality, inequality: method === 'cdeepex' ? c.inequality : undefined, satisfied: c.satisfied },
    iterations: r.iterations,
  };
  writeJsonFile(path.join(dir, 'result.json'), result, 1);
  const dims = r.generatedZ0.dims;
  if (dims.length === 4) {
    const layout = imageLayout(dims);
    const norm = normalizationOf(p, preprocess, layout.channels, classifier);
    const [h, w] = [layout.height, layout.width];
    const image = { data: Float32Array.from(arr.data as Float32Array), dims };
    const zoom = Math.max(1, Math.floor(128 / Math.max(h, w)));
    const e = channelSum({ data: r.explanation.data, dims }, 0, layout);
    const scale = symmetricScale(e);
    const heat = upscale(imageOf(e, w, h, diverging, scale), zoom);
    const pictures = [pictureOf(image.data, dims, norm), pictureOf(r.generatedZ0.data, dims, norm), pictureOf(r.generatedZe.data, dims, norm)].map((c) => upscale(c, zoom));
    const cells = [...['input I', 'G(z0)', 'G(ze)'].map((t, k) => titled(t, pictures[k])),
      titled('E = G(z0) - G(ze)', grid([[heat], [colourScale(diverging, -1, 1, [tickLabel(-scale, 2), '0', tickLabel(scale, 2)], heat.width)]], { pad: 0 }))];
    const caption = `why ${trueClass}, not ${probe}? red: ink that goes away on the way to ${probe}, blue: ink that must appear`;
    writePng(path.join(dir, 'contrast.png'), grid([[titled(caption, grid([cells], { pad: 8 }))]]));
  }
  // CDeepEx asks why D said A and not B: where D says another class, the question is hypothetical.
  const rowDims = r.generatedZ0.dims;
  // The output's argmax: behind a final Softmax the logits (`from`) are no output forward() returns.
  const explained = ce.classifier.resolveOutput(p.flags.get('output') as string | undefined);
  const outputs = await ce.classifier.forward({ data: Float32Array.from(arr.data as ArrayLike<number>), dims: rowDims });
  const scores = (outputs[explained.output] ?? outputs[explained.from])?.data;
  const said = scores && argmax(scores);
  if (said !== undefined && said !== trueClass) say(`note: D's answer for the input is ${said}, not ${trueClass} (--true): the explanation says what would make D say ${trueClass} and not ${probe}`);
  say(`${method}: ${c.satisfied ? 'constraints hold' : 'constraints NOT satisfied'} (llh_${trueClass} − llh_${probe} = ${c.equality.toExponential(2)}${method === 'cdeepex' ? `, max other − min(A, B) = ${c.inequality.toPrecision(3)}` : ''}); ‖I − G(z0)‖² ${r.residual.toPrecision(4)}; ${r.iterations.outer} outer iterations over its searches (solvers and restarts); ${Math.round(r.timeMs)} ms`);
  say(`wrote ${dir}/{${OUTPUTS.filter((f) => f !== 'contrast.png' || dims.length === 4).join(',')}}`);
}
