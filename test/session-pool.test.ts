import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { OrtSession } from '../runtime/backend';
import { SessionPool } from '../runtime/session-pool';

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

test.run();
