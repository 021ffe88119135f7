import { attrInt } from './attributes';
import { constantNodeValue } from './graph-view';
import { lookupTable } from './lookup-table';
import { DataType, GraphProto, NodeProto, tensorValues } from './proto';

/** The scalar integer and boolean ops TF2's while-loop conditions are computed with (tf2onnx: `Less(t + 1, T)`, `And`). */
const SCALAR_OPS: Record<string, (a: number, b: number) => number> = lookupTable({
  Add: (a: number, b: number) => a + b,
  Sub: (a: number, b: number) => a - b,
  Mul: (a: number, b: number) => a * b,
  Less: (a: number, b: number) => +(a < b),
  LessOrEqual: (a: number, b: number) => +(a <= b),
  Greater: (a: number, b: number) => +(a > b),
  GreaterOrEqual: (a: number, b: number) => +(a >= b),
  Equal: (a: number, b: number) => +(a === b),
  And: (a: number, b: number) => +(!!a && !!b),
  Or: (a: number, b: number) => +(!!a || !!b),
});

const INTEGER_TYPES = new Set<number>([DataType.INT8, DataType.INT16, DataType.INT32, DataType.INT64, DataType.UINT8, DataType.UINT16, DataType.UINT32, DataType.UINT64]);

/**
 * How many times a Loop body runs, at most `limit`, where its condition output is computed from
 * the iteration number, carried scalar counters whose starts are known, and constants (TF2's while
 * loops as tf2onnx writes them, with no trip count or one the condition ends first): the condition
 * is evaluated iteration by iteration, and the body runs until it is false. Undefined where the
 * condition reads anything else.
 */
export function loopTrips(loop: NodeProto, body: GraphProto, known: (name: string) => number[] | undefined, limit: number): number | undefined {
  const [iterName, condName, ...states] = (body.input ?? []).map((i) => i.name ?? '');
  const starts = (loop.input ?? []).slice(2);
  const nextState = new Map(states.map((s, k) => [s, body.output?.[1 + k]?.name ?? '']));
  const producer = new Map((body.node ?? []).flatMap((b) => (b.output ?? []).map((o) => [o, b] as const)));
  const bodyConstants = new Map((body.initializer ?? []).map((t) => [t.name ?? '', tensorValues(t)]));
  const memo = new Map<string, number | undefined>();
  const value = (name: string, i: number): number | undefined => {
    const key = `${i}\u0000${name}`;
    if (!memo.has(key)) memo.set(key, evaluate(name, i));
    return memo.get(key);
  };
  const scalar = (v: number[] | undefined) => (v?.length === 1 ? v[0] : undefined);
  const evaluate = (name: string, i: number): number | undefined => {
    if (name === iterName) return i;
    if (name === condName) return 1;
    const k = states.indexOf(name);
    if (k >= 0) return i === 0 ? scalar(known(starts[k] ?? '')) : value(nextState.get(name)!, i - 1);
    const p = producer.get(name);
    if (!p) return scalar(bodyConstants.get(name) ?? known(name));
    if (p.domain) return undefined;
    const args = (p.input ?? []).map((t) => value(t, i));
    if (args.some((a) => a === undefined)) return undefined;
    const [a, b] = args as number[];
    switch (p.op_type) {
      case 'Constant': return scalar(constantNodeValue(p)?.values);
      case 'Identity': return a;
      case 'Not': return +!a;
      case 'Cast': {
        const to = attrInt(p, 'to', DataType.FLOAT);
        return to === DataType.BOOL ? +(a !== 0) : INTEGER_TYPES.has(to) ? Math.trunc(a) : a;
      }
      default: return args.length === 2 ? SCALAR_OPS[p.op_type ?? '']?.(a, b) : undefined;
    }
  };
  const condOut = body.output?.[0]?.name ?? '';
  for (let i = 0; i < limit; i++) {
    const c = value(condOut, i);
    if (c === undefined) return undefined;
    if (!c) return i + 1;
  }
  return limit;
}
