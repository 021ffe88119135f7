import * as fs from 'fs';
import * as path from 'path';
import { ExplainError } from '../rewriter/errors';
import { encodeModel } from '../rewriter/proto';
import { lookupTable } from '../rewriter/lookup-table';
import { mapMethods } from '../rewriter/maps';
import { methods } from '../rules/methods';
import { Explainer } from '../runtime';
import { checkOutput, missingFolders, writeFilesTogether } from '../runtime/node/files';
import { tritonConfig } from '../runtime/triton';
import { intFlag, Parsed } from './args';
import { checkMethodFlags, commonOptions, modelArg, modelOptions, noteShapeSetters, shapeArg } from './main';
import { say } from './output';

export const EXPORT_TRITON_HELP = `onnx-explain export-triton MODEL --method M --out REPO [options]

Writes a Triton Inference Server model repository that serves the augmented graph (what rewrite
saves) on Triton's onnxruntime backend with dynamic batching:
  REPO/NAME/config.pbtxt     inputs and outputs named and typed, max_batch_size, dynamic_batching
  REPO/NAME/1/model.onnx     the augmented graph
Each request sends the model's input, 'seed' (put 1 at the target class) and, for reference
methods, 'baseline' with one row per input row; Triton concatenates requests along the batch.

  --out REPO            the model repository folder (created if missing)
  --name NAME           model name (default: MODEL's file name and the method, e.g. resnet18-deeplift)
  --max-batch N         largest batch the dynamic batcher forms (default 32)
  --shape DIMS          input shape, e.g. 1,3,224,224 (needed when the model's sizes are dynamic)`;

/**
 * The methods Triton serves: one graph whose inputs all hold one row per input row (a path's alphas
 * and weights do not: integrated gradients is saved by rewrite).
 */
export const TRITON_METHODS = [...Object.keys(methods), ...Object.keys(mapMethods)];

/** Why the methods rewrite saves as one graph are not served. */
const UNSERVED: Record<string, string> = lookupTable({
  'integrated-gradients': 'takes the path\'s alphas and weights, which are no rows for Triton to batch; onnx-explain rewrite saves its graph',
  'layer-activation': 'is the model\'s own forward: serve the model with the layer as an output (onnx-explain rewrite saves that graph)',
});

/** Besides the common flags (main registers both). */
export const EXPORT_TRITON_FLAGS = { out: true, name: true, 'max-batch': true, shape: true };

export async function exportTriton(p: Parsed): Promise<void> {
  const model = modelArg(p, 'export-triton');
  const repo = p.flags.get('out') as string | undefined;
  if (!repo) throw new ExplainError('export-triton: --out REPO (the model repository folder) is required');
  const options = commonOptions(p);
  const method = options.method ?? 'gradient';
  if (!TRITON_METHODS.includes(method)) throw new ExplainError(`export-triton: method '${method}' ${UNSERVED[method] ?? 'runs several graphs (or none), where Triton serves one'} (methods: ${TRITON_METHODS.join(', ')})`);
  checkMethodFlags(p, [method], TRITON_METHODS);
  const name = (p.flags.get('name') as string | undefined) ?? `${path.basename(model).replace(/\.onnx$/i, '').replace(/[^A-Za-z0-9_.-]+/g, '_')}-${method}`;
  const maxBatch = intFlag(p, 'max-batch') ?? 32;
  if (maxBatch < 1 || maxBatch > 2 ** 31 - 1) throw new ExplainError(`--max-batch: ${maxBatch} must be from 1 to 2147483647 (Triton's int32)`);
  const configFile = path.join(repo, name, 'config.pbtxt');
  const modelFile = path.join(repo, name, '1', 'model.onnx');
  // Checks the name (and the batch size) before any work.
  tritonConfig({ name, model: { graph: {} }, maxBatchSize: maxBatch });
  checkOutput(configFile, '--out', [model]);
  checkOutput(modelFile, '--out', [model]);
  // Triton serves a model's latest version by default: another one beside 1 would be served under this config.
  const others = fs.existsSync(path.join(repo, name)) ? fs.readdirSync(path.join(repo, name)).filter((v) => /^\d+$/.test(v) && Number(v) !== 1) : [];
  if (others.length) throw new ExplainError(`--out ${repo}: ${path.join(repo, name)} holds version${others.length > 1 ? 's' : ''} ${others.join(', ')}, which Triton would serve instead of the 1/model.onnx written here: remove ${others.length > 1 ? 'them' : 'it'} or give another --name`);
  const ex = await Explainer.load(model, modelOptions(p));
  ex.checkGraphOptions('export-triton', options);
  const dims = shapeArg(p, ex);
  // Inputs whose values set shapes (token ids picking <eos> positions) are probed with --feed's values.
  const { model: aug, prepared } = await ex.forFeeds(dims.slice(1), options.feeds, () => ex.augmented(dims.slice(1), options));
  // Triton batches along the first axis of every tensor: only where the graph's batch is dynamic.
  const batches = prepared.batchDynamic && ex.outputNames.every((o) => prepared.facts.batchAxis.get(o) === 0);
  const config = tritonConfig({ name, model: aug, maxBatchSize: batches ? maxBatch : 0 });
  // A write that fails (a full disk) takes the files and folders it made with it and puts back the
  // pair it replaced (the folders only where empty: another export may be writing into them); a killed
  // run leaves no config beside another model (Triton completes a config-less ONNX model's from the model).
  const made = missingFolders(path.dirname(modelFile)).reverse();
  try {
    writeFilesTogether([{ file: modelFile, bytes: encodeModel(aug) }, { file: configFile, bytes: new TextEncoder().encode(config) }]);
  } catch (e) {
    for (const d of made) {
      try {
        fs.rmdirSync(d);
      } catch {
        break;
      }
    }
    throw e;
  }
  say(`wrote ${path.join(repo, name)}: config.pbtxt (onnxruntime backend, ${batches ? `dynamic batching up to ${maxBatch}` : 'batch fixed by the model: no batching'}), 1/model.onnx`);
  noteShapeSetters(ex);
}

