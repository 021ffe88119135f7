import { ExplainError } from './errors';
import { AttributeProto, AttrType, DataType, makeTensor, NodeProto, TensorProto } from './proto';

export interface FloatAttr { float: number }
export interface FloatsAttr { floats: number[] }
export interface StringsAttr { strings: string[] }
export type AttrValue = number | number[] | string | FloatAttr | FloatsAttr | StringsAttr | TensorProto;
export type Attrs = Record<string, AttrValue | undefined>;

export const float = (v: number): FloatAttr => ({ float: v });
export const floats = (v: number[]): FloatsAttr => ({ floats: v });
export const strings = (v: string[]): StringsAttr => ({ strings: v });

export function toAttribute(name: string, v: AttrValue): AttributeProto {
  if (typeof v === 'number') return { name, type: AttrType.INT, i: v };
  if (typeof v === 'string') return { name, type: AttrType.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: AttrType.INTS, ints: v };
  if ('float' in v) return { name, type: AttrType.FLOAT, f: (v as FloatAttr).float };
  if ('floats' in v) return { name, type: AttrType.FLOATS, floats: (v as FloatsAttr).floats };
  if ('strings' in v) return { name, type: AttrType.STRINGS, strings: (v as StringsAttr).strings.map((x) => new TextEncoder().encode(x)) };
  return { name, type: AttrType.TENSOR, t: v as TensorProto };
}

/**
 * Appends standard ONNX nodes to an augmented graph, in the form valid at the model's opset
 * (ReduceSum axes as input from 13, Squeeze/Unsqueeze/Split from 13, Pad/Slice inputs from 11/10,
 * ReduceMean axes input from 18).
 */
export class Emitter {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  /** The Identity nodes `rename` added, which `folded` removes where it can. */
  private readonly renames = new Set<NodeProto>();
  private counter = 0;
  private readonly scalars = new Map<number, string>();

  /** `taken`: the names of the graph the nodes join (GraphView.names), which fresh names skip. */
  constructor(readonly opset: number, readonly floatType: number = DataType.FLOAT, private readonly prefix = 'xpl', private readonly taken: ReadonlySet<string> = new Set()) {}

  /** An emitter of nodes that join the graph of `view`, whose names its fresh names skip. */
  static joining(view: { opset: number; names(): ReadonlySet<string> }, floatType: number = DataType.FLOAT): Emitter {
    return new Emitter(view.opset, floatType, undefined, view.names());
  }

  fresh(hint: string): string {
    let name: string;
    do name = `${this.prefix}/${hint}_${this.counter++}`; while (this.taken.has(name));
    return name;
  }

  op(opType: string, inputs: string[], attrs: Attrs = {}, hint = opType): string {
    return this.opN(opType, inputs, 1, attrs, hint)[0];
  }

  opN(opType: string, inputs: string[], nOutputs: number, attrs: Attrs = {}, hint = opType): string[] {
    const outputs = Array.from({ length: nOutputs }, () => this.fresh(hint));
    const attribute = Object.entries(attrs)
      .filter((e): e is [string, AttrValue] => e[1] !== undefined)
      .map(([k, v]) => toAttribute(k, v));
    this.nodes.push({ op_type: opType, input: inputs, output: outputs, name: outputs[0], attribute });
    return outputs;
  }

  /** The forward node `node` again (same op, attributes and domain) on other inputs. */
  copyOf(node: NodeProto, inputs: string[]): string[] {
    const outputs = (node.output ?? []).map(() => this.fresh(node.op_type ?? 'copy'));
    this.nodes.push({ ...node, input: inputs, output: outputs, name: outputs[0] });
    return outputs;
  }

  /** Gives tensor x the fixed name `name` (an Identity node until `folded`), e.g. for a graph output. */
  rename(x: string, name: string): string {
    const copy = { op_type: 'Identity', input: [x], output: [name], name };
    this.renames.add(copy);
    this.nodes.push(copy);
    return name;
  }

  /**
   * `nodes` (this emitter's, or a run of them) with each `rename` of a tensor they compute folded
   * into its producer, which then writes the new name (its readers read it): onnxruntime-web's
   * default WebGPU backend (JSEP) has no Identity kernel and would run the copy on the CPU. A copy of
   * a tensor `nodes` do not compute (an input, a weight, the model's own) stays, as does one of a
   * tensor named in `keep` (another output).
   */
  folded(nodes: NodeProto[] = this.nodes, keep: Iterable<string> = []): NodeProto[] {
    // A subgraph reads outer names implicitly: no renaming around one.
    if (nodes.some((n) => (n.attribute ?? []).some((a) => a.g || a.graphs?.length))) return nodes;
    const producer = new Map(nodes.flatMap((n) => (n.output ?? []).map((o) => [o, n] as const)));
    const kept = new Set(keep);
    const alias = new Map<string, string>();
    for (const n of nodes) {
      const x = n.input![0];
      if (this.renames.has(n) && producer.has(x) && !kept.has(x) && !alias.has(x)) alias.set(x, n.output![0]);
    }
    if (!alias.size) return nodes;
    const named = (t: string): string => (alias.has(t) ? named(alias.get(t)!) : t);
    return nodes
      .filter((n) => !(this.renames.has(n) && alias.get(n.input![0]) === n.output![0]))
      .map((n) => {
        // A second name for a computed tensor: its single-output producer again, under that name.
        const again = this.renames.has(n) && alias.has(n.input![0]) ? producer.get(n.input![0]) : undefined;
        const node = again && again.output!.length === 1 && !this.renames.has(again) ? { ...again, output: n.output, name: n.name } : n;
        return { ...node, input: (node.input ?? []).map(named), output: (node.output ?? []).map(named) };
      });
  }

  /** A float constant of the graph's float type (scalars are shared). */
  constFloat(values: ArrayLike<number>, dims: number[]): string {
    const name = this.fresh('const');
    this.initializers.push(makeTensor(name, dims, values, this.floatType));
    return name;
  }

  scalar(v: number): string {
    let name = this.scalars.get(v);
    if (!name) {
      name = this.constFloat([v], []);
      this.scalars.set(v, name);
    }
    return name;
  }

  constInt(values: number[], dims: number[] = [values.length]): string {
    const name = this.fresh('ints');
    this.initializers.push(makeTensor(name, dims, values, DataType.INT64));
    return name;
  }

  add(a: string, b: string): string { return this.op('Add', [a, b]); }
  sub(a: string, b: string): string { return this.op('Sub', [a, b]); }
  mul(a: string, b: string): string { return this.op('Mul', [a, b]); }
  div(a: string, b: string): string { return this.op('Div', [a, b]); }
  neg(a: string): string { return this.op('Neg', [a]); }
  matmul(a: string, b: string): string { return this.op('MatMul', [a, b]); }
  transpose(x: string, perm: number[]): string { return this.op('Transpose', [x], { perm }); }
  concat(xs: string[], axis: number): string { return xs.length === 1 ? xs[0] : this.op('Concat', xs, { axis }); }
  where(cond: string, a: string, b: string): string {
    // No exact form before opset 9: a·m + b·(1 − m) turns an unselected ±Inf into NaN.
    if (this.opset < 9) throw new ExplainError(`the model's opset ${this.opset} has no Where, which the augmented graph needs (opset 9 or later)`);
    return this.op('Where', [cond, a, b]);
  }
  cast(x: string, to: number): string { return this.op('Cast', [x], { to }); }

  /** Sum of tensors with Add (Sum is not available on WebGPU). */
  sum(xs: string[]): string {
    return xs.reduce((acc, x) => this.add(acc, x));
  }

  /** Boolean comparison: op is Greater, Less, Equal, GreaterOrEqual, LessOrEqual. */
  compare(op: 'Greater' | 'Less' | 'Equal' | 'GreaterOrEqual' | 'LessOrEqual', a: string, b: string): string {
    if (op === 'Equal' && this.opset < 11) {
      // Equal on floats exists from opset 11: a == b  <=>  !(a > b) && !(a < b).
      return this.compare('Less', this.add(this.mask('Greater', a, b), this.mask('Less', a, b)), this.scalar(0.5));
    }
    if ((op === 'GreaterOrEqual' || op === 'LessOrEqual') && this.opset < 12) {
      const strict = op === 'GreaterOrEqual' ? 'Less' : 'Greater';
      return this.compare('Less', this.mask(strict, a, b), this.scalar(0.5));
    }
    return this.op(op, [a, b]);
  }

  /** Float 0/1 mask of a comparison. */
  mask(op: 'Greater' | 'Less' | 'Equal' | 'GreaterOrEqual' | 'LessOrEqual', a: string, b: string): string {
    return this.cast(this.compare(op, a, b), this.floatType);
  }

  /** t with each 0 replaced by 1: a divisor or log argument whose zero entries the caller's result does not depend on. */
  zeroAsOne(t: string): string {
    return this.add(t, this.mask('Equal', t, this.scalar(0)));
  }

  /** Zeros shaped like t: Less(t, t) is false for every value, ±Inf and NaN included (t − t is NaN there). */
  zerosLike(t: string): string {
    return this.mask('Less', t, t);
  }

  /** Ones shaped like t (see zerosLike). */
  onesLike(t: string): string {
    return this.add(this.zerosLike(t), this.scalar(1));
  }

  /** ⌊v⌋ from a truncating Cast to int32 (Floor is not available on WebGPU). */
  floor(v: string): string {
    const t = this.cast(this.cast(v, DataType.INT32), this.floatType);
    return this.sub(t, this.mask('Greater', t, v));
  }

  /** Float sign with sign(0) = 0 (Sign is not available on WebGPU). */
  sign(x: string): string {
    const zero = this.scalar(0);
    return this.sub(this.mask('Greater', x, zero), this.mask('Less', x, zero));
  }

  reduceSum(x: string, axes: number[], keepdims = true): string {
    if (axes.length === 0) return x;
    const k = keepdims ? 1 : 0;
    if (this.opset >= 13) return this.op('ReduceSum', [x, this.constInt(axes)], { keepdims: k });
    return this.op('ReduceSum', [x], { axes, keepdims: k });
  }

  reduceMean(x: string, axes: number[], keepdims = true): string {
    return this.reduce('ReduceMean', x, axes, keepdims);
  }

  /** A reduction whose axes become an input at opset 18 (ReduceSum's did at 13: reduceSum). */
  reduce(op: 'ReduceMean' | 'ReduceMax' | 'ReduceMin', x: string, axes: number[], keepdims = true): string {
    const k = keepdims ? 1 : 0;
    if (this.opset >= 18) return this.op(op, [x, this.constInt(axes)], { keepdims: k });
    return this.op(op, [x], { axes, keepdims: k });
  }

  unsqueeze(x: string, axes: number[]): string {
    if (axes.length === 0) return x;
    if (this.opset >= 13) return this.op('Unsqueeze', [x, this.constInt(axes)]);
    return this.op('Unsqueeze', [x], { axes });
  }

  squeeze(x: string, axes: number[]): string {
    if (axes.length === 0) return x;
    if (this.opset >= 13) return this.op('Squeeze', [x, this.constInt(axes)]);
    return this.op('Squeeze', [x], { axes });
  }

  /** Reshape to a shape given as numbers (-1 for one inferred axis, 0 to copy). */
  reshape(x: string, shape: number[]): string {
    return this.op('Reshape', [x, this.constInt(shape)]);
  }

  expand(x: string, shape: number[]): string {
    return this.op('Expand', [x, this.constInt(shape)]);
  }

  slice(x: string, starts: number[], ends: number[], axes: number[], steps?: number[]): string {
    if (this.opset >= 10) {
      const inputs = [x, this.constInt(starts), this.constInt(ends), this.constInt(axes)];
      if (steps) inputs.push(this.constInt(steps));
      return this.op('Slice', inputs);
    }
    if (steps && steps.some((s) => s !== 1)) throw new Error('Slice with steps needs opset 10');
    return this.op('Slice', [x], { starts, ends, axes });
  }

  /** Constant-mode Pad; pads = [begin_0..begin_n, end_0..end_n] (negative pads crop). */
  pad(x: string, pads: number[], value = 0): string {
    if (pads.every((p) => p === 0)) return x;
    if (this.opset >= 11) return this.op('Pad', [x, this.constInt(pads), this.scalar(value)], { mode: 'constant' });
    return this.op('Pad', [x], { pads, value: float(value), mode: 'constant' });
  }

  /** Splits along axis into pieces of the given lengths. */
  split(x: string, axis: number, lengths: number[]): string[] {
    if (this.opset >= 13) return this.opN('Split', [x, this.constInt(lengths)], lengths.length, { axis });
    return this.opN('Split', [x], lengths.length, { axis, split: lengths });
  }
}
