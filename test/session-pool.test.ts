import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { OrtSession } from '../runtime/backend';
import { SessionPool } from '../runtime/session-pool';
import { RecentMap } from '../runtime/recent-map';
import { Explainer } from '../runtime';
import { tinyGraph } from './support/tiny-model';
import { encodeModel } from '../rewriter/proto';

// The pool's bookkeeping on stand-in sessions: which are alive after each step is known exactly.
function fakes() {
  const alive = new Set<string>();
  const log: string[] = [];
  const make = (name: string, gate?: Promise<void>, fail?: { times: number }) => async () => {
    if (fail && fail.times-- > 0) throw new Error(`${name} cannot be created`);
    alive.add(name);
    log.push(`+${name}`);
    return {
      inputNames: ['x'], outputNames: [name],
      run: async () => { await gate; return { [name]: alive.has(name) } as never; },
      release: async () => { alive.delete(name); log.push(`-${name}`); },
    } as unknown as OrtSession;
  };
  return { alive, log, make };
}

test('least recently used idle sessions go first; used again, a session is created again', async () => {
  const { alive, log, make } = fakes();
  const pool = new SessionPool(2);
  const a = await pool.open(make('a'));
  const b = await pool.open(make('b'));
  await a.run({});
  const c = await pool.open(make('c'));
  assert.equal([...alive].sort(), ['a', 'c'], 'b was the least recently used');
  assert.equal(await b.run({}), { b: true }, 'b runs on a fresh session');
  assert.equal(log, ['+a', '+b', '-b', '+c', '-a', '+b']);
  assert.equal(b.outputNames, ['b']);
  await pool.releaseAll();
  assert.is(alive.size, 0);
  assert.equal(await c.run({}), { c: true }, 'usable after releaseAll');
});

// The excess stayed until a later call built a new graph (5 LRP ε at once under maxSessions 1 kept 5 sessions).
test('a session with a run in flight is not released: the limit is exceeded until the run ends, then the least recently used go', async () => {
  const { alive, make } = fakes();
  const pool = new SessionPool(1);
  let open!: () => void;
  const a = await pool.open(make('a', new Promise<void>((r) => { open = r; })));
  const running = a.run({});
  const b = await pool.open(make('b'));
  assert.equal([...alive].sort(), ['a', 'b']);
  open();
  assert.equal(await running, { a: true }, 'a finished its run on a live session');
  await new Promise((r) => setTimeout(r, 0));
  assert.equal([...alive], ['b'], 'back within the limit when the run ends');
  await b.run({});
  await pool.open(make('c'));
  assert.equal([...alive], ['c']);
});

test('a failed creation is the caller\'s error and leaves the pool usable', async () => {
  const { alive, make } = fakes();
  const pool = new SessionPool(1);
  await pool.open(make('a'));
  try {
    await pool.open(make('b', undefined, { times: 1 }));
    assert.unreachable('creation error swallowed');
  } catch (e) {
    assert.match((e as Error).message, 'b cannot be created');
  }
  const c = await pool.open(make('c'));
  assert.equal([...alive], ['c']);
  assert.equal(await c.run({}), { c: true });
});

// Explainer.release() during an attribute call released the session under its run: onnxruntime's "Session already disposed."
test('releaseAll while a run is in flight: the run ends on its session, which goes when it ends; idle ones go at once', async () => {
  const { alive, log, make } = fakes();
  const pool = new SessionPool();
  let open!: () => void;
  const a = await pool.open(make('a', new Promise<void>((r) => { open = r; })));
  await pool.open(make('b'));
  const running = a.run({});
  await pool.releaseAll();
  assert.equal([...alive], ['a'], 'b idle: released; a running: kept');
  open();
  assert.equal(await running, { a: true }, 'the run ends on its live session');
  await new Promise((r) => setImmediate(r));
  assert.equal(alive.size, 0, 'a released once its run ended');
  assert.equal(log, ['+a', '+b', '-b', '-a']);
  assert.equal(await a.run({}), { a: true }, 'usable again');
});

test('RecentMap keeps its most recently read or written entries and hands each dropped one over', () => {
  const dropped: number[] = [];
  const m = new RecentMap<string, number>(2, (v) => dropped.push(v));
  m.set('a', 1).set('b', 2);
  assert.is(m.get('a'), 1);
  m.set('c', 3);
  assert.equal([...m.keys()], ['a', 'c'], 'b was the least recently used');
  m.set('a', 4);
  m.set('d', 5);
  assert.equal([...m.entries()], [['a', 4], ['d', 5]]);
  assert.equal(dropped, [2, 3]);
});

// 78 KB a graph and 86 KB an input size stayed for good under maxSessions (600 ε values: +66 MB).
test('under maxSessions an Explainer keeps at most 64 graphs and input shapes (each new LRP ε or input size added one for good); a dropped one is rebuilt with the same result', async () => {
  const { model } = tinyGraph(['N', 'L'], 13, (em, x) => em.reduceSum(em.op('Relu', [em.mul(x, em.scalar(1.5))]), [1]));
  const ex = await Explainer.load(encodeModel(model), { maxSessions: 1 });
  const held = () => { const maps = ex as unknown as Record<'graphs' | 'prepared' | 'sessions', Map<string, unknown>>; return [maps.graphs.size, maps.prepared.size, maps.sessions.size]; };
  const x = (n: number) => ({ data: Float32Array.from({ length: n }, (_, i) => Math.cos(i)), dims: [1, n] });
  const first = await ex.attribute(x(3), { method: 'lrp-epsilon', epsilon: 1, target: 0 });
  for (let k = 2; k <= 70; k++) await ex.attribute(x(3), { method: 'lrp-epsilon', epsilon: k, target: 0 });
  for (let n = 4; n <= 72; n++) await ex.attribute(x(n), { method: 'integrated-gradients', steps: 2, target: 0 });
  const [graphs, shapes, sessions] = held();
  assert.ok(graphs <= 64 && shapes <= 64 && sessions <= 64, `${graphs} graphs, ${shapes} input shapes, ${sessions} sessions kept`);
  const again = await ex.attribute(x(3), { method: 'lrp-epsilon', epsilon: 1, target: 0 });
  assert.equal(Array.from(again.attributions.data), Array.from(first.attributions.data));
  const unlimited = await Explainer.load(encodeModel(model));
  for (let k = 1; k <= 70; k++) await unlimited.attribute(x(3), { method: 'lrp-epsilon', epsilon: k, target: 0 });
  assert.is((unlimited as unknown as { graphs: Map<string, unknown> }).graphs.size, 70, 'without a limit every graph is kept, as documented');
});

test.run();
