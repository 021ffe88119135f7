import { ExplainError } from './errors';
import { mapSubgraphs, subgraphsOf } from './graph-view';
import { AttributeProto, FunctionProto, GraphProto, isDefault, ModelProto, NodeProto, toNumber, ValueInfoProto } from './proto';

const domainOf = (d?: string | null) => (isDefault(d) ? '' : d!);
const keyOf = (domain: string | null | undefined, name: string | undefined, overload: unknown) => `${domainOf(domain)}\u0000${name ?? ''}\u0000${overload ?? ''}`;
const shown = (f: FunctionProto) => `${f.domain ? `${f.domain}.` : ''}${f.name}${f.overload ? `:${f.overload}` : ''}`;

/**
 * Model-local functions (ModelProto.functions: torch.onnx's `export_modules_as_functions`, its
 * dynamo exporter before optimisation, onnxscript) inlined as ONNX's inliner and onnxruntime do:
 * formal inputs and outputs become the caller's names (an input the caller leaves out is absent
 * inside), every other name gets a fresh prefix, and an attribute that refers to the function's
 * (`ref_attr_name`) takes the caller's value, else the function's default, else is left out.
 * Calls inside function bodies and inside subgraphs are inlined too; an output that is one of the
 * inputs is passed on. A body that imports an opset at another version than the model's is read at
 * the model's (skl2onnx writes its KNNImputer functions at 21 in a model at 22), as onnxruntime
 * reads it. A function that calls itself or declares an output nothing writes is refused naming it.
 */
export function inlineLocalFunctions(model: ModelProto, label: string): ModelProto {
  const functions = model.functions ?? [];
  if (!functions.length) return model;
  const byKey = new Map(functions.map((f) => [keyOf(f.domain, f.name, f.overload), f]));
  const opsets = new Map((model.opset_import ?? []).map((o) => [domainOf(o.domain), toNumber(o.version)]));
  const imported = new Map(opsets);
  // A function domain is imported for the calls between functions, which inlining removes.
  const functionDomains = new Set(functions.map((f) => domainOf(f.domain)));
  const taken = new Set<string>();
  const collect = (g: GraphProto) => {
    for (const v of [...(g.input ?? []), ...(g.output ?? []), ...(g.value_info ?? []), ...(g.initializer ?? [])]) taken.add(v.name ?? '');
    for (const n of g.node ?? []) {
      for (const o of n.output ?? []) taken.add(o);
      if (n.name) taken.add(n.name);
      subgraphsOf(n).forEach(collect);
    }
  };
  collect(model.graph!);
  const fresh = (base: string) => {
    let name = base;
    for (let k = 1; taken.has(name); k++) name = `${base}_${k}`;
    taken.add(name);
    return name;
  };

  const functionOf = (n: NodeProto) => byKey.get(keyOf(n.domain, n.op_type, n.overload));
  const inlineGraph = (g: GraphProto, stack: FunctionProto[]): GraphProto => ({ ...g, node: (g.node ?? []).flatMap((n) => inlineNode(n, stack)) });
  const inlineNode = (n: NodeProto, stack: FunctionProto[]): NodeProto[] => {
    const f = functionOf(n);
    if (!f) return [mapSubgraphs(n, (g) => inlineGraph(g, stack))];
    if (stack.includes(f)) throw new ExplainError(`${label}: function ${shown(f)} calls itself (through ${stack.map(shown).join(' → ')}); a model-local function cannot be inlined when it is recursive`);
    for (const o of f.opset_import ?? []) {
      const [domain, version] = [domainOf(o.domain), toNumber(o.version)];
      if (functionDomains.has(domain)) continue;
      // A body that imports another version is read at the model's, as onnxruntime reads it.
      if (!imported.has(domain)) imported.set(domain, version);
    }
    return body(n, f).flatMap((m) => inlineNode(m, [...stack, f]));
  };

  /** The function's nodes with the caller's names and attributes. */
  const body = (call: NodeProto, f: FunctionProto): NodeProto[] => {
    const prefix = `${call.name || f.name}/`;
    const names = new Map<string, string>();
    (f.input ?? []).forEach((formal, k) => names.set(formal, call.input?.[k] ?? ''));
    const written = new Set((f.node ?? []).flatMap((n) => n.output ?? []));
    // An output that is one of the inputs is passed on by an Identity.
    const passed: NodeProto[] = [];
    (f.output ?? []).forEach((formal, k) => {
      const actual = call.output?.[k];
      if (written.has(formal)) names.set(formal, actual || fresh(`${prefix}${formal}`));
      else if (names.get(formal) && actual) passed.push({ op_type: 'Identity', input: [names.get(formal)!], output: [actual], name: fresh(`${prefix}${formal}/passed`) });
      else if (actual) throw new ExplainError(`${label}: function ${shown(f)} declares output '${formal}', which no node of its body writes (a broken export)`);
    });
    const given = new Map([...(f.attribute_proto ?? []), ...(call.attribute ?? [])].map((a) => [a.name ?? '', a]));
    return [...(f.node ?? []).map((n, k) => renameNode(n, names, prefix, given, `${prefix}${n.name || `${n.op_type}_${k}`}`)), ...passed];
  };

  const rename = (names: Map<string, string>, prefix: string) => (name: string) => {
    if (!name) return name;
    if (!names.has(name)) names.set(name, fresh(`${prefix}${name}`));
    return names.get(name)!;
  };
  const renameNode = (n: NodeProto, names: Map<string, string>, prefix: string, given: Map<string, AttributeProto>, name: string): NodeProto => {
    const to = rename(names, prefix);
    const attribute = (n.attribute ?? []).flatMap((a): AttributeProto[] => {
      const ref = a.ref_attr_name as string | undefined;
      if (!ref) return [a];
      const value = given.get(ref);
      return value ? [{ ...value, name: a.name }] : [];
    });
    const node = { ...n, name: fresh(name), input: (n.input ?? []).map(to), output: (n.output ?? []).map(to), attribute };
    // A subgraph reads the function's names by scope and defines its own, renamed alike.
    return mapSubgraphs(node, (g) => renameGraph(g, new Map(names), prefix, given));
  };
  const renameGraph = (g: GraphProto, names: Map<string, string>, prefix: string, given: Map<string, AttributeProto>): GraphProto => {
    const to = rename(names, prefix);
    for (const v of [...(g.input ?? []), ...(g.initializer ?? [])]) names.set(v.name ?? '', fresh(`${prefix}${v.name}`));
    const node = (g.node ?? []).map((n, k) => renameNode(n, names, prefix, given, `${prefix}${n.name || `${n.op_type}_${k}`}`));
    const value = (v: ValueInfoProto) => ({ ...v, name: to(v.name ?? '') });
    return {
      ...g, node, input: g.input?.map(value), output: g.output?.map(value), value_info: g.value_info?.map(value),
      initializer: g.initializer?.map((t) => ({ ...t, name: names.get(t.name ?? '') })),
    };
  };

  const graph = inlineGraph(model.graph!, []);
  const reads = (g: GraphProto, domain: string): boolean => (g.node ?? []).some((n) => domainOf(n.domain) === domain || subgraphsOf(n).some((s) => reads(s, domain)));
  const opset_import = [...imported].filter(([d]) => !functionDomains.has(d) || reads(graph, d)).map(([domain, version]) => ({ domain, version }));
  return { ...model, opset_import, functions: [], graph };
}

