import { attrInt, attrInts } from './attributes';
import { Emitter, toAttribute } from './emitter';
import { constantNodeValue, GraphView, shapeConstant, throughCasts, withoutUnreadNodes } from './graph-view';
import { isFloatType, ModelProto, NodeProto } from './proto';
import { readInStandardOps } from './standard-form';
import { conditionStaysTrue } from './static-loops';

const BAG_REDUCTIONS = new Set(['ReduceSum', 'ReduceMean', 'ReduceMax']);

/** What a Loop computing torch's EmbeddingBag reads: bag b is reduce(table[ids[starts[b]:ends[b]]] · weights[…]). */
export interface EmbeddingBag {
  loop: NodeProto;
  table: string;
  /** The flat ids the bags slice, and per_sample_weights sliced alike (mode 'sum'). */
  ids: string;
  weights?: string;
  starts: string;
  ends: string;
  reduction: string;
}

/**
 * torch.onnx's export of nn.EmbeddingBag (opset 11 on) is a Loop over the bags: iteration b
 * slices the flat ids from starts[b] to ends[b] (Gathers of two outer tensors at the iteration
 * number), looks the slice up in the table, optionally multiplies per_sample_weights sliced alike,
 * and reduces over the slice (sum, mean or max) into a scan output; its condition stays true.
 * Undefined for any other Loop.
 */
export function embeddingBagOf(view: GraphView, loop: NodeProto): EmbeddingBag | undefined {
  const body = loop.attribute?.find((a) => a.name === 'body')?.g;
  if (loop.op_type !== 'Loop' || loop.domain || !body || body.input?.length !== 2 || body.output?.length !== 2 || loop.output?.length !== 1) return undefined;
  const [iteration] = body.input.map((i) => i.name ?? '');
  const cond = loop.input?.[1];
  if ((cond && !view.constant(cond)?.values[0]) || !conditionStaysTrue(view, body)) return undefined;
  const producer = new Map((body.node ?? []).flatMap((n) => (n.output ?? []).map((o) => [o, n] as const)));
  const inner = (name: string) => producer.has(name);
  const node = (name: string | undefined, op: string) => (name !== undefined && producer.get(name)?.op_type === op ? producer.get(name) : undefined);
  const values = (name: string | undefined) => {
    const p = name === undefined ? undefined : producer.get(name);
    return p ? (p.op_type === 'Constant' ? constantNodeValue(p)?.values : undefined) : view.constant(name ?? '')?.values;
  };
  const reduceAxes = (n: NodeProto) => attrInts(n, 'axes') ?? values(n.input?.[1]);
  const reduce = producer.get(body.output[1].name ?? '');
  if (!reduce || !BAG_REDUCTIONS.has(reduce.op_type ?? '') || attrInt(reduce, 'keepdims', 1) !== 0 || reduceAxes(reduce)?.join() !== '0') return undefined;
  // The slice bounds: [Gather(outer, iteration)] unsqueezed to one element.
  const bound = (name: string | undefined) => {
    const g = node(node(name, 'Unsqueeze')?.input?.[0], 'Gather');
    const axes = node(name, 'Unsqueeze') && (attrInts(node(name, 'Unsqueeze')!, 'axes') ?? values(node(name, 'Unsqueeze')!.input?.[1]));
    return g && axes?.join() === '0' && attrInt(g, 'axis', 0) === 0 && g.input?.[1] === iteration && !inner(g.input[0]) ? g.input[0] : undefined;
  };
  const sliced = (name: string | undefined) => {
    const s = node(name, 'Slice');
    const [x, start, end, axes, steps] = s?.input ?? [];
    if (!s || inner(x) || values(axes)?.join() !== '0' || (steps && values(steps)?.join() !== '1')) return undefined;
    const [starts, ends] = [bound(start), bound(end)];
    return starts && ends ? { x, starts, ends, start, end } : undefined;
  };
  let rows = reduce.input![0];
  let weighting: ReturnType<typeof sliced>;
  const mul = node(rows, 'Mul');
  if (mul) {
    // per_sample_weights: Mul(rows, Unsqueeze(Slice(weights, same bounds), [1])), either order
    const k = node(mul.input![0], 'Gather') ? 0 : 1;
    const u = node(mul.input![1 - k], 'Unsqueeze');
    weighting = u && (attrInts(u, 'axes') ?? values(u.input?.[1]))?.join() === '1' ? sliced(u.input![0]) : undefined;
    if (!weighting) return undefined;
    rows = mul.input![k];
  }
  const gather = node(rows, 'Gather');
  const table = gather && attrInt(gather, 'axis', 0) === 0 ? view.initializers.get(gather.input![0]) : undefined;
  const lookup = sliced(gather?.input?.[1]);
  if (!table || !isFloatType(table.data_type) || table.dims?.length !== 2 || !lookup) return undefined;
  if (weighting && (lookup.start !== weighting.start || lookup.end !== weighting.end)) return undefined;
  return { loop, table: gather!.input![0], ids: lookup.x, weights: weighting?.x, starts: lookup.starts, ends: lookup.ends, reduction: reduce.op_type! };
}

/**
 * The [B, L] ids whose flattening the bag reads when torch exported 2-D input (bags of equal
 * length L, offsets None): ids = Reshape(X, [-1]); starts = Concat(Range(0, B·L, L), …) with L read
 * from Shape(X)[1] and B·L as ReduceProd(Shape(X)); ends = starts[1:]; the trip count Shape(ends)[0]
 * (or Shape(X)[0]). Then bag b is row b of X. Undefined otherwise (1-D ids with offsets).
 */
function rowsOfBags(view: GraphView, bag: EmbeddingBag): { ids: string; weights?: string } | undefined {
  const traced = (name: string) => throughCasts(name, (t) => view.producer.get(t));
  const flat = (name: string) => {
    const r = view.producer.get(traced(name));
    return r?.op_type === 'Reshape' && shapeConstant(view, r.input![1])?.values.join() === '-1' && view.rank(r.input![0]) === 2 ? r.input![0] : undefined;
  };
  const x = flat(bag.ids);
  const weights = bag.weights && flat(bag.weights);
  if (!x || (bag.weights && !weights)) return undefined;
  const shapeOf = (name: string) => {
    const s = view.producer.get(traced(name));
    return s?.op_type === 'Shape' && !s.attribute?.length ? traced(s.input![0]) : undefined;
  };
  // Gather(Shape(t), k) as [t, k], through Casts
  const dimOf = (name: string): [string | undefined, number | undefined] => {
    const g = view.producer.get(traced(name));
    return g?.op_type === 'Gather' && view.constant(g.input![1])?.dims.length === 0 ? [shapeOf(g.input![0]), view.constant(g.input![1])?.values[0]] : [undefined, undefined];
  };
  const concat = view.producer.get(traced(bag.starts));
  const range = concat?.op_type === 'Concat' && attrInt(concat, 'axis', 0) === 0 ? view.producer.get(traced(concat.input![0])) : undefined;
  if (range?.op_type !== 'Range' || view.constant(traced(range.input![0]))?.values[0] !== 0) return undefined;
  // B·L: ReduceProd(Shape(ids)) as torch writes it for offsets None, or Gather(Shape, 0) · Gather(Shape, 1)
  // (a model's own arange(0, ids.numel(), L) beside ids.flatten()).
  const total = view.producer.get(traced(range.input![1]));
  const dims = total?.op_type === 'Mul' ? total.input!.map(dimOf) : [];
  const totalOk = (total?.op_type === 'ReduceProd' && attrInt(total, 'keepdims', 1) === 0 && shapeOf(total.input![0]) === x)
    || (dims.every(([t]) => t === x) && dims.map(([, k]) => k).sort().join() === '0,1');
  const [lengthOf, lengthAxis] = dimOf(range.input![2]);
  const ends = view.producer.get(traced(bag.ends));
  const endsOk = ends?.op_type === 'Slice' && traced(ends.input![0]) === traced(bag.starts) && view.constant(ends.input![1])?.values.join() === '1'
    && view.constant(ends.input![3] ?? '')?.values.join() === '0' && (!ends.input![4] || view.constant(ends.input![4])?.values.join() === '1')
    && (view.constant(ends.input![2])?.values[0] ?? 0) >= 2 ** 31 - 1;
  const [tripsOf, tripsAxis] = dimOf(bag.loop.input![0]);
  const tripsOk = (tripsOf === traced(bag.ends) || tripsOf === x) && tripsAxis === 0;
  return totalOk && lengthOf === x && lengthAxis === 1 && endsOk && tripsOk ? { ids: x, weights } : undefined;
}

/** A bag Loop as torch exported it: over 2-D ids (bag b is row b) or over 1-D ids with offsets (`flat`); undefined for any other Loop. */
function bagForm(view: GraphView, n: NodeProto): (EmbeddingBag & { flat: boolean }) | undefined {
  const bag = embeddingBagOf(view, n);
  if (!bag) return undefined;
  const rows = rowsOfBags(view, bag);
  if (rows) return { ...bag, ...rows, flat: false };
  return view.rank(bag.ids) === 1 ? { ...bag, flat: true } : undefined;
}

/** The first bag Loop over 1-D ids with offsets: their one text holds every bag, so it is one sample. */
export function flatBag(model: ModelProto, label: string): EmbeddingBag | undefined {
  if (!(model.graph?.node ?? []).some((n) => n.op_type === 'Loop')) return undefined;
  const view = new GraphView(model, label);
  return view.nodes.map((n) => bagForm(view, n)).find((b) => b?.flat);
}

/**
 * torch's EmbeddingBag read as the lookup it is. Over 2-D ids (bags of equal length): Gather of
 * the table at the [B, L] ids, times the [B, L] per_sample_weights where given, reduced over the
 * bag axis 1; its token ids are then explained per token like nn.Embedding's. Over 1-D ids with
 * offsets (the text classification tutorial's `model(text, offsets)`): the lookup [T, H] of the
 * flat ids, and bag b reduces the rows starts[b] ≤ t < ends[b] (a [B, T] membership matrix, fed
 * offsets only): one text holds every bag, explained as one sample (`--unbatched`).
 */
export function embeddingBagsAsLookups(model: ModelProto, label: string): ModelProto {
  if (!(model.graph?.node ?? []).some((n) => n.op_type === 'Loop')) return model;
  const view = new GraphView(model, label);
  const bags = new Map(view.nodes.flatMap((n) => {
    const bag = bagForm(view, n);
    return bag ? [[n, bag] as const] : [];
  }));
  if (!bags.size) return model;
  const read = readInStandardOps(model, label, 'embedding-bag', (n) => bags.has(n), (em, _view, n) => {
    const bag = bags.get(n)!;
    // The lookup, named after the bag: the explained embedding of its token ids.
    const looked = `${n.name || n.output![0]}/lookup`;
    em.nodes.push({ op_type: 'Gather', input: [bag.table, bag.ids], output: [looked], attribute: [toAttribute('axis', 0)] });
    if (bag.flat) {
      em.rename(segmentReduction(em, bag, bag.weights ? em.mul(looked, em.unsqueeze(bag.weights, [1])) : looked), n.output![0]);
      return;
    }
    const rows = bag.weights ? em.mul(looked, em.unsqueeze(bag.weights, [2])) : looked;
    const out = bag.reduction === 'ReduceSum' ? em.reduceSum(rows, [1], false) : em.reduce(bag.reduction as 'ReduceMean' | 'ReduceMax', rows, [1], false);
    em.rename(out, n.output![0]);
  });
  // The flat ids, offsets and trip count that only the Loops read.
  const graph = read.graph!;
  return { ...read, graph: { ...graph, node: withoutUnreadNodes(graph, graph.node ?? [], (n) => !n.domain && BAG_FEEDERS.has(n.op_type ?? '')) } };
}

/**
 * The bags of 1-D ids from the looked-up rows [T, H]: bag b (of the Loop's trip count B) holds the
 * rows starts[b] ≤ t < ends[b]. Sum and mean are products with the [B, T] membership matrix (mean
 * over its count); max takes the rows in the bag. An empty bag is zeros, as torch's.
 */
function segmentReduction(em: Emitter, bag: EmbeddingBag, rows: string): string {
  const trips = em.unsqueeze(bag.loop.input![0], [0]);
  const first = (t: string) => em.unsqueeze(em.op('Slice', [t, em.constInt([0]), trips, em.constInt([0])]), [1]);
  const length = em.op('Gather', [em.op('Shape', [bag.ids]), em.constInt([0], [])], { axis: 0 });
  const positions = em.unsqueeze(em.op('Range', [em.constInt([0], []), length, em.constInt([1], [])]), [0]);
  const inBag = em.op('And', [em.op('GreaterOrEqual', [positions, first(bag.starts)]), em.op('Less', [positions, first(bag.ends)])]);
  const member = em.cast(inBag, em.floatType);
  const count = em.reduceSum(member, [1]);
  const nonEmpty = em.compare('Greater', count, em.scalar(0));
  if (bag.reduction === 'ReduceMax') {
    const largest = em.reduce('ReduceMax', em.where(em.unsqueeze(inBag, [2]), em.unsqueeze(rows, [0]), em.scalar(-Infinity)), [1], false);
    return em.where(nonEmpty, largest, em.scalar(0));
  }
  const sum = em.matmul(member, rows);
  return bag.reduction === 'ReduceSum' ? sum : em.div(sum, em.add(count, em.cast(em.op('Not', [nonEmpty]), em.floatType)));
}

/** Ops torch.onnx writes to compute a bag Loop's flat ids, bounds and trip count. */
const BAG_FEEDERS = new Set(['Shape', 'Gather', 'Constant', 'Cast', 'ReduceProd', 'Range', 'Reshape', 'Unsqueeze', 'Concat', 'Slice']);
