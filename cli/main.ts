import * as fs from 'fs';
import { isViewNode } from '../rewriter/batchless-inputs';
import { ExplainError } from '../rewriter/errors';
import { GraphView, nodeReads, valueShaped } from '../rewriter/graph-view';
import { embeddingsOf } from '../rewriter/embedding';
import { HALF, typesReadInFloat32 } from '../rewriter/half-precision';
import { GATHER_ELEMENTS_OPSET, QDQ_AXIS_OPSET } from '../rewriter/opset-upgrade';
import { WIDE_QDQ_OPSET } from '../rewriter/contrib-quantizers';
import { DataType, isFloatType, isTensorValue, NodeProto, toNumber } from '../rewriter/proto';
import { gradientRules, opKey } from '../rules/registry';
import { methods } from '../rules/methods';
import { LRP_LAYER_RULES, LrpLayerRule, rulesUsed } from '../rules/methods/lrp-composites';
import { AttributeOptions, AttributeRequest, defaultCacheDir, Explainer, ExplainerOptions, folderCache, TensorData, TensorInput } from '../runtime';
import { ortApi } from '../runtime/backend';
import { DenseInput } from '../runtime/tensors';
import { ALL_INPUTS, defaultKind, explainableFloats, explainedInputs, isBatchless, isCacheInput, isStateInput, ModelInput, modelInputs, STRUCTURAL_OPS } from '../runtime/inputs';
import { typeName } from '../runtime/ort-types';
import { Target } from '../runtime/targets';
import { IG_METHODS } from '../runtime/drivers/integrated-gradients-quadrature';
import { NOISE_TUNNELS } from '../runtime/drivers/noise-tunnel';
import { drivers } from '../runtime/drivers';
import { misappliedOption, readsOption } from '../runtime/method-options';
import { imageToTensor, Normalization, Preprocess, Rgb } from '../runtime/image';
import { readImage } from '../runtime/node/image-file';
import { readArray, readNpy, writeNpy } from '../runtime/node/npy-file';
import { checkOutput, fileError } from '../runtime/node/files';
import { saveModel } from '../runtime/node/model-file';
import { firstLine } from '../runtime/run-errors';
import { Provider, PROVIDERS } from '../runtime/session';
import { int, intFlag, intList, intsFlag, nonUtf8Argument, normalizationFlags, num, numList, parseArgs, Parsed, preprocessFlag } from './args';
import { captions, checkFigure, drawingFlag, explainedLabel, outFormat, VIS_FLAGS, VIS_HELP, visOptions, writeFigure } from './visualize';
import { filters, FILTERS_FLAGS, FILTERS_HELP } from './filters';
import { exportTriton, EXPORT_TRITON_FLAGS, EXPORT_TRITON_HELP, TRITON_METHODS } from './export-triton';
import { ownManifest } from '../runtime/node/manifest';
import { attributeDir, ATTRIBUTE_DIR_FLAGS, ATTRIBUTE_DIR_HELP } from './attribute-dir';
import { mapMethods } from '../rewriter/maps';
import { isRecurrentOp } from '../rewriter/recurrent/unroll';
import { readPerRow } from '../rewriter/dynamic-quantization';
import { CONTRAST_FLAGS, CONTRAST_HELP, contrastCommand } from './contrast';
import { MAXIMIZE_FLAGS, MAXIMIZE_HELP, maximizeCommand } from './maximize';
import { checkRewriteFlags, LOOP_GRAPHS, LOOP_REWRITE_FLAGS } from './rewrite-loops';
import { reportDelta, reportSampleDeltas } from './deltas';
import { lookupTable } from '../rewriter/lookup-table';
import { clearBar, printable, progressBar, say } from './output';

const methodNames = Object.keys(drivers);

const USAGE = `onnx-explain — explain ONNX classifiers

Usage:
  onnx-explain info MODEL
  onnx-explain attribute MODEL --input X.npy|IMG.png --method M [--target K] [--output NAME] [--out OUT.npy|OUT.png]
  onnx-explain rewrite MODEL --method M --out AUG.onnx [--shape DIMS] [--output NAME]
  onnx-explain visualize MODEL --input X --methods M1,M2,... --out FIG.png [--target K]
  onnx-explain filters MODEL --input X --layer NAME [--top K] [--out CHART.png] [--occlude grid|BOXES]
  onnx-explain maximize MODEL (--target K | --layer NAME --channel C) --out IMG.png|IMG.npy
  onnx-explain contrast --classifier D.onnx --generator G.onnx --input I.npy --true A --probe B --out-dir DIR
  onnx-explain export-triton MODEL --method M --out REPO [--name NAME] [--max-batch N] [--shape DIMS]

Methods: ${methodNames.join(', ')}
Run 'onnx-explain COMMAND --help' for a command's options; 'onnx-explain --version' prints the version.`;

const methodHelp = (methods: string[]) => `  --method M            ${methods.join(' | ')} (default gradient)`;
/** The methods that run one graph, which rewrite and export-triton save. */
const SAVED_METHODS = methodNames.filter((m) => drivers[m].graph);
/** What the path methods read where they run (attribute, visualize); rewrite saves integrated gradients' graph alone. */
const PATH_HELP = {
  run: `  --steps N             integrated-gradients, internal-influence, layer-conductance, neuron-conductance:
                        points on the path (default 50)
  --ig-method M         their quadrature: ${IG_METHODS.join(' | ')}
                        (Captum's nodes and weights; default gausslegendre, riemann_trapezoid for
                        neuron-conductance as in Captum)
  --neuron I|i:j:…      neuron-conductance: the neuron of --layer (flat index or multi-index)
`,
  saved: `  --steps N             integrated-gradients: the points of one run, the length of the saved graph's 'alphas'
                        and 'weights' inputs (default 50; the caller gives the quadrature's nodes and weights;
                        1 where the model's batch is fixed: one run per point)
`,
  none: '',
};
/** The options of the commands that build augmented graphs, with the path methods' as `path` reads them. */
const optionsHelp = (path: keyof typeof PATH_HELP) => `  --output NAME         tensor to explain: a model output (required when it has several float ones) or
                        any float tensor of the graph ('onnx-explain info' lists them)
  --layer NAME          attributions with respect to this intermediate tensor (layer attribution${path === 'run' ? `;
                        feature-ablation and feature-permutation perturb its values` : ''})
  --explain-softmax     explain a final Softmax's output instead of its input logits (LRP: also a
                        final Sigmoid's, whose logit LRP explains by default)
  --epsilon E           LRP ε (default 1e-6; Captum's EpsilonRule uses 1e-9)
  --stabilizer S        LRP: the stabiliser of every share but the ε rule of weighted ops (z⁺, α-β, γ,
                        flat, w², z^B, sums, averages; Zennit's stabilizer; default: --epsilon)
  --alpha A --beta B    lrp-alphabeta weights (default 2 and 1)
  --gamma G             LRP-γ's γ (default 0.25): lrp-epsilon-gamma-box, --lrp-rule NAME=gamma
  --box-low L --box-high H
                        the z^B rule's bounds of its layer's input, a number or one per channel
                        (lrp-epsilon-gamma-box's first convolution, --lrp-rule NAME=zbox; required there)
  --lrp-rule NAME=RULE  an LRP method's rule for one layer (node or output name; repeatable):
                        ${LRP_LAYER_RULES.join(' | ')}
  --maxpool-rule R      DeepLIFT max pooling: deeplift (eq. 11, default) | shapley (SHAP/Captum)
  --lrp-maxpool R       LRP max pooling: winner (default) | epsilon (Captum)
  --onehot-axis A       DeepLIFT §2.6 weight normalisation of the first Conv for one-hot inputs
  --no-multiply-by-inputs
                        deeplift, deeplift-shap, integrated-gradients, gradient-shap, input-x-gradient,
                        neuron-conductance: leave out the factor x − x⁰ (at a layer A − A⁰; Captum's
                        multiply_by_inputs=False: DeepLIFT's multipliers, the path's mean gradient)
${PATH_HELP[path]}  --provider P          ${PROVIDERS.join(' | ')} (default cpu; falls back to cpu with a warning; wasm: where
                        onnxruntime-node's native binding is missing)
  --wrt NAME            the model input to explain when it has several (default: its one float input, else its token ids);
                        'all' (every float input), A,B or --wrt A --wrt B (float inputs or token ids, each
                        at its embedding): joint attribution, one per input from one backward pass
                        (Captum's tuple of inputs, or of embedding layers); --input gives the first of
                        them (graph order for all), --feed the others
  --unbatched           the model takes one sample without a batch axis (exported from an unbatched
                        example): give inputs with a leading batch axis; rows run one at a time
  --feed NAME=FILE      another input's values (.npy or a JSON list; one row or one per row); repeatable.
                        Inputs not fed get zeros (ones for inputs named *mask*), with a note

Class activation maps (cam, grad-cam, guided-grad-cam; one graph, saved by rewrite):
  --layer NAME          grad-cam, guided-grad-cam: the layer, rank 3 or more (onnx-explain info --layers;
                        default: the map the global pooling reads, else the last convolution's)
  --no-relu             grad-cam: keep the map's negative part (ReLU is on by default)
  --upsample            resize the map to the input's spatial size (always on for --out .png)
  --interpolate M       bilinear (default) | nearest (guided-grad-cam's default, as Captum)
  --token-grid H,W      grad-cam, guided-grad-cam on a transformer's token layer [N, tokens, channels] (ViT):
                        its last H·W tokens are the patch grid, channels last (pytorch-grad-cam's
                        reshape_transform); the tokens before them (class, distillation) are left out`;

const RUN_HELP = `  --threads N           onnxruntime intra-op threads (default: one per physical core; one under a million weights)
  --cache-dir DIR       keep augmented graphs here between runs (default ${'$'}ONNX_EXPLAIN_CACHE_DIR or the OS cache folder;
                        at most 4 GiB or ${'$'}ONNX_EXPLAIN_CACHE_MAX_MB, least recently used entries removed first)
  --no-cache            neither read nor write cached graphs`;

const HELP: Record<string, string> = lookupTable({
  filters: FILTERS_HELP,
  maximize: MAXIMIZE_HELP,
  contrast: CONTRAST_HELP,
  'export-triton': `${EXPORT_TRITON_HELP}\n${methodHelp(TRITON_METHODS)}\n${optionsHelp('none')}`,
  info: `onnx-explain info MODEL [--shape DIMS] [--layers [--feed NAME=FILE]]

Prints the model's inputs, outputs, opsets, op histogram and the ops without a backward rule.

  --layers              also list the tensors of rank 3 or more computed from the input (candidate layers for
                        grad-cam and filters) with their shapes, Grad-CAM's default marked
  --shape DIMS          input shape at which the explainable tensors, the loops written out and
                        --layers are listed when the model's sizes are dynamic
  --feed NAME=FILE      another input's values for --layers (token ids whose values set shapes;
                        fed ids also give the sequence length in place of --shape)
  --unbatched           the model takes one sample without a batch axis (see attribute --help)
  --threads N           onnxruntime intra-op threads for the probe (default: one per physical core; one under a
                        million weights)
  --cache-dir DIR       keep the probe between runs (see attribute --help); --no-cache: neither read nor write it`,
  attribute: `onnx-explain attribute MODEL --input X [options]

  --input X             .npy (float16/32/64 or 8/16-bit integers, C or Fortran order, batch first) or a PNG/JPEG image; for text
                        models token ids as .npy (int64/int32) or a .json file of a list, e.g. [[1, 17, 5, 2]];
                        NAME=X names the explained input (the other inputs: --feed)
  --preprocess P        for images: torchvision (resize, centre crop, ImageNet mean/std; default) | tf (Keras
                        load_img + preprocess_input mode 'tf': [-1,1]) | caffe (Keras mode 'caffe': BGR less
                        the ImageNet means, 0-255 scale; Keras ResNet50, VGG) | none ([0,1] pixels; the default
                        where the model subtracts [0,1] means itself) | pixels ([0,255]; the default for
                        integer image inputs and where the model subtracts mean pixels or scales by 1/255 itself)
  --mean M --std S      image inputs normalised as torchvision's Normalize(M, S) instead of the preset's
                        (with torchvision or none; one value, or one per channel: --mean 0.1307 --std 0.3081)
  --target K            class index for all rows, or K1,K2,... one per row (default: argmax per row;
                        -1 is the last class);
                        a multi-index over the explained tensor's non-batch axes is written i:j
                        (3:17 for all rows, 3:17,4:2,0:9 one per row)
  --reduce sum|mean     explain the sum or mean of the tensor over --reduce-axes (default: all
                        non-batch axes); --target then indexes the remaining axes
  --reduce-axes A,B     axes of the explained tensor to reduce (batch is 0; negative from the end),
                        e.g. --reduce mean --reduce-axes 2,3 --target C: channel C's mean activation
  --reduce-weights W.npy weights of the tensor's values in the reduction (--reduce defaults to sum): a
                        0/1 mask explains a class over the pixels predicted as it (Captum's segmentation
                        wrapper); broadcastable to a row of the tensor, or one per row
  --contrast B          explain "target rather than B": seed e_target − e_B (one value or one per row)
  --baseline B.npy      reference input for deeplift and integrated-gradients: one row or one per row
                        (default zeros), or a number (that value everywhere, as Captum's scalar
                        baselines); joint attribution: NAME=B.npy,NAME2=0.5 per input (a bare
                        number: every float input's not named);
                        deeplift-shap and gradient-shap: K rows, the baseline distribution;
                        text models: token ids (.npy int64/int32 or JSON, e.g. [[101, 0, 0, 102]],
                        Captum's ref_input_ids) whose embeddings are the reference
  --noise-tunnel K      ${NOISE_TUNNELS.join(' | ')}: Captum's NoiseTunnel around the method (mean,
                        mean of squares, variance of the attributions of noisy copies; --seed seeds it)
  --noise-std F         noise σ as a fraction of each row's value range max − min (default 0.15;
                        gradient-shap: default 0)
  --stdevs F            noise σ in the input's own units, as Captum's stdevs (instead of --noise-std;
                        Captum's NoiseTunnel defaults to 1)
  --samples S           noisy copies per row (default 5); gradient-shap: draws per row (default 5);
                        shapley-value-sampling: orders of the groups per row, kernel-shap and
                        lime: coalitions per row (default 25, 25 and 50)
  --draw-baseline-from-distrib
                        noise tunnel: each noisy copy's baseline is a row drawn from --baseline's K rows
                        (Captum's draw_baseline_from_distrib)
  --baseline-token ID   text models: the baseline is this token's embedding at every position (default zeros)
  --softmax-normalize   DeepLIFT §2.5: centre the seed over the final Softmax's classes
  --out FILE            .npy to save attributions (the input's shape, or see --layer and CAM), .png for a figure (see below);
                        joint attribution writes OUT.<input>.npy per input
${VIS_HELP}
${RUN_HELP}
${methodHelp(methodNames)}
${optionsHelp('run')}

Perturbation methods (occlusion, feature ablation and permutation, Shapley values, KernelShap, LIME; batched
forwards; a progress bar on a terminal):
  --window W            occlusion window per input dimension without the batch, e.g. 3,15,15 (text models:
                        per token axis, each token's whole embedding occluded)
  --stride S            occlusion stride: one value or one per dimension (default 1)
  --feature-mask M.npy  feature-ablation, feature-permutation, Shapley, KernelShap and LIME groups: integer ids
                        broadcastable to the input
  --fill V              what replaces occluded features: a number (default 0) or random (seeded);
                        --baseline B.npy fills with the baseline instead
  --seed N              seed of the random fill, the noise tunnel, gradient-shap's draws, the
                        Shapley orders, KernelShap's and LIME's coalitions and the feature
                        permutations (default 0)
  --internal-batch-size B  perturbed rows per forward run (default 16); for the other methods the
                        most model rows (input rows, or points or copies × rows) per run
                        (default: what fits in a quarter of the memory)

${ATTRIBUTE_DIR_HELP}`,
  visualize: `onnx-explain visualize MODEL --input X --methods M1,M2,... --out FIG.png [options]

Draws a figure comparing methods (FeatureVis Fig. 3): one row per input row (input, then one panel
per method with its colour scale, captioned with target, prediction and probability). Images get
channel-summed maps, 1-D inputs per-position bar plots.

  --input X             .npy or a PNG/JPEG image (as for attribute, with --preprocess, --mean, --std)
  --baseline B          reference methods' baseline, as for attribute
  --methods M1,M2,...   the methods to compare (default gradient); the perturbation methods read
                        --window, --stride, --fill, --seed, --internal-batch-size and --feature-mask
                        as attribute does
  --target K            class index for all rows, or one per row (default: argmax per row)
  --contrast, --softmax-normalize, --reduce, --reduce-axes, --reduce-weights, --baseline-token,
  --noise-tunnel, --noise-std, --stdevs, --samples, --draw-baseline-from-distrib
                        as for attribute, given to the methods that read them
  --out FIG.png         the figure
${VIS_HELP}
${RUN_HELP}
${optionsHelp('run')}`,
  rewrite: `onnx-explain rewrite MODEL --method M --out AUG.onnx [options]

Saves the augmented graph as a standalone ONNX model. Inputs: the model's inputs and 'seed'
(same shape as the explained output: put 1 at the target class). Outputs: the model's outputs and
'attribution' (the input's shape; the layer's with --layer, (N, 1, h, w) for a class activation
map). Joint attribution (--wrt all or A,B): one output 'attribution:<input>' per input, and
reference inputs 'baseline:<input>'.

  --out AUG.onnx        where to write the augmented model (must differ from MODEL)
  --shape DIMS          input shape, e.g. 1,3,224,224 (needed when the model's sizes are dynamic)
  --zero-baseline       ${Object.keys(methods).filter((m) => methods[m].reference).join(', ')}: the zero reference is built into the graph (no 'baseline' input)

Loop methods save the graph one optimisation step runs (README: "Saved loop graphs"):
  rewrite MODEL --method maximize (--target K | --layer NAME --channel C) [--wrt NAME --feed NAME=FILE] [--lp-weight W --p P
      --tv-weight W --tv-beta B] --out OBJ.onnx      input → objective, activation, gradient
  rewrite --classifier D --generator G --method cdeepex|xgems [--generator-feed NAME=FILE] --out AL.onnx
      z, residual, z0, class_a, class_b, others, lambda, rho, mu_a, mu_b → objective, gradient
      (∂/∂z), D's logits, G(z)
${methodHelp([...SAVED_METHODS, ...Object.keys(LOOP_GRAPHS)])}
${optionsHelp('saved')}`,
});

const COMMON_FLAGS = {
  method: true, output: true, 'explain-softmax': false, provider: true, help: false, epsilon: true, alpha: true, beta: true, stabilizer: true, gamma: true, 'box-low': true, 'box-high': true, 'lrp-rule': true,
  'no-multiply-by-inputs': false,
  'maxpool-rule': true, 'lrp-maxpool': true, 'onehot-axis': true, layer: true, 'no-relu': false, upsample: false, interpolate: true, 'token-grid': true,
  steps: true, 'ig-method': true, wrt: true, feed: true, neuron: true, unbatched: false,
};

const PERTURBATION_FLAGS = { window: true, stride: true, fill: true, seed: true, 'internal-batch-size': true, 'feature-mask': true };

/** What is explained (the seed: contrasts, reductions, the baseline token) and the noise tunnel around it: attribute's and visualize's. */
const SEED_FLAGS = {
  contrast: true, 'baseline-token': true, 'softmax-normalize': false, reduce: true, 'reduce-axes': true, 'reduce-weights': true, 'noise-tunnel': true, 'noise-std': true, stdevs: true, samples: true, 'draw-baseline-from-distrib': false,
};

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  // The CLI reports failures itself, in one line; onnxruntime's own log would add native lines
  // (e.g. when the CUDA provider's libraries are missing).
  ortApi().env.logLevel = 'fatal';
  // Warnings (a provider falling back, ...) are printed once the command has succeeded: a command
  // that fails prints only its one error line, which names the cause.
  const held: unknown[][] = [];
  const warn = console.warn;
  console.warn = (...args: unknown[]) => { held.push(args); };
  try {
    const code = await runCommand(command, rest);
    console.warn = warn;
    for (const args of held) console.warn(...args.map((a) => (typeof a === 'string' ? printable(a) : a)));
    return code;
  } catch (e) {
    return reportError(e);
  } finally {
    console.warn = warn;
  }
}

async function runCommand(command: string, rest: string[]): Promise<number> {
  // Node decodes arguments as UTF-8, other bytes as U+FFFD: a path with them would name another file.
  const mangled = rest.some((a) => a.includes('\uFFFD')) ? nonUtf8Argument() : undefined;
  if (mangled !== undefined) throw new ExplainError(`argument '${mangled}' holds bytes that are not UTF-8 (shown as \uFFFD), which Node cannot pass on: rename the file to a UTF-8 name`);
  if (command === '--version' || command === '-V') {
    say(ownManifest().version);
    return 0;
  }
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    console.log(USAGE);
    if (!command) throw new ExplainError('no command given (the usage above; onnx-explain COMMAND --help for each)');
    return 0;
  }
  if (!(command in HELP)) throw new ExplainError(`unknown command '${command}' (commands: ${Object.keys(HELP).join(', ')}; see onnx-explain --help)`);
  const [known, run] = COMMANDS[command];
  let p: Parsed;
  try {
    p = parseArgs(rest, { ...known, help: false }, command);
  } catch (e) {
    // Help asked beside an option the command does not know still gets it (not '-h' as an option's value).
    const value = (flag: string | undefined) => !!flag?.startsWith('--') && !flag.includes('=') && Object.hasOwn(known, flag.slice(2)) && known[flag.slice(2)];
    if (!rest.some((a, i) => (a === '-h' || a === '--help') && !value(rest[i - 1]))) throw e;
    p = { positional: ['-h'], flags: new Map() };
  }
  // -h where it is no option's value (an output named '-h' is one).
  if (p.flags.has('help') || p.positional.includes('-h')) {
    console.log(HELP[command]);
    return 0;
  }
  await run(p);
  return 0;
}

function reportError(e: unknown): number {
  const { code, path: file, syscall } = (e ?? {}) as NodeJS.ErrnoException;
  const [message, status] = e instanceof ExplainError ? [e.message, 1]
    : code && file ? [fileError(e, file).message, 1]
    // process.cwd() of a folder deleted under the process: relative paths name nothing.
    : syscall === 'uv_cwd' ? ['the working folder no longer exists: run from an existing folder or give absolute paths', 1]
    : [firstLine(e), 2];
  // A progress bar on a terminal ends without a newline: the error line replaces it.
  clearBar();
  console.error(`onnx-explain: error: ${printable(message)}`);
  return status;
}

export function modelArg(p: Parsed, command: string): string {
  if (p.positional.length !== 1) throw new ExplainError(`${command}: expected one MODEL path (see onnx-explain ${command} --help)`);
  return p.positional[0];
}

export function provider(p: Parsed): Provider {
  const v = (p.flags.get('provider') as string | undefined) ?? 'cpu';
  if (!PROVIDERS.includes(v as Provider)) throw new ExplainError(`--provider: '${v}' is not one of ${PROVIDERS.join(', ')}`);
  return v as Provider;
}

/** Flags of commands that run graphs: threads and the graph cache. */
const RUN_FLAGS = { threads: true, 'cache-dir': true, 'no-cache': false };

/** Each command's options (true: takes a value) and what runs it. */
const COMMANDS: Record<string, [Record<string, boolean>, (p: Parsed) => Promise<unknown>]> = lookupTable({
  info: [{ layers: false, shape: true, unbatched: false, feed: true, ...RUN_FLAGS }, info],
  attribute: [{ ...COMMON_FLAGS, ...PERTURBATION_FLAGS, ...VIS_FLAGS, ...ATTRIBUTE_DIR_FLAGS, input: true, target: true, out: true, preprocess: true, mean: true, std: true, baseline: true, ...SEED_FLAGS, ...RUN_FLAGS }, attribute],
  visualize: [{ ...COMMON_FLAGS, ...PERTURBATION_FLAGS, ...VIS_FLAGS, input: true, target: true, out: true, preprocess: true, mean: true, std: true, baseline: true, methods: true, ...SEED_FLAGS, ...RUN_FLAGS }, visualizeMethods],
  filters: [FILTERS_FLAGS, filters],
  maximize: [MAXIMIZE_FLAGS, maximizeCommand],
  contrast: [CONTRAST_FLAGS, contrastCommand],
  rewrite: [{ ...COMMON_FLAGS, ...LOOP_REWRITE_FLAGS, out: true, shape: true, 'zero-baseline': false }, rewrite],
  'export-triton': [{ ...COMMON_FLAGS, ...EXPORT_TRITON_FLAGS }, exportTriton],
});

export function runOptions(p: Parsed): ExplainerOptions {
  const threads = intFlag(p, 'threads');
  if (threads !== undefined && threads < 1) throw new ExplainError(`--threads: '${threads}' must be at least 1`);
  if (p.flags.has('cache-dir') && p.flags.has('no-cache')) throw new ExplainError('--cache-dir and --no-cache: choose one (--no-cache reads and writes no cache)');
  const cache = p.flags.has('no-cache') ? undefined : folderCache((p.flags.get('cache-dir') as string | undefined) ?? defaultCacheDir());
  return { cache, sessionOptions: { intraOpNumThreads: threads } };
}

function choice<T extends string>(p: Parsed, flag: string, allowed: T[]): T | undefined {
  const v = p.flags.get(flag) as string | undefined;
  if (v !== undefined && !allowed.includes(v as T)) throw new ExplainError(`--${flag}: '${v}' is not one of ${allowed.join(', ')}`);
  return v as T | undefined;
}

export function commonOptions(p: Parsed): AttributeOptions {
  const number = (flag: string) => (p.flags.has(flag) ? num(p.flags.get(flag) as string, `--${flag}`) : undefined);
  // One number, or one per channel.
  const numbers = (flag: string) => {
    const values = p.flags.has(flag) ? numList(p.flags.get(flag) as string, `--${flag}`) : undefined;
    return values?.length === 1 ? values[0] : values;
  };
  const onehot = p.flags.get('onehot-axis') as string | undefined;
  return {
    method: p.flags.get('method') as string | undefined,
    output: p.flags.get('output') as string | undefined,
    explainSoftmax: p.flags.has('explain-softmax') || undefined,
    epsilon: number('epsilon'),
    alpha: number('alpha'),
    beta: number('beta'),
    multiplyByInputs: p.flags.has('no-multiply-by-inputs') ? false : undefined,
    stabilizer: number('stabilizer'),
    gamma: number('gamma'),
    boxLow: numbers('box-low'),
    boxHigh: numbers('box-high'),
    lrpRules: lrpRulesArg(p.flags.get('lrp-rule') as string | undefined),
    maxpoolRule: choice(p, 'maxpool-rule', ['deeplift', 'shapley']),
    lrpMaxpool: choice(p, 'lrp-maxpool', ['winner', 'epsilon']),
    onehotAxis: onehot === undefined ? undefined : int(onehot, '--onehot-axis'),
    layer: p.flags.get('layer') as string | undefined,
    neuron: neuronArg(p),
    relu: p.flags.has('no-relu') ? false : undefined,
    upsample: p.flags.has('upsample') || undefined,
    interpolate: choice(p, 'interpolate', ['bilinear', 'nearest']),
    tokenGrid: p.flags.has('token-grid') ? tokenGridArg(p.flags.get('token-grid') as string) : undefined,
    steps: intFlag(p, 'steps'),
    igMethod: choice(p, 'ig-method', [...IG_METHODS]),
    feeds: feeds(p.flags.get('feed') as string | undefined),
  };
}

/** --lrp-rule NAME=RULE[,NAME=RULE...] (repeatable): a layer's LRP rule by node or tensor name. */
function lrpRulesArg(flag: string | undefined): Record<string, LrpLayerRule> | undefined {
  if (flag === undefined) return undefined;
  const rules: Record<string, LrpLayerRule> = Object.create(null);
  for (const item of flag.split(',')) {
    const [name, rule] = namedValue(item, (_name, value) => (LRP_LAYER_RULES as readonly string[]).includes(value));
    if (!name || !rule) throw new ExplainError(`--lrp-rule: '${item}' is not NAME=RULE (rules: ${LRP_LAYER_RULES.join(', ')})`);
    if (Object.hasOwn(rules, name)) throw new ExplainError(`--lrp-rule: layer '${name}' is given twice`);
    rules[name] = rule as LrpLayerRule;
  }
  return rules;
}

/** --feed NAME=FILE[,NAME=FILE...]: each file read as .npy or a JSON list. */
export function feeds(flag: string | undefined, what = '--feed'): Record<string, DenseInput> | undefined {
  if (flag === undefined) return undefined;
  const given: Record<string, DenseInput> = Object.create(null);
  for (const { item, name, file } of feedItems(flag)) {
    if (!name || !file) throw new ExplainError(`${what}: '${item}' is not NAME=FILE`);
    if (Object.hasOwn(given, name)) throw new ExplainError(`${what}: input '${name}' is given twice`);
    given[name] = readArray(file);
  }
  return given;
}

/**
 * NAME=VALUE split at the first '=' where `fits` (the name a model input, the value an existing
 * file: TensorFlow's names may hold '='), else at the first.
 */
export function namedValue(item: string, fits: (name: string, value: string) => boolean): [string, string | undefined] {
  for (let k = item.indexOf('='); k > 0; k = item.indexOf('=', k + 1)) if (fits(item.slice(0, k), item.slice(k + 1))) return [item.slice(0, k), item.slice(k + 1)];
  const [name, value] = item.split(/=(.*)/s, 2);
  return [name, value];
}

/** The NAME=FILE items of --feed (or another such flag), split where the file exists. */
function feedItems(flag: string): { item: string; name: string; file?: string }[] {
  return flag.split(',').map((item) => {
    const [name, file] = namedValue(item, (_name, value) => fs.existsSync(value));
    return { item, name, file };
  });
}

function noiseOptions(p: Parsed): AttributeOptions {
  return {
    noiseTunnel: choice(p, 'noise-tunnel', [...NOISE_TUNNELS]),
    noiseStd: p.flags.has('noise-std') ? num(p.flags.get('noise-std') as string, '--noise-std') : undefined,
    stdevs: p.flags.has('stdevs') ? num(p.flags.get('stdevs') as string, '--stdevs') : undefined,
    samples: intFlag(p, 'samples'),
    drawBaselineFromDistrib: p.flags.has('draw-baseline-from-distrib') || undefined,
  };
}

function reduceOptions(p: Parsed): AttributeOptions {
  const axes = p.flags.get('reduce-axes') as string | undefined;
  const reduce = choice(p, 'reduce', ['sum', 'mean']);
  const weights = p.flags.get('reduce-weights') as string | undefined;
  if (axes !== undefined && !reduce && weights === undefined) throw new ExplainError('--reduce-axes needs --reduce sum|mean (or --reduce-weights, a weighted sum)');
  return { reduce, reduceAxes: axes === undefined ? undefined : intList(axes, '--reduce-axes'), reduceWeights: weights === undefined ? undefined : readNpy(weights) };
}

/**
 * --target / --contrast: K (all rows), K1,K2,... (one per row); an entry may be a multi-index
 * i:j:... over the explained tensor's non-batch axes (3:17 for all rows, 3:17,4:2,... per row).
 */
function targets(p: Parsed, flag: string): Target | undefined {
  const v = p.flags.get(flag) as string | undefined;
  if (v === undefined) return undefined;
  const entries = v.split(',').map((e) => {
    const parts = intList(e.replace(/:/g, ','), `--${flag}`);
    return e.includes(':') ? parts : parts[0];
  });
  if (entries.some((e) => Array.isArray(e) !== Array.isArray(entries[0]))) throw new ExplainError(`--${flag}: '${v}' mixes class indices and multi-indices`);
  return entries.length === 1 ? (Array.isArray(entries[0]) ? [entries[0]] : entries[0]) : entries;
}

/** --token-grid H,W: two positive integers. */
function tokenGridArg(v: string): [number, number] {
  const hw = intList(v, '--token-grid');
  if (hw.length !== 2 || hw.some((d) => d < 1)) throw new ExplainError(`--token-grid: '${v}' is not H,W (two positive integers: the patch grid)`);
  return [hw[0], hw[1]];
}

/** --neuron I (row-major flat index) or i:j:… (a multi-index over the layer's non-batch axes). */
function neuronArg(p: Parsed): number | number[] | undefined {
  const v = p.flags.get('neuron') as string | undefined;
  if (v === undefined) return undefined;
  const parts = intList(v.replace(/:/g, ','), '--neuron');
  if (v.includes(',')) throw new ExplainError(`--neuron: '${v}' is not one index (I or i:j:…)`);
  return v.includes(':') ? parts : parts[0];
}

/** Ops that the Explainer's canonicalisation writes out when what they depend on is known (rewriter/inline-if.ts, rewriter/static-loops.ts). */
const FLATTENED = /^(If|Loop|Scan|Sequence\w+|SplitToSequence|ConcatFromSequence)$/;

/** How many of the explainable tensors nearest the end of the graph `info` lists. */
const EXPLAINABLE_SHOWN = 12;

async function info(p: Parsed): Promise<void> {
  const file = modelArg(p, 'info');
  if (p.flags.has('feed') && !p.flags.has('layers')) throw new ExplainError('info: --feed applies only with --layers');
  // Every float input is explained (jointly); a model without one is explained at its token ids.
  const { cache } = runOptions(p);
  const unbatched = p.flags.has('unbatched');
  // Asked for every input by info itself, not by the user: no note on those --wrt all leaves out.
  const warn = (m: string) => { if (!/: --wrt all: /.test(m)) console.warn(m); };
  const ex = await Explainer.load(file, { wrt: ALL_INPUTS, cache, unbatched, warn }).catch(() => Explainer.load(file, { cache, unbatched }));
  const { view } = ex;
  // --layers needs sizes: a dynamic input without --shape is refused before anything is printed.
  const given = p.flags.has('layers') ? feeds(p.flags.get('feed') as string | undefined) : undefined;
  // Fed token ids give the embedded row's length: [L, width].
  const ids = ex.tokens && !p.flags.has('shape') ? given?.[ex.tokens.ids.name] : undefined;
  const layerRows = !p.flags.has('layers') ? undefined : ids ? [...ids.dims.slice(1), ...ex.tokens!.rowDims] : shapeArg(p, ex).slice(1);
  // '[]' is a scalar's declared shape; a tensor that declares none says so.
  const dims = (vi: (typeof view.inputs)[number]) => {
    const shape = vi.type?.tensor_type?.shape;
    return shape ? `[${(shape.dim ?? []).map((d) => d.dim_param || toNumber(d.dim_value) || '?').join(', ')}]` : '(shape not declared)';
  };
  say(`model: ${ex.label}`);
  const original = new GraphView(ex.model, ex.label);
  const scatter = view.nodes.some((n) => n.op_type === 'ScatterElements');
  const why = { [GATHER_ELEMENTS_OPSET]: scatter ? 'where Scatter is ScatterElements, whose gradient needs GatherElements' : 'the first with GatherElements, which MaxUnpool\'s gradient needs', [QDQ_AXIS_OPSET]: 'where QuantizeLinear and DequantizeLinear take an axis, as its quantizers need', [WIDE_QDQ_OPSET]: 'where QuantizeLinear takes 16- and 4-bit types, as its com.microsoft quantizers need' }[view.opset] ?? 'the first with Where, which augmented graphs need';
  const lowered = `the newest at which onnxruntime-web's WebGPU kernels run every op; it uses nothing newer`;
  const lifted = view.opset !== original.opset ? ` (read as opset ${view.opset}, ${view.opset < original.opset ? lowered : why})` : '';
  say(`opsets: ${[...original.opsets].map(([d, v]) => `${d || 'ai.onnx'} ${v}`).join(', ')}${lifted}`);
  say(`producer: ${view.model.producer_name ?? ''} ${view.model.producer_version ?? ''}`.trimEnd());
  const types = typesReadInFloat32(ex.model);
  if ([...HALF].some((t) => types.has(t))) say('precision: half-precision values, explained in float32 (widened exactly; outputs differ by half rounding)');
  if (types.has(DataType.DOUBLE)) say('precision: float64 values, explained in float32 (narrowed; outputs differ by float32 rounding, more where the model relies on float64, as a variance E[x²] − E[x]² of large values does)');
  const inputs = modelInputs(original);
  const floats = explainableFloats(inputs);
  const byDefault = (() => { try { return explainedInputs(original, inputs, undefined, ex.label).inputs.map((i) => i.name); } catch { return []; } })();
  const merged = inputs.some((i) => /use_cache/i.test(i.name)) && !ex.inputs.some((i) => /use_cache/i.test(i.name));
  const role = (i: ModelInput) => {
    // Token ids are read by the embedding Gather, which the explained view starts after.
    if (ex.tokens?.ids.name === i.name) {
      const parts = ex.tokens.embedding.parts;
      return parts ? `token ids: explained at their lookups ${parts.map((p) => `'${p.output}'`).join(', ')}, side by side as '${ex.input.name}' (--wrt ${i.name})` : `token ids: explained at the embedding output '${ex.input.name}' (--wrt ${i.name})`;
    }
    const read = ex.inputs.find((e) => e.name === i.name);
    const categories = read?.categories;
    if (categories) return `a string column (categories ${categories.map((c) => `'${c}'`).join(', ')}): fed with --feed ${i.name}=FILE.json, a JSON list of strings (default: empty strings, in no category)`;
    if (i.elemType === DataType.STRING) return `left out with the nodes and outputs computed from it${leftOut.length ? ` (${leftOut.join(', ')})` : ''}: onnx-explain feeds numeric tensors only`;
    if (!ex.view.nodes.some((n) => n.input?.includes(i.name)) && i.name !== ex.input.name) return `not read${merged ? ' (an optimum merged decoder, read as its first pass: no generation cache)' : ''}`;
    if (read?.copiedOnly) return 'only copied to outputs: fed zeros, not explained (--feed gives it)';
    if (isCacheInput(i) && isStateInput(i)) return `fixed-size cache or state: zeros by default (before the first token; --feed ${i.name}=FILE gives one)`;
    if (isCacheInput(i)) return `generation cache: empty by default (a prompt with no past; --feed ${i.name}=FILE gives one)`;
    if (unbatched && ex.explained.some((e) => e.name === i.name)) return 'explained, one sample without a batch axis (--unbatched)';
    if (i.handedBack) return `recurrent state, handed back as '${i.handedBack}': fed with --feed ${i.name}=FILE (default zeros, the state before the first call)`;
    if (isBatchless(i, inputs)) return `no batch axis: fed with --feed ${i.name}=FILE, one value for every row (default ${defaultText(i)})`;
    if (read?.otherBatch) return `a batch axis of its own ('${i.params[0]}', as the output's): fed with --feed ${i.name}=FILE, all its rows for every row (default one row of ${defaultText(i)})`;
    if (isFloatType(i.elemType) && floats.length > 1 && byDefault.length) return byDefault.includes(i.name) ? 'explained (the others fed; --wrt all joins them)' : `fed with --feed ${i.name}=FILE (default zeros): only ArgMax, comparisons or shapes read it`;
    if (isFloatType(i.elemType)) return floats.length === 1 ? 'explained' : `explained with --wrt ${i.name} (the others fed), or jointly with --wrt all`;
    if (ex.explained.some((e) => e.name === i.name)) return 'explained as float32 values (the model reads it only through Casts to float)';
    // Other token ids with their own embedding (token types, positions) join the explained ones.
    const joins = ex.tokens && !isFloatType(i.elemType) && embeddingsOf(original, i.name).length ? `; or explained jointly with --wrt ${ex.tokens.ids.name},${i.name}` : '';
    return `fed with --feed ${i.name}=FILE (default ${defaultText(i)})${joins}`;
  };
  const defaultText = (i: ModelInput) => ({ ones: 'ones', positions: 'positions 0…L−1', lengths: 'whole sequences', zeros: 'zeros' })[defaultKind(i)];
  const leftOut = (original.graph.output ?? []).map((o) => o.name ?? '').filter((o) => !view.graph.output?.some((v) => v.name === o));
  original.inputs.forEach((vi, k) => say(`input: ${vi.name} ${dims(vi)} ${inputs[k].elemType === DataType.STRING ? 'string' : typeName(inputs[k].elemType)}: ${role(inputs[k])}`));
  for (const o of view.graph.output ?? []) {
    if (!isTensorValue(o)) {
      say(`output: ${o.name} (${Object.keys(o.type ?? {})[0]?.replace('_type', '') ?? 'not a tensor'} from ${view.producer.get(o.name ?? '')?.op_type ?? 'the graph'}: not explained)`);
      continue;
    }
    const { from } = ex.resolveOutput(o.name);
    say(`output: ${o.name} ${dims(o)}${from !== o.name ? ` (final Softmax: its input '${from}' is explained)` : ''}`);
  }
  const outputs = view.graph.output ?? [];
  const chosen = (() => { try { return ex.resolveOutput(undefined); } catch { return undefined; } })();
  // Also a model's one output when another tensor is explained (the scores an ArgMax picks from).
  if (chosen && (outputs.length > 1 || chosen.output !== outputs[0]?.name)) say(`explained without --output: ${chosen.output}${chosen.from !== chosen.output ? ` (its Softmax input '${chosen.from}')` : ''}`);
  const histogram = new Map<string, number>();
  const keyOf = (n: NodeProto) => opKey(n.op_type ?? '', n.domain);
  for (const n of view.nodes) if (!isViewNode(n)) histogram.set(keyOf(n), (histogram.get(keyOf(n)) ?? 0) + 1);
  say('ops:');
  for (const [op, count] of [...histogram].sort((a, b) => b[1] - a[1])) say(`  ${op.padEnd(24)} ${count}`);
  const rewritten = new Map<string, number>();
  for (const n of original.nodes) if (!histogram.has(keyOf(n))) rewritten.set(keyOf(n), (rewritten.get(keyOf(n)) ?? 0) + 1);
  if (rewritten.size) say(`read in standard ops (the counts above): ${[...rewritten].map(([op, c]) => `${op} ×${c}`).join(', ')}`);
  // Ops whose outputs are shapes, indices or booleans: never differentiated.
  const structural = STRUCTURAL_OPS;
  const data = new Set(view.inputs.map((i) => i.name ?? ''));
  const onPath = new Set<string>();
  for (const n of view.nodes) {
    if (structural.has(n.op_type ?? '') || !nodeReads(n).some((i) => data.has(i))) continue;
    onPath.add(keyOf(n));
    for (const o of n.output ?? []) data.add(o);
  }
  const rowDims = p.flags.has('shape') ? shapeArg(p, ex).slice(1) : ex.input.dims.slice(1);
  const sized = rowDims.every((d) => d > 0);
  let unprepared: string | undefined;
  const prepared = sized ? await ex.prepare(rowDims).catch((e) => { unprepared = firstLine(e); return undefined; }) : undefined;
  const tensors = await ex.explainableTensors(rowDims);
  const shown = tensors.slice(-EXPLAINABLE_SHOWN);
  say(`explainable tensors (--output or --layer; the last ${shown.length} of ${tensors.length} computed from ${ex.explained.length > 1 ? 'the float inputs' : 'the input'}):`);
  for (const t of shown) say(`  ${t.name} [${t.shape ? ['N', ...t.shape.slice(1)].join(', ') : '?'}] (${t.op})`);
  // Shapes come from running one row; where the declared row cannot run, say why (a first axis that is no batch).
  if (unprepared && shown.some((t) => !t.shape)) say(`shapes unknown: one row of the input does not run: ${unprepared}`);
  // Recurrent cells are unrolled into supported ops before the walk.
  const quantizers = view.nodes.filter((n) => readPerRow(view, n));
  const perRow = (op: string) => op === 'DynamicQuantizeLinear' && quantizers.length === histogram.get(op);
  // Loops of known trip count and sequences of known positions become standard ops for an input shape.
  const kept = new Set(prepared?.view.nodes.map(keyOf));
  const flattened = prepared ? [...histogram.keys()].filter((op) => FLATTENED.test(op) && !kept.has(op)) : [];
  // Without sizes, whether they are written out shows at a given --shape.
  const unsized = sized ? [] : [...histogram.keys()].filter((op) => FLATTENED.test(op));
  const missing = [...histogram.keys()].filter((op) => !gradientRules.entryByKey(op, view.opset) && !isRecurrentOp(op) && !perRow(op) && !flattened.includes(op));
  const blocking = missing.filter((op) => onPath.has(op));
  const unsupported = blocking.map((op) => (unsized.includes(op) ? `${op} (unless written out at a --shape that gives its ${op === 'If' ? 'condition' : 'trip count or positions'})` : op));
  say(`unsupported ops: ${unsupported.length ? unsupported.join(', ') : 'none'}`);
  const startsFrom = (inputs: string[]) => [...new Set(valueShaped(view, inputs).values())].map((n) => view.nodeLabel(n)).join(', ');
  const byExplained = startsFrom(ex.explained.map((i) => i.name));
  if (byExplained) say(`shapes set by the explained input's values (backward passes stop before them; occlusion and feature-ablation run): after ${byExplained}`);
  const setters = ex.shapeSetters();
  if (setters.length) say(`shapes set by the values of ${setters.map((n) => `'${n}'`).join(', ')} (probed with the values given; every row must give row 0's shapes): after ${startsFrom(setters)}`);
  const cells = [...histogram.keys()].filter(isRecurrentOp);
  if (cells.length) say(`recurrent cells, unrolled over the input's sequence length before the walk: ${cells.map((op) => `${op} ×${histogram.get(op)}`).join(', ')}`);
  if (flattened.length) say(`loops and sequences, written out before the walk (trip counts and positions known at this input shape): ${flattened.map((op) => `${op} ×${histogram.get(op)}`).join(', ')}`);
  if (quantizers.length) say(`dynamic quantization: DynamicQuantizeLinear ×${quantizers.length} read with statistics per row (each row quantized as when run alone), then QuantizeLinear → DequantizeLinear`);
  const elsewhere = missing.filter((op) => !onPath.has(op) && !structural.has(op));
  if (elsewhere.length) say(`ops without a backward rule off the input's path (not differentiated): ${elsewhere.join(', ')}`);
  if (layerRows) {
    say('layers (tensors of rank 3 or more computed from the input, channels on axis 1):');
    const rows = layerRows;
    // Shapes come from a probe at this input shape; where it fails, the list is empty and says why.
    const listed = await ex.forFeeds(rows, given, async () => {
      await ex.prepare(rows, undefined, given);
      // Where the explained tensor is not chosen yet (several outputs), no default is marked.
      const camDefault = await ex.camLayer(rows, { feeds: given }).catch(() => undefined);
      return { tensors: await ex.explainableTensors(rows, given), camDefault };
    }).catch((e: Error) => e);
    if (listed instanceof Error) say(`  none listed: no shapes at input shape [${rows}]: ${listed.message}`);
    const layers = listed instanceof Error ? [] : listed.tensors.filter((t) => t.shape && t.shape.length >= 3);
    const marked = listed instanceof Error ? undefined : listed.camDefault;
    for (const t of layers) say(`  ${t.name}  [N, ${t.shape!.slice(1).join(', ')}]  (${t.op})${t.name === marked ? '  Grad-CAM\'s default' : ''}`);
  }
}

/** --preprocess is for image files: an array is read as it is. */
export function checkPreprocessed(p: Parsed, inputFile: string): void {
  if (p.flags.has('preprocess') && !/\.(png|jpe?g)$/i.test(inputFile)) throw new ExplainError(`--preprocess prepares image files (PNG, JPEG); ${inputFile} is read as it is`);
}

export async function loadInput(ex: Explainer, file: string, preprocess: Preprocess, normalization?: Normalization): Promise<{ x: TensorData; shown?: Rgb }> {
  if (/\.(png|jpe?g)$/i.test(file)) {
    const { tensor, shown } = imageToTensor(readImage(file), ex.input.dims, preprocess, ex.label, normalization);
    return { x: tensor, shown };
  }
  if (normalization) throw new ExplainError(`--mean/--std normalise image files (PNG, JPEG); ${file} is read as it is`);
  const x = readArray(file);
  if (x.dims.length === (ex.tokens?.ids ?? ex.input).dims.length - 1) x.dims = [1, ...x.dims];
  // Token ids stay integers (the Explainer checks them against the input's type); floats are float32.
  return { x: (x.data instanceof Float32Array || !(x.data instanceof Array) ? x : { data: x.data, dims: x.dims }) as TensorData };
}

/** A number that float32 holds (±3.4·10³⁸; past it the run computes with ±Inf). */
function float32(v: number, flag: string): number {
  if (Math.abs(v) > 3.4028234663852886e38) throw new ExplainError(`${flag}: ${v} overflows float32`);
  return v;
}

function perturbationOptions(p: Parsed): AttributeOptions {
  const fill = p.flags.get('fill') as string | undefined;
  const stride = intsFlag(p, 'stride');
  const maskFile = p.flags.get('feature-mask') as string | undefined;
  return {
    window: intsFlag(p, 'window'),
    stride: stride?.length === 1 ? stride[0] : stride,
    fill: fill === undefined || fill === 'random' ? fill : float32(num(fill, '--fill'), '--fill'),
    seed: intFlag(p, 'seed'),
    internalBatchSize: intFlag(p, 'internal-batch-size'),
    featureMask: maskFile ? readNpy(maskFile) : undefined,
  };
}

/** The flags whose option is not their name in camel case. */
const OPTION_OF_FLAG: Record<string, string> = lookupTable({ 'no-relu': 'relu', 'no-multiply-by-inputs': 'multiplyByInputs', 'lrp-rule': 'lrpRules' });

/**
 * A flag that only other methods read is a mistake (runtime/method-options.ts; OPTION_OF_FLAG names the option a flag sets);
 * given to several methods, one must read it. The refusal names the methods among `runs` (the command's) that do.
 */
export function checkMethodFlags(p: Parsed, methods: string[], runs?: readonly string[]): void {
  const option = (flag: string) => OPTION_OF_FLAG[flag] ?? flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
  const flag = (o: string) => `--${Object.keys(OPTION_OF_FLAG).find((f) => OPTION_OF_FLAG[f] === o) ?? o.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
  for (const given of p.flags.keys()) {
    const why = methods.map((m) => misappliedOption(option(given), m, p.flags.has('noise-tunnel'), flag, p.flags.get('fill'), runs));
    // The reason of a method that reads the option but for another flag (occlusion's seed without --fill random), else the first's.
    const near = methods.findIndex((m) => readsOption(option(given), m, p.flags.has('noise-tunnel'), 'random'));
    if (why.every(Boolean)) throw new ExplainError(methods.length > 1 ? `--${given} is read by none of the methods drawn (${methods.join(', ')}): ${why[Math.max(0, near)]}` : why[0]!);
  }
}

interface Request { ex: Explainer; x: TensorData; shown?: Rgb; options: AttributeRequest; out?: string; format?: string }

/** What attribute and visualize share: --out checked before any work, the model, the input (and its picture), options with the baseline. */
async function request(p: Parsed, command: string, formats: string[]): Promise<Request> {
  const model = modelArg(p, command);
  if (!p.flags.get('input')) throw new ExplainError(`${command}: --input X.npy (or an image) is required`);
  const out = p.flags.get('out') as string | undefined;
  const format = out ? outFormat(out, formats) : undefined;
  const ex = await Explainer.load(model, { ...modelOptions(p), ...runOptions(p) });
  const inputFile = explainedFile(ex, p.flags.get('input') as string, 'input');
  checkPreprocessed(p, inputFile);
  const preprocess = preprocessFlag(p, ex.imagePreset);
  const { baselineFile, baselineFiles } = baselineArgs(ex, p);
  ex.checkExplainSoftmax({ output: p.flags.get('output') as string | undefined, explainSoftmax: p.flags.has('explain-softmax'), method: p.flags.get('method') as string | undefined });
  const protect = [inputFile, ...readFiles(p, model, { baselineFile, baselineFiles })];
  if (out) checkOutput(out, '--out', protect);
  if (out && ex.joint) {
    if (format === 'png') throw new ExplainError(`--out ${out}: a figure shows one input; save joint attributions as .npy (one file per input)`);
    for (const name of ex.explainedNames) checkOutput(jointOut(out, name), '--out', protect);
  }
  const options = attributeOptions(p, command);
  // Class activation maps are drawn over the image at its size.
  if (format === 'png' && (options.method ?? '') in mapMethods) options.upsample = true;
  const { x, shown } = await loadInput(ex, inputFile, preprocess, normalizationFlags(p));
  if (format === 'png') {
    if (command !== 'visualize' && options.layer && !((options.method ?? '') in mapMethods)) throw new ExplainError(`--out ${out}: a PNG figure shows input attributions; save layer attributions as .npy`);
    checkFigure(visOptions(p), x, shown, ex.label, !!ex.tokens);
  }
  return { ex, x, shown, options: { ...options, ...baselineOptions(ex, { baselineFile, baselineFiles }) }, out, format };
}

/** attribute's and visualize's options from their flags (folder mode's too), all but the baseline. */
export function attributeOptions(p: Parsed, command: string): AttributeRequest {
  return {
    ...commonOptions(p), ...perturbationOptions(p), target: targets(p, 'target'), contrast: targets(p, 'contrast'), softmaxNormalize: p.flags.has('softmax-normalize') || undefined,
    baselineToken: intFlag(p, 'baseline-token'),
    ...reduceOptions(p), ...noiseOptions(p), progress: progressBar((p.flags.get('method') as string | undefined) ?? command),
  };
}

/** The user's files a run of attribute reads besides its input (outputs must never be one of them). */
export function readFiles(p: Parsed, model: string, { baselineFile, baselineFiles }: BaselineFiles): (string | undefined)[] {
  return [model, baselineFile, ...Object.values(baselineFiles), ...['feature-mask', 'reduce-weights'].map((f) => p.flags.get(f) as string | undefined), ...feedFiles(p)];
}

/** The baselines that baselineArgs names, read: the explained input's, and each joint input's. */
export function baselineOptions(ex: Explainer, { baselineFile, baselineFiles }: BaselineFiles): AttributeRequest {
  const baselines = Object.entries(baselineFiles);
  return {
    ...(baselineFile ? { baseline: baselineArg(ex, baselineFile) } : {}),
    ...(baselines.length ? { baselines: Object.fromEntries(baselines.map(([name, file]) => [name, baselineArg(ex, file, name)])) } : {}),
  };
}

/**
 * --input or --baseline given as NAME=FILE, where no file has that name: FILE when NAME is the
 * explained input; another input is fed (--feed), or explained jointly (--wrt A,B), in one line.
 */
function explainedFile(ex: Explainer, value: string, flag: string): string {
  const [name, file] = namedValue(value, (n) => ex.inputs.some((i) => ex.nameOf(i) === n));
  const input = ex.inputs.find((i) => ex.nameOf(i) === name);
  if (file === undefined || fs.existsSync(value) || !input) return value;
  if (name === ex.explainedNames[0]) return file;
  // Another input that could be explained: a float input, or token ids that index a table (not a mask).
  const explainable = isFloatType(input.elemType) || embeddingsOf(ex.view, name).length > 0;
  const or = explainable ? `, or explain it with --wrt ${name} (jointly: --wrt ${ex.explainedNames[0]},${name})` : '';
  const joint = ex.joint ? `--${flag} gives '${ex.explainedNames[0]}', the first explained input; --feed ${name}=FILE the others` : `'${name}' is not the explained input ('${ex.explainedNames[0]}'): feed it with --feed ${name}=FILE${or}`;
  throw new ExplainError(`--${flag} ${value}: ${joint}`);
}

/**
 * --baseline FILE (or NAME=FILE: `input`'s): token ids for a text model's input, else a float array;
 * or a number that names no file, a constant baseline (Captum's scalar `baselines`, which
 * Explainer.attribute takes as a number).
 */
export function baselineArg(ex: Explainer, file: string, input?: string): DenseInput | number {
  if (!fs.existsSync(file) && file.trim() !== '' && Number.isFinite(Number(file))) return Number(file);
  if (!fs.existsSync(file) && /^[-+]?(nan|inf(inity)?)$/i.test(file.trim())) throw new ExplainError(`--baseline ${file}: not a finite number (nor a file)`);
  const ids = input === undefined ? !!ex.tokens : [...ex.tokenInputs.values()].some((t) => t.ids.name === input);
  if (ids) return readArray(file);
  const b = readNpy(file);
  if (b.dtype === 'int64') throw new ExplainError(`${file}: int64 array given, the baseline must be float`);
  // float64 stays float64 until the Explainer narrows it, so a value float32 cannot hold is named.
  return { data: b.data instanceof Float64Array ? b.data : Float32Array.from(b.data as Float32Array), dims: b.dims };
}

/** How a command's model is loaded: provider, explained input(s), and whether it takes one sample without a batch axis. */
export function modelOptions(p: Parsed): ExplainerOptions {
  const fed = feedItems((p.flags.get('feed') as string | undefined) ?? '').map((f) => f.name).filter(Boolean);
  return { provider: provider(p), wrt: wrtArg(p), unbatched: p.flags.has('unbatched'), fed };
}

/** --wrt NAME, --wrt all, or --wrt A,B / --wrt A --wrt B (joint attribution to those inputs). */
export function wrtArg(p: Parsed): string | string[] | undefined {
  const v = p.flags.get('wrt') as string | undefined;
  return v?.includes(',') ? v.split(',').map((s) => s.trim()) : v;
}

/** --wrt for a command that works on one input (`role` says what it does with it): a name, not a list or 'all'. */
export function singleWrtArg(p: Parsed, command: string, role: string): string | undefined {
  const wrt = wrtArg(p);
  if (Array.isArray(wrt) || wrt === 'all') throw new ExplainError(`${command}: --wrt takes one input (${role})`);
  return wrt;
}

/** The files (or numbers) --baseline names: the explained input's, and under joint attribution each input's. */
interface BaselineFiles { baselineFile?: string; baselineFiles: Record<string, string> }

/**
 * --baseline FILE, or under joint attribution a list of NAME=FILE (one per explained input; a bare
 * FILE is the first input's, a bare number every float input's not named).
 */
export function baselineArgs(ex: Explainer, p: Parsed): BaselineFiles {
  const given = p.flags.get('baseline') as string | undefined;
  if (given === '') throw new ExplainError('--baseline: an empty value (give a file, a number, or NAME=FILE)');
  const flag = ex.joint || given === undefined ? given : explainedFile(ex, given, 'baseline');
  if (flag === undefined || !ex.joint) return { baselineFile: flag, baselineFiles: {} };
  let baselineFile: string | undefined;
  const baselineFiles: Record<string, string> = lookupTable({});
  for (const item of flag.split(',')) {
    const [name, file] = fs.existsSync(item) ? [item, undefined] : namedValue(item, (n) => ex.explainedNames.includes(n));
    if (file !== undefined && ex.explainedNames.includes(name)) {
      if (baselineFiles[name]) throw new ExplainError(`--baseline: the baseline of '${name}' is given twice`);
      baselineFiles[name] = file;
    } else if (file !== undefined || baselineFile !== undefined) {
      throw new ExplainError(`--baseline: '${item}' is not NAME=FILE for an explained input (${ex.explainedNames.join(', ')}), nor the one bare FILE of '${ex.explainedNames[0]}' (or number of all)`);
    } else {
      baselineFile = item;
    }
  }
  return { baselineFile, baselineFiles };
}

/** The files of --feed NAME=FILE (or another such flag; protected from --out). */
export function feedFiles(p: Parsed, flagName = 'feed'): string[] {
  const flag = p.flags.get(flagName) as string | undefined;
  return flag === undefined ? [] : feedItems(flag).map((f) => f.file!);
}

/** Joint attribution's file for one input: OUT.npy → OUT.<input>.npy (characters other than letters, digits, '.', '-', '_' in the name become '_'). */
export function jointOut(out: string, input: string): string {
  return `${out.replace(/\.npy$/i, '')}.${input.replace(/[^A-Za-z0-9._-]/g, '_')}.npy`;
}

/** Text models: one line per token (row, position, id, score = attribution summed over the embedding). */
function printTokenTable(ids: TensorInput, scores: TensorData): void {
  const [n, length] = [scores.dims[0], scores.data.length / scores.dims[0]];
  // A string column's values are shown as given.
  const id = Array.from(ids.data as ArrayLike<number | bigint | string>, (v) => (typeof v === 'string' ? v : Number(v)));
  say('row  position  token id  score');
  for (let r = 0; r < n; r++) {
    for (let k = 0; k < length; k++) say(`${String(r).padStart(3)}  ${String(k).padStart(8)}  ${String(id[r * length + k]).padStart(8)}  ${scores.data[r * length + k].toPrecision(6)}`);
  }
}

async function attribute(p: Parsed): Promise<void> {
  checkMethodFlags(p, [(p.flags.get('method') as string | undefined) ?? 'gradient']);
  if (p.flags.has('input-dir')) return attributeDir(p);
  for (const flag of ['out-dir', 'batch-size']) if (p.flags.has(flag)) throw new ExplainError(`--${flag} applies to folder mode (--input-dir DIR --out-dir OUT)`);
  const vis = visOptions(p);
  const { ex, x, shown, options, out, format } = await request(p, 'attribute', ['npy', 'png']);
  const drawing = drawingFlag(p);
  if (drawing && format !== 'png') throw new ExplainError(`--${drawing} applies to figures (--out FIG.png)`);
  const r = await ex.attribute(x, options);
  const explained: { value: number; magnitude: number }[] = [];
  // A row of the explained tensor: token ids are explained at their embeddings.
  const rowDims = [...x.dims.slice(1), ...(ex.tokens?.rowDims ?? [])];
  if (r.targets.length) {
    const space = await ex.targetSpaceFor(rowDims, options);
    const scores = r.outputs[space.tensor].data;
    const what = explainedLabel(space.tensor, options);
    const { output, from, squash } = ex.resolveOutput(options.output, options.explainSoftmax, options.method);
    // f(x) is the seeded tensor's: the logits behind a final Softmax, returned beside the probabilities.
    const seeded = r.outputs[from]?.data ?? scores;
    // With a contrast or a mean-normalised seed, f(x) is Σ seed · from, not the target's value.
    const contrast = options.contrast === undefined ? undefined : await space.targets(options.contrast, r.targets.length, async () => scores, 'contrast');
    const seed = contrast || options.softmaxNormalize ? space.seed(r.targets, contrast, options.softmaxNormalize) : undefined;
    r.targets.forEach((t, row) => {
      const at = (v: Float32Array) => v.subarray(row * space.rowSize, (row + 1) * space.rowSize);
      const own = at(seeded);
      const w = seed && at(seed);
      explained[row] = w ? { value: own.reduce((a, v, k) => a + w[k] * v, 0), magnitude: own.reduce((a, v, k) => a + Math.abs(w[k] * v), 0) }
        : { value: space.values(own, row)[t], magnitude: space.values(own.map(Math.abs), row)[t] };
      const c = contrast?.[row];
      // With a contrast, the difference explained: of the seeded tensor (the logits behind a Softmax).
      const [name, v] = c === undefined ? [what, space.values(at(scores), row)] : [from === output ? what : from, space.values(own, row)];
      const versus = c === undefined ? '' : ` rather than ${space.format(c)}`;
      const difference = c === undefined ? '' : ` − ${name}[${space.format(c)}]`;
      say(`row ${row}: target ${space.format(t)}${versus}, ${name}[${space.format(t)}]${difference} = ${(v[t] - (c === undefined ? 0 : v[c])).toPrecision(6)}`);
    });
    if (squash) say(`explained through the logits '${from}' that a ${squash} turns into '${output}' (--explain-softmax explains '${output}' itself)`);
  }
  const parts = Object.entries(r.inputAttributions ?? { '': r.attributions });
  for (const [input, t] of parts) {
    let sum = 0, maxAbs = 0;
    for (const v of t.data) { sum += v; maxAbs = Math.max(maxAbs, Math.abs(v)); }
    say(`attribution (${options.noiseTunnel ? `${options.noiseTunnel} of ` : ''}${options.method ?? 'gradient'}${options.layer ? ` at layer '${options.layer}'` : ''}${input ? ` to input '${input}'` : ''}): shape [${t.dims}], sum ${sum.toPrecision(6)}, max |a| ${maxAbs.toPrecision(6)}`);
  }
  const rows = x.dims[0];
  // Per row: Σ a and Σ |a| over every explained input.
  const totals = Array.from({ length: rows }, (_, row) => parts.reduce((total, [, t]) => {
    const per = t.data.length / rows;
    for (const v of t.data.subarray(row * per, (row + 1) * per)) { total.sum += v; total.abs += Math.abs(v); }
    return total;
  }, { sum: 0, abs: 0 }));
  // Captum's delta of unmultiplied attributions is Σ m − (f(x) − f(x⁰)): no completeness check to report.
  if (r.delta && options.multiplyByInputs === false) say('--no-multiply-by-inputs: the attributions are not multiplied by the input\'s difference from the baseline (Captum\'s multiply_by_inputs=False), so they need not sum to f(x) − f(x⁰); no convergence delta is checked');
  else if (r.delta?.length === rows) {
    const method = options.method ?? 'gradient';
    const bypassed = options.layer !== undefined && await ex.layerBypassed(rowDims, { ...options, layer: options.layer });
    // α-β with β ≠ 0 also moves relevance where a neuron's inputs all push one way (z⁻ = 0 or z⁺ = 0): it passes α·R or −β·R, not R.
    const oneSigned = (method === 'lrp-alphabeta' && (options.beta ?? 1) !== 0) || rulesUsed(method, options.lrpRules).includes('alpha2-beta1');
    const absorbed = oneSigned ? 'is the biases\' share, which α-β leaves out, less what neurons whose inputs all push one way add (they pass α·R or −β·R)' : undefined;
    await reportDelta(r.delta, totals, explained, drivers[method]?.quadrature ? 'quadrature' : methods[method]?.reference === false ? 'conserved' : 'exact', bypassed, async () => (await ex.inputSteps(rowDims, options))?.said, absorbed);
    const scale = method === 'lrp-alphabeta' ? (options.alpha ?? 2) - (options.beta ?? 1) : 1;
    if (scale !== 1) say(`α − β = ${scale}, not 1: each α-β layer scales the relevance it passes by ${scale}, so Σ relevance is not f(x) by design`);
    if (bypassed) say(`layer '${options.layer}' is not on every path from the input to '${ex.resolveOutput(options.output, options.explainSoftmax, options.method).from}' (a skip connection, a normalisation's own input or a mask computed from the input goes around it): attributions at it need not sum to f(x) − f(x⁰)`);
  }
  else if (r.delta) reportSampleDeltas(r.delta, rows);
  if (r.tokenScores && !r.inputTokenScores) printTokenTable(x, r.tokenScores);
  for (const [name, scores] of Object.entries(r.inputTokenScores ?? {})) {
    say(`input '${name}':`);
    printTokenTable(name === ex.explainedNames[0] ? x : options.feeds![name], scores);
  }
  if (out && format === 'png') {
    // Token ids explained at their embeddings: one bar per token (the printed scores), not a position × embedding-dimension map.
    writeFigure(out, [{ title: options.method ?? 'gradient', attributions: r.tokenScores ?? r.attributions }], x, shown, await captions(ex, r, options, rowDims), ex.label, vis);
    say(`wrote ${out}`);
  } else if (out && r.inputAttributions) {
    for (const [input, t] of parts) {
      writeNpy(jointOut(out, input), t.data, t.dims);
      say(`wrote ${jointOut(out, input)} (attributions to input '${input}')`);
    }
  } else if (out) {
    writeNpy(out, r.attributions.data, r.attributions.dims);
    say(`wrote ${out}`);
  }
}

async function visualizeMethods(p: Parsed): Promise<void> {
  if (p.flags.has('method')) throw new ExplainError('visualize: --methods M1,M2,… names the methods drawn (--method is attribute\'s)');
  const vis = visOptions(p);
  if (!p.flags.has('out')) throw new ExplainError('visualize: --out FIG.png is required');
  const names = ((p.flags.get('methods') as string | undefined) ?? 'gradient').split(',').map((m) => m.trim());
  const atLayer = names.filter((m) => drivers[m]?.layer === 'attributed');
  if (atLayer.length) throw new ExplainError(`visualize: ${atLayer.join(', ')} attribute${atLayer.length > 1 ? '' : 's'} to a layer, and a figure shows input attributions (attribute --layer NAME --out A.npy saves ${atLayer.length > 1 ? 'theirs' : 'its'})`);
  checkMethodFlags(p, names);
  const { ex, x, shown, options, out } = await request(p, 'visualize', ['png']);
  if (ex.joint) throw new ExplainError(`visualize: a figure shows one input; choose it with --wrt NAME`);
  // --layer is the class activation maps' layer, or the one of neuron-conductance's neuron; the other methods are drawn at the input.
  const takesLayer = (m: string) => (m in mapMethods && readsOption('layer', m, false)) || drivers[m]?.layer === 'neuron';
  if (options.layer && !names.some(takesLayer)) throw new ExplainError(`visualize: --layer picks the layer of the class activation maps (${Object.keys(mapMethods).filter(takesLayer).join(', ')}) or of neuron-conductance's neuron; the other methods are drawn at the input`);
  const columns = [];
  let first;
  for (const method of names) {
    // Class activation maps need --layer and are upsampled to the input; other methods explain the input itself.
    const map = method in mapMethods;
    // Options only some of the methods read go to those.
    const own = Object.fromEntries(Object.entries(options).filter(([k]) => readsOption(k, method, options.noiseTunnel !== undefined, options.fill)));
    const r = await ex.attribute(x, { ...own, method, layer: takesLayer(method) ? options.layer : undefined, upsample: map || undefined });
    first ??= r;
    columns.push({ title: method, attributions: r.tokenScores ?? r.attributions });
  }
  writeFigure(out!, columns, x, shown, await captions(ex, first!, options, [...x.dims.slice(1), ...(ex.tokens?.rowDims ?? [])]), ex.label, vis);
  say(`wrote ${out}`);
}

/** After saving a graph: where inputs' values set its shapes, it holds for values that give the same shapes. */
export function noteShapeSetters(ex: Explainer): void {
  const setters = ex.shapeSetters();
  if (setters.length) say(`its shapes are those of the values of ${setters.map((n) => `'${n}'`).join(', ')} given with --feed (or their defaults): run it on values that give the same shapes`);
}

/** The input shape from --shape, or the model's own where its sizes are static (batch 1). */
export function shapeArg(p: Parsed, ex: Explainer): number[] {
  const shapeFlag = p.flags.get('shape') as string | undefined;
  let dims: number[];
  if (shapeFlag !== undefined) {
    dims = intList(shapeFlag, '--shape');
  } else {
    const dynamic = ex.input.dims.map((d, k) => (k > 0 && d < 0 ? k : -1)).filter((k) => k >= 0);
    // Token ids are explained at their embedding [N, L, width]: the dynamic size is a sequence length.
    const example = ex.input.dims.slice(1).map((d) => (d >= 0 ? d : ex.tokens ? 128 : 224)).join(',');
    const what = ex.tokens ? ' for the token embedding: rows, tokens, width' : '';
    if (dynamic.length) throw new ExplainError(`${ex.label}: input '${ex.input.name}' has dynamic sizes on axes ${dynamic.join(', ')}; pass --shape${what} (e.g. --shape 1,${example})`);
    dims = [1, ...ex.input.dims.slice(1)];
  }
  ex.checkShape(dims);
  return dims;
}

async function rewrite(p: Parsed): Promise<void> {
  const out = p.flags.get('out') as string | undefined;
  const method = (p.flags.get('method') as string | undefined) ?? 'gradient';
  checkRewriteFlags(p, method);
  const loop = LOOP_GRAPHS[method];
  if (loop) {
    if (!out) throw new ExplainError('rewrite: --out OBJ.onnx is required');
    const { model: graph, sources } = await loop.build(p);
    checkOutput(out, '--out', sources);
    saveModel(graph, out);
    say(`wrote ${out}: inputs ${graph.graph!.input!.map((i) => i.name).join(', ')}; outputs ${graph.graph!.output!.map((o) => o.name).join(', ')}`);
    return;
  }
  const model = modelArg(p, 'rewrite');
  if (!out) throw new ExplainError('rewrite: --out AUG.onnx is required');
  checkMethodFlags(p, [method], SAVED_METHODS);
  // The saved graph takes the quadrature's points and weights as inputs: --steps sets how many, the caller which.
  if (p.flags.has('ig-method')) throw new ExplainError(`rewrite: the saved ${method} graph takes the quadrature's points and weights as inputs (--steps sets how many): --ig-method chooses them where it runs`);
  checkOutput(out, '--out', [model]);
  if (p.flags.has('zero-baseline') && !methods[method]?.reference) throw new ExplainError(`--zero-baseline builds in the reference of a method with a reference pass (${Object.keys(methods).filter((m) => methods[m].reference).join(', ')}), not of '${method}'`);
  const ex = await Explainer.load(model, modelOptions(p));
  const dims = shapeArg(p, ex);
  const options = commonOptions(p);
  ex.checkGraphOptions('rewrite', options);
  const aug = p.flags.has('zero-baseline') ? (await ex.forFeeds(dims.slice(1), options.feeds, () => ex.augmented(dims.slice(1), options, { zeroBaseline: true }))).model : await ex.graph(dims.slice(1), options);
  saveModel(aug, out);
  say(`wrote ${out}: inputs ${[...ex.view.inputs.map((i) => i.name), ...aug.graph!.input!.slice(ex.view.graph.input!.length).map((i) => i.name)].join(', ')}; outputs ${aug.graph!.output!.map((o) => o.name).join(', ')}`);
  noteShapeSetters(ex);
}
