import { checkKnown } from './known-options';
import { ADAM_DEFAULTS } from './drivers/adam-loop';
import { compose, RESIDUAL, soleFloatInput } from '../rewriter/compose';
import { buildConstrained, buildReconstruction, constrainedNames, reconstructionNames } from '../rewriter/contrast-graphs';
import { ExplainError } from '../rewriter/errors';
import { GraphView } from '../rewriter/graph-view';
import { DataType } from '../rewriter/proto';
import { constrainedSearch, ConstraintReport, CONTRAST_METHODS, ContrastGraphs, type ContrastMethod, reconstruct, SearchOptions } from './drivers/cdeepex';
import { withLoopSession } from './drivers/loop-session';
import { Explainer, ExplainerOptions, LOAD_KEYS, modelBytes, modelLabel, ModelInputSource, readModel, TensorData, TensorInput } from './explainer';
import { HeldValue, holdInputs } from '../rewriter/held-inputs';
import { probeFacts } from './probe';
import { fromNdarray } from './tensors';
import { checkedDims } from './inputs';
import { requireFinite } from './finite';
import { checkSeed } from './random';

export interface ContrastOptions extends Partial<SearchOptions> {
  /** The class the classifier gives the input (A) and the class asked about (B): "why A and not B?". */
  trueClass: number;
  probe: number;
  /** `cdeepex` (default) or `xgems` (only llh_A = llh_B); any string is accepted by the compiler and checked when the call runs. */
  method?: ContrastMethod | (string & {});
}

export interface ContrastResult {
  /** E = G(z0) − G(ze), the input's shape: positive where ink goes away on the way to B, negative where it appears. */
  explanation: TensorData;
  /** The classifier's logits at x(ze) = G(ze) + I − G(z0). */
  logits: TensorData;
  z0: TensorData;
  ze: TensorData;
  generatedZ0: TensorData;
  generatedZe: TensorData;
  /** ‖I − G(z0)‖². */
  residual: number;
  constraints: ConstraintReport;
  iterations: { reconstruction: number; outer: number; inner: number };
  timeMs: number;
}

export interface ContrastLoadOptions extends ExplainerOptions {
  /** The classifier output holding the class scores (required when it has several). */
  output?: string;
  /**
   * A conditional generator's inputs other than the latent z, held at these values in every graph
   * (its class or code y of G(z, y)): one row each, by input name (rewriter/held-inputs.ts).
   */
  generatorFeeds?: Record<string, TensorInput>;
}

/** An option's value as given: a string quoted, so that '3' does not read as the number 3. */
const shown = (v: unknown) => (typeof v === 'number' ? String(v) : JSON.stringify(v));

const DEFAULTS: Omit<SearchOptions, 'progress'> = {
  starts: 8, reconstructionSteps: 300, lr: ADAM_DEFAULTS.lr, seed: 0, tolerance: 1e-3, maxOuter: 40, innerSteps: 40, penalty: 1, retries: 3,
};

/**
 * CDeepEx (Feghahati et al., §3.3) and xGEMs (Joshi et al. 2018): "why did the classifier D say A
 * and not B?" answered in the latent space of a generator G. The graphs — ‖G(z) − I‖² with its
 * gradient on G, and the augmented Lagrangian of the constrained search on the composed D(G(z) + r)
 * — are built once per model pair; each explanation only feeds tensors.
 */
export class ContrastiveExplainer {
  private constructor(private readonly models: ContrastModels, readonly classifier: Explainer, readonly generator: Explainer) {}

  static async load(classifier: ModelInputSource, generator: ModelInputSource, options: ContrastLoadOptions = {}): Promise<ContrastiveExplainer> {
    checkKnown('ContrastiveExplainer.load', options, { ...LOAD_KEYS, output: true, generatorFeeds: true });
    const { output, generatorFeeds, ...loadOptions } = options;
    const d = await Explainer.load(classifier, loadOptions);
    const g = await loadGenerator(generator, { ...loadOptions, generatorFeeds });
    const ce = new ContrastiveExplainer(await contrastModels(d, g, output), d, g);
    // The loop sessions open now, so that a model they cannot run fails the load.
    await ce.withGraphs(async () => undefined);
    return ce;
  }

  /**
   * Releases its onnxruntime sessions (the classifier's, the generator's and the two loops'); during
   * an explanation, when it ends. The next explanation opens them again.
   */
  async release(): Promise<void> {
    await Promise.all([this.classifier.release(), this.generator.release()]);
  }

  /** Runs `use` on the two loop sessions, held by the generator and the classifier (their release() releases them, after the loops). */
  private withGraphs<T>(use: (graphs: ContrastGraphs) => Promise<T>): Promise<T> {
    return withLoopSession(this.generator, 'contrast/reconstruction', () => this.models.reconstruction, (reconstruction) =>
      withLoopSession(this.classifier, 'contrast/constrained', () => this.models.constrained, (constrained) => use({ ...this.models, reconstruction, constrained })));
  }

  explain(input: TensorInput, options: ContrastOptions): Promise<ContrastResult> {
    checkKnown('ContrastiveExplainer.explain', options, { trueClass: true, probe: true, method: true, progress: true, ...Object.fromEntries(Object.keys(DEFAULTS).map((k) => [k, true])) });
    return this.withGraphs((g) => this.search(g, input, options));
  }

  private async search(g: ContrastGraphs, input: TensorInput, options: ContrastOptions): Promise<ContrastResult> {
    const start = performance.now();
    const o: SearchOptions = { ...DEFAULTS, ...definedOnly(options) };
    checkSeed('contrast', o.seed);
    for (const [name, v] of [['lr', o.lr], ['tolerance', o.tolerance], ['penalty', o.penalty]] as const) {
      if (!(typeof v === 'number' && Number.isFinite(v) && v > 0)) throw new ExplainError(`contrast: ${name} ${shown(v)} must be a finite number > 0`);
    }
    // The CLI's --starts, --steps, --max-outer, --inner (positive) and --retries (from 0).
    for (const [name, v, least] of [['starts', o.starts, 1], ['reconstructionSteps', o.reconstructionSteps, 1], ['maxOuter', o.maxOuter, 1], ['innerSteps', o.innerSteps, 1], ['retries', o.retries, 0]] as const) {
      if (!(Number.isSafeInteger(v) && v >= least)) throw new ExplainError(`contrast: ${name} ${shown(v)} must be an integer ≥ ${least}`);
    }
    const method = CONTRAST_METHODS[options.method ?? 'cdeepex'];
    if (!method) throw new ExplainError(`unknown contrast method '${options.method}' (methods: ${Object.keys(CONTRAST_METHODS).join(', ')})`);
    const label = this.classifier.label;
    for (const [what, k] of [['true class', options.trueClass], ['probe', options.probe]] as const) {
      if (k === undefined) throw new ExplainError(`ContrastiveExplainer.explain: ${what === 'probe' ? 'probe (class B of "why A and not B?")' : 'trueClass (class A of "why A and not B?")'} is required`);
      if (!Number.isInteger(k)) throw new ExplainError(`${label}: ${what} ${shown(k)} is not a class index (an integer, 0..${g.classes - 1})`);
      if (k < 0 || k >= g.classes) throw new ExplainError(`${label}: ${what} ${k} is out of range (0..${g.classes - 1})`);
    }
    if (options.trueClass === options.probe) throw new ExplainError(`the true class and the probe are both ${options.probe}; they must differ`);
    const size = g.imageRow.reduce((a, b) => a * b, 1);
    const given = fromNdarray(input);
    checkedDims('image', given, label);
    if (given.data.length !== size) throw new ExplainError(`${label}: the input must hold one image of shape [${g.imageRow}] (${size} values), got ${given.data.length} values`);
    const image = Float32Array.from(given.data as ArrayLike<number>);
    requireFinite(image, `${label}: the input image`);
    const [rec] = await reconstruct(g, image, o);
    if (!Number.isFinite(rec.loss)) throw new ExplainError(`contrast: the z0 search diverged (‖G(z) − I‖² = ${rec.loss} after ${o.reconstructionSteps} steps of size ${o.lr}); lower --lr`);
    const residual = image.map((v, k) => v - rec.generated[k]);
    const search = await constrainedSearch(g, rec.z0, residual, options.trueClass, options.probe, method.inequalities, o);
    if (![...search.ze, ...search.logits].every(Number.isFinite)) throw new ExplainError(`contrast: the constrained search diverged (a non-finite ze or logit after ${search.outer} outer iterations)`);
    const rowDims = [1, ...g.imageRow];
    // E in the input's own shape ([16, 16] given for a [N, 1, 16, 16] classifier stays [16, 16]).
    const inputDims = given.dims?.length && given.dims.reduce((a, b) => a * b, 1) === size ? [...given.dims] : rowDims;
    const zDims = [1, ...g.latentRow];
    return {
      explanation: { data: rec.generated.map((v, k) => v - search.generated[k]), dims: inputDims },
      logits: { data: search.logits, dims: [1, g.classes] },
      z0: { data: rec.z0, dims: zDims },
      ze: { data: search.ze, dims: zDims },
      generatedZ0: { data: rec.generated, dims: rowDims },
      generatedZe: { data: search.generated, dims: rowDims },
      residual: rec.loss,
      constraints: search.report,
      iterations: { reconstruction: o.reconstructionSteps, outer: search.outer, inner: search.inner },
      timeMs: performance.now() - start,
    };
  }
}

/**
 * The two loop graphs of a classifier/generator pair, as models: ‖G(z) − I‖² with its gradient and
 * an Adam step (on G), and the augmented Lagrangian with its gradient on the composed
 * D(G(z) + residual) (the one `rewrite --method cdeepex` saves).
 */
export async function contrastModels(d: Explainer, g: Explainer, output?: string) {
  const latentRow = g.input.dims.slice(1);
  if (latentRow.some((v) => v <= 0)) throw new ExplainError(`${g.label}: the generator's input '${g.input.name}' needs a fixed latent size, it has [${g.input.dims.map((v) => (v < 0 ? '?' : v))}]`);
  const pg = await g.prepare(latentRow);
  const gOut = (g.view.graph.output ?? [])[0]?.name ?? '';
  const generatedRow = pg.facts.shapes.get(gOut)?.slice(1) ?? [];
  const dRow = d.input.dims.slice(1).map((v, k) => (v > 0 ? v : generatedRow[k] ?? 1));
  const pd = await d.prepare(dRow);
  const { from } = d.resolveOutput(output);
  const composed = compose({ generator: pg.view, classifier: pd.view, generatedRow, residual: true });
  const label = `${d.label} ∘ ${g.label}`;
  const view = new GraphView(composed.model, label);
  const { facts } = await probeFacts(composed.model, [
    { name: composed.latent, elemType: DataType.FLOAT, dims: [1, ...latentRow] },
    { name: RESIDUAL, elemType: DataType.FLOAT, dims: [1, ...dRow] },
  ], label);
  const logits = composed.classifierName(from);
  const logitShape = facts.shapes.get(logits)!;
  if (logitShape.length !== 2) throw new ExplainError(`${d.label}: output '${from}' has shape [${logitShape}]; class scores [N, classes] are needed`);
  const adam = { beta1: ADAM_DEFAULTS.beta1, beta2: ADAM_DEFAULTS.beta2, epsilon: ADAM_DEFAULTS.epsilon };
  const names = { reconstruction: reconstructionNames(pg.view), constrained: constrainedNames(view) };
  return {
    reconstruction: buildReconstruction({ view: pg.view, facts: pg.facts, latent: composed.latent, generated: gOut, adam, names: names.reconstruction }),
    constrained: buildConstrained({ view, facts, latent: composed.latent, generated: composed.generated, logits, names: names.constrained }),
    names,
    latent: composed.latent, generated: composed.generated, logits, latentRow, imageRow: dRow, generatedRow, layout: composed.layout, classes: logitShape[1], batchStarts: pg.batchDynamic, batchConstrained: pg.batchDynamic && pd.batchDynamic,
  };
}

/** The two loop graphs and what the searches read of them. */
export type ContrastModels = Awaited<ReturnType<typeof contrastModels>>;

/** The generator, with the inputs of `generatorFeeds` held at their values. */
export async function loadGenerator(given: ModelInputSource, options: Omit<ContrastLoadOptions, 'output'>): Promise<Explainer> {
  const { generatorFeeds: feeds = {}, ...loadOptions } = options;
  const source = await modelBytes(given);
  const label = modelLabel(source);
  if (!Object.keys(feeds).length) {
    return Explainer.load(source, loadOptions).catch((e) => {
      // Explainer's own message for several float inputs names --wrt and --feed, which contrast does not take.
      soleFloatInput(new GraphView(readModel(source, options.baseDir), label), 'generator');
      throw e;
    });
  }
  const view = new GraphView(readModel(source, options.baseDir), label);
  const values = Object.fromEntries(Object.entries(feeds).map(([name, t]) => [name, fromNdarray(t) as HeldValue]));
  return Explainer.fromModel(holdInputs(view, values, 'generator'), label, { ...options, cache: undefined });
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
