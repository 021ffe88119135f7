import { Emitter } from './emitter';
import { ExplainError } from './errors';
import { GraphView } from './graph-view';
import { DataType, declaredDims, isFloatType, makeTensor, ModelProto } from './proto';

/** A held input's value: one row (with or without its leading axis of 1), or the whole tensor of an input without a batch axis. */
export interface HeldValue { data: ArrayLike<number | bigint>; dims: readonly number[] }

const HELD_TYPES = new Set<number>([DataType.FLOAT, DataType.INT64, DataType.INT32, DataType.DOUBLE]);

const show = (dims: readonly number[]) => `[${dims.map((d) => (d < 0 ? '?' : d)).join(', ')}]`;

/**
 * The model with some inputs held at given values — a conditional generator G(z, y) with its class
 * or code y fixed becomes a generator of z alone. A batched input's row becomes an initializer
 * expanded to the batch of the input that is not held (Expand to Shape(z)[0] ++ row), so the
 * loops may run several z at once; an input without a batch axis (a scalar, or fixed dims while
 * the other input's batch is dynamic) becomes an initializer of the value as given.
 */
export function holdInputs(view: GraphView, values: Record<string, HeldValue>, role: string): ModelProto {
  const names = view.inputs.map((i) => `'${i.name}'`).join(', ');
  const free = view.inputs.filter((i) => !Object.hasOwn(values, i.name!));
  if (free.length !== 1) throw new ExplainError(`${view.label}: holding ${Object.keys(values).map((n) => `'${n}'`).join(', ')} leaves the ${role} ${free.length ? `the inputs ${free.map((i) => `'${i.name}'`).join(', ')}` : 'no input'}; hold all but its latent input (inputs: ${names})`);
  if (view.opset < 8) throw new ExplainError(`${view.label}: holding inputs needs opset 8 or later (Expand); the ${role} has opset ${view.opset}`);
  const batchFrom = free[0].name!;
  const batchDynamic = (declaredDims(free[0])[0] ?? 0) < 0;
  const em = new Emitter(view.opset, DataType.FLOAT, 'held');
  let batch: string | undefined;
  const held = new Set<string>();
  const initializers = [];
  for (const [name, value] of Object.entries(values)) {
    const input = view.inputs.find((i) => i.name === name);
    if (!input) throw new ExplainError(`${view.label}: the ${role} has no input '${name}' to hold (inputs: ${names})`);
    const type = input.type?.tensor_type?.elem_type ?? 0;
    if (!HELD_TYPES.has(type)) throw new ExplainError(`${view.label}: input '${name}' has ONNX type ${type}; held inputs are float or integer tensors`);
    const dims = declaredDims(input);
    const data = Array.from(value.data, Number);
    if (data.length !== value.dims.reduce((a, b) => a * b, 1)) throw new ExplainError(`${view.label}: the value held for '${name}' has ${data.length} values but shape [${value.dims}]`);
    if (!isFloatType(type) && data.some((v) => !Number.isInteger(v))) throw new ExplainError(`${view.label}: input '${name}' takes integers; the value held for it has fractional values`);
    if (isFloatType(type) && data.some((v) => !Number.isFinite(v))) throw new ExplainError(`${view.label}: the value held for '${name}' holds non-finite values`);
    const fits = (want: readonly number[], got: readonly number[]) => want.length === got.length && want.every((d, k) => d < 0 || d === got[k]);
    held.add(name);
    const batchless = dims.length === 0 || (dims[0] > 0 && batchDynamic);
    if (batchless) {
      if (!fits(dims, value.dims)) throw new ExplainError(`${view.label}: input '${name}' ${show(dims)} has no batch axis; the value held for it has shape [${value.dims}]`);
      initializers.push(makeTensor(name, [...value.dims], data, type));
      continue;
    }
    const row = value.dims.length === dims.length && value.dims[0] === 1 ? value.dims.slice(1) : value.dims;
    if (!fits(dims.slice(1), row)) throw new ExplainError(`${view.label}: input '${name}' takes rows of ${show(dims.slice(1))}; the value held for it has shape [${value.dims}] (give one row)`);
    const rowName = em.fresh(`${name}_row`);
    initializers.push(makeTensor(rowName, [1, ...row], data, type));
    batch ??= em.slice(em.op('Shape', [batchFrom]), [0], [1], [0]);
    em.nodes.push({ op_type: 'Expand', input: [rowName, em.concat([batch, em.constInt([...row])], 0)], output: [name], name: em.fresh(`${name}_held`) });
  }
  const graph = view.graph;
  return {
    ...view.model,
    graph: {
      ...graph,
      node: [...em.nodes, ...(graph.node ?? [])],
      initializer: [...(graph.initializer ?? []), ...initializers, ...em.initializers],
      input: (graph.input ?? []).filter((i) => !held.has(i.name!)),
    },
  };
}
