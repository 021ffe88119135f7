import * as ort from 'onnxruntime-node';
import { buildAugmented, IO_NAMES, Method } from '../rewriter/augment';
import { ExplainError } from '../rewriter/errors';
import { GraphView, TensorFacts } from '../rewriter/graph-view';
import { normalizeOneHotWeights } from '../rewriter/canonize';
import { loadModel } from '../rewriter/model-io';
import { DataType, encodeModel, isFloatType, ModelProto, toNumber } from '../rewriter/proto';
import { methodNames, methods } from '../rules/methods';
import { RuleOptions } from '../rules/types';
import { freeHardCodedBatch, InputSpec, probeFacts } from './probe';
import { createSession, Provider } from './session';

export interface TensorData { data: Float32Array; dims: number[] }
export type TensorInput = TensorData | ort.Tensor | { data: Float64Array | number[]; dims: number[] };

export interface ExplainerOptions {
  provider?: Provider;
  /** Folder for external-data files when loading from bytes. */
  baseDir?: string;
}

export interface AttributeOptions extends RuleOptions {
  method?: string;
  /** Class index for all rows, one per row, or omitted for the argmax of each row. */
  target?: number | number[];
  /** "Why target rather than contrast": the seed becomes e_target − e_contrast. */
  contrast?: number | number[];
  /** Which model output to explain (required when the model has several). */
  output?: string;
  /** Explain a final Softmax's output itself instead of its input logits. */
  explainSoftmax?: boolean;
  /** Reference input for reference methods: one row for all, or one per row (default zeros). */
  baseline?: TensorInput;
  /** DeepLIFT §2.5: mean-normalise the seed over the classes (seed e_t − 1/n). */
  softmaxNormalize?: boolean;
  /** DeepLIFT §2.6: normalise the first Conv's weights over this one-hot input axis (outputs unchanged). */
  onehotAxis?: number;
}

export interface AttributionResult {
  attributions: TensorData;
  outputs: Record<string, TensorData>;
  targets: number[];
  /** Per row: Σ attribution − (f(x) − f(x⁰)) for reference methods. */
  delta?: Float32Array;
}

interface Prepared { view: GraphView; facts: TensorFacts; batchDynamic: boolean }

export class Explainer {
  private readonly prepared = new Map<string, Promise<Prepared>>();
  private readonly sessions = new Map<string, Promise<ort.InferenceSession>>();
  readonly view: GraphView;
  readonly input: InputSpec;

  private constructor(readonly model: ModelProto, readonly label: string, readonly provider: Provider) {
    this.view = new GraphView(model, label);
    const floats = this.view.inputs.filter((i) => isFloatType(i.type?.tensor_type?.elem_type));
    if (floats.length !== 1 || this.view.inputs.length !== 1) {
      throw new ExplainError(`${label}: models with exactly one float input are supported; this one has inputs ${this.view.inputs.map((i) => `'${i.name}'`).join(', ')}`);
    }
    const vi = floats[0];
    const dims = (vi.type?.tensor_type?.shape?.dim ?? []).map((d) => (d.dim_value !== undefined && d.dim_value !== null && toNumber(d.dim_value) > 0 ? toNumber(d.dim_value) : -1));
    this.input = { name: vi.name!, elemType: vi.type!.tensor_type!.elem_type!, dims };
  }

  static async load(source: string | Uint8Array, options: ExplainerOptions = {}): Promise<Explainer> {
    const model = loadModel(source, { baseDir: options.baseDir });
    return new Explainer(model, typeof source === 'string' ? source : '<bytes>', options.provider ?? 'cpu');
  }

  get outputNames(): string[] {
    return (this.view.graph.output ?? []).map((o) => o.name ?? '');
  }

  /** Checks a concrete input shape (batch included) against the model's input. */
  checkShape(dims: number[]): void {
    const want = this.input.dims;
    const show = `[${want.map((d) => (d < 0 ? '?' : d)).join(', ')}]`;
    if (dims.length !== want.length) throw new ExplainError(`${this.label}: input '${this.input.name}' has shape [${dims}], expected rank ${want.length} ${show}`);
    dims.forEach((d, k) => {
      if (k > 0 && want[k] > 0 && d !== want[k]) throw new ExplainError(`${this.label}: input '${this.input.name}' has shape [${dims}], expected ${show}`);
      if (d <= 0) throw new ExplainError(`${this.label}: input '${this.input.name}' has an empty dimension in shape [${dims}]`);
    });
    if (want[0] > 1 && dims[0] !== want[0]) throw new ExplainError(`${this.label}: input '${this.input.name}' has batch ${dims[0]}, the model fixes it to ${want[0]}`);
  }

  /**
   * Shapes, batch handling and the (possibly batch-freed, possibly one-hot canonized) graph for one
   * input shape.
   */
  prepare(rowDims: number[], onehotAxis?: number): Promise<Prepared> {
    const key = `${rowDims.join('x')}/${onehotAxis ?? ''}`;
    let p = this.prepared.get(key);
    if (!p) {
      p = (async () => {
        const spec: InputSpec = { ...this.input, dims: [1, ...rowDims] };
        const view = onehotAxis === undefined ? this.view : new GraphView(normalizeOneHotWeights(this.view, this.input.name, onehotAxis), this.label);
        const first = await probeFacts(view.model, [spec], this.label);
        if (first.batchDynamic) return { view, ...first };
        const freed = await freeHardCodedBatch(view, [spec]);
        if (freed) {
          const second = await probeFacts(freed, [spec], this.label);
          if (second.batchDynamic) return { view: new GraphView(freed, this.label), ...second };
        }
        return { view, ...first };
      })();
      this.prepared.set(key, p);
      p.catch(() => this.prepared.delete(key));
    }
    return p;
  }

  /** Which output to explain and the tensor the seed goes on (pre-softmax logits by default). */
  resolveOutput(output: string | undefined, explainSoftmax = false): { output: string; from: string } {
    const names = this.outputNames;
    if (output === undefined && names.length > 1) throw new ExplainError(`${this.label}: the model has several outputs; choose one with --output (${names.join(', ')})`);
    const chosen = output ?? names[0];
    if (!names.includes(chosen)) throw new ExplainError(`${this.label}: no output named '${chosen}' (outputs: ${names.join(', ')})`);
    let producer = this.view.producer.get(chosen);
    while (producer?.op_type === 'Identity') producer = this.view.producer.get(producer.input![0]);
    const from = (producer?.op_type === 'Softmax' || producer?.op_type === 'LogSoftmax') && !explainSoftmax ? producer.input![0] : chosen;
    return { output: chosen, from };
  }

  method(name: string | undefined): Method {
    const m = methods[name ?? 'gradient'];
    if (!m) throw new ExplainError(`unknown method '${name}' (methods: ${methodNames.join(', ')})`);
    return m;
  }

  /** The augmented model for one input row shape (what `onnx-explain rewrite` saves). */
  async augmented(rowDims: number[], options: AttributeOptions = {}): Promise<{ model: ModelProto; prepared: Prepared; from: string }> {
    const method = this.method(options.method);
    const { from } = this.resolveOutput(options.output, options.explainSoftmax);
    const prepared = await this.prepare(rowDims, options.onehotAxis);
    const model = buildAugmented({ view: prepared.view, facts: prepared.facts, batchDynamic: prepared.batchDynamic, method, input: this.input.name, from, options });
    return { model, prepared, from };
  }

  private session(key: string, build: () => Promise<ModelProto>): Promise<ort.InferenceSession> {
    let s = this.sessions.get(key);
    if (!s) {
      s = build().then((m) => createSession(encodeModel(m), this.provider));
      this.sessions.set(key, s);
      s.catch(() => this.sessions.delete(key));
    }
    return s;
  }

  /** Runs the original model. */
  async forward(input: TensorInput): Promise<Record<string, TensorData>> {
    const x = this.toTensor(input);
    const s = await this.session('forward', async () => this.model);
    const rows = this.input.dims[0] === 1 && x.dims[0] > 1 ? splitRows(x) : [x];
    const results = [];
    for (const row of rows) results.push(await s.run({ [this.input.name]: row }));
    return concatRows(results, this.outputNames);
  }

  async attribute(input: TensorInput, options: AttributeOptions = {}): Promise<AttributionResult> {
    const x = this.toTensor(input);
    const rowDims = x.dims.slice(1);
    const method = this.method(options.method);
    const { output, from } = this.resolveOutput(options.output, options.explainSoftmax);
    const prepared = await this.prepare(rowDims, options.onehotAxis);
    const n = x.dims[0];
    const fromShape = prepared.facts.shapes.get(from)!;
    const classes = fromShape.slice(1).reduce((a, b) => a * b, 1);
    let targets = perRow(options.target, n, 'target');
    if (!targets) targets = argmaxRows((await this.forward(x))[output], n);
    targets.forEach((t) => checkClass(t, classes, 'target', this.label, output));
    const contrast = perRow(options.contrast, n, 'contrast');
    contrast?.forEach((t) => checkClass(t, classes, 'contrast', this.label, output));
    const seed = new Float32Array(n * classes);
    targets.forEach((t, r) => { seed[r * classes + t] += 1; });
    contrast?.forEach((c, r) => { seed[r * classes + c] -= 1; });
    if (options.softmaxNormalize) {
      for (let r = 0; r < n; r++) {
        const row = seed.subarray(r * classes, (r + 1) * classes);
        const mean = row.reduce((a, v) => a + v, 0) / classes;
        row.forEach((v, k) => { row[k] = v - mean; });
      }
    }
    const key = JSON.stringify([rowDims, method.name, from, options.onehotAxis, options.epsilon, options.maxpoolRule, options.lrpMaxpool, options.alpha, options.beta]);
    const session = await this.session(key, async () => (await this.augmented(rowDims, options)).model);
    const feeds: Record<string, ort.Tensor> = {
      [this.input.name]: x,
      [IO_NAMES.seed]: new ort.Tensor('float32', seed, [n, ...fromShape.slice(1)]),
    };
    if (method.reference) feeds[IO_NAMES.baseline] = this.baselineFor(options.baseline, x, prepared.facts.batchBroadcasts);
    const runs = prepared.batchDynamic ? [feeds] : splitFeeds(feeds, n);
    const results = [];
    for (const f of runs) results.push(await session.run(f));
    const all = concatRows(results, [...this.outputNames, IO_NAMES.attribution, ...(method.explained ? [IO_NAMES.delta] : [])]);
    const outputs: Record<string, TensorData> = {};
    for (const name of this.outputNames) outputs[name] = all[name];
    return { attributions: all[IO_NAMES.attribution], outputs, targets, delta: method.explained ? all[IO_NAMES.delta].data : undefined };
  }

  private toTensor(input: TensorInput): ort.Tensor {
    if (!input || !input.dims || !input.data) throw new ExplainError(`${this.label}: input must be a tensor with data and dims`);
    if (this.input.elemType !== DataType.FLOAT) throw new ExplainError(`${this.label}: input '${this.input.name}' has ONNX type ${this.input.elemType}; only float32 inputs are supported`);
    if (input.data instanceof BigInt64Array || input.data instanceof Int32Array) throw new ExplainError(`${this.label}: input '${this.input.name}' must be float32, got an integer array`);
    const dims = [...input.dims];
    const count = dims.reduce((a, b) => a * b, 1);
    if (input.data.length !== count) throw new ExplainError(`${this.label}: input has ${input.data.length} values but shape [${dims}] needs ${count}`);
    this.checkShape(dims);
    const data = input.data instanceof Float32Array ? input.data : Float32Array.from(input.data as ArrayLike<number>);
    return new ort.Tensor('float32', data, dims);
  }

  /**
   * The reference input: one row shared by all rows (the reference pass then runs once) where the
   * model's activations broadcast over the batch, else one row per input row.
   */
  private baselineFor(baseline: TensorInput | undefined, x: ort.Tensor, shareable: boolean): ort.Tensor {
    const rowDims = x.dims.slice(1);
    const row = x.size / x.dims[0];
    const b = baseline ? Float32Array.from(baseline.data as ArrayLike<number>) : new Float32Array(row);
    if (baseline && b.length === x.size && baseline.dims[0] === x.dims[0]) return new ort.Tensor('float32', b, x.dims);
    if (b.length !== row) throw new ExplainError(`${this.label}: baseline has shape [${baseline!.dims}]; expected one row [1, ${rowDims}] or the input's shape [${x.dims}]`);
    if (shareable) return new ort.Tensor('float32', b, [1, ...rowDims]);
    const rows = new Float32Array(x.size);
    for (let r = 0; r < x.dims[0]; r++) rows.set(b, r * row);
    return new ort.Tensor('float32', rows, x.dims);
  }
}

function perRow(v: number | number[] | undefined, n: number, what: string): number[] | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'number') return Array(n).fill(v);
  if (v.length !== n) throw new ExplainError(`${what}: ${v.length} values given for ${n} input rows`);
  return [...v];
}

function checkClass(t: number, classes: number, what: string, label: string, output: string): void {
  if (!Number.isInteger(t) || t < 0 || t >= classes) throw new ExplainError(`${label}: ${what} ${t} is out of range for output '${output}' with ${classes} classes (0..${classes - 1})`);
}

function argmaxRows(t: TensorData, n: number): number[] {
  const per = t.data.length / n;
  return Array.from({ length: n }, (_, r) => {
    let best = 0;
    for (let k = 1; k < per; k++) if (t.data[r * per + k] > t.data[r * per + best]) best = k;
    return best;
  });
}

function splitRows(t: ort.Tensor): ort.Tensor[] {
  const n = t.dims[0];
  const per = t.size / n;
  return Array.from({ length: n }, (_, r) => new ort.Tensor(t.type, (t.data as Float32Array).subarray(r * per, (r + 1) * per), [1, ...t.dims.slice(1)]));
}

/** Row r of every feed (a one-row feed, like a shared baseline, goes to every row). */
function splitFeeds(feeds: Record<string, ort.Tensor>, n: number): Record<string, ort.Tensor>[] {
  const split = Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, t.dims[0] === 1 ? Array(n).fill(t) : splitRows(t)]));
  return Array.from({ length: n }, (_, r) => Object.fromEntries(Object.keys(feeds).map((k) => [k, split[k][r]])));
}

function concatRows(results: ort.InferenceSession.OnnxValueMapType[], names: string[]): Record<string, TensorData> {
  const out: Record<string, TensorData> = {};
  for (const name of names) {
    const parts = results.map((r) => r[name] as ort.Tensor);
    const data = new Float32Array(parts.reduce((a, p) => a + p.size, 0));
    let o = 0;
    for (const p of parts) { data.set(p.data as Float32Array, o); o += p.size; }
    const dims = [...parts[0].dims];
    if (dims.length) dims[0] = parts.reduce((a, p) => a + (p.dims[0] ?? 1), 0);
    out[name] = { data, dims };
  }
  return out;
}
