import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { progressBar, say } from '../cli/output';

/** A terminal of `columns` that records what is written, and a clock the test moves. */
function terminal(columns: number) {
  const writes: string[] = [];
  const stream = { isTTY: true, columns, write: (s: string) => { writes.push(s); return true; } } as unknown as NodeJS.WriteStream;
  return { stream, writes };
}
let now = 0;
const realNow = Date.now;

/** A bar on a terminal of `columns`, made at time 0 and past its first second (it draws from there). */
function shownBar(label: string, columns: number) {
  const { stream, writes } = terminal(columns);
  now = 0;
  const bar = progressBar(label, stream)!;
  now = 2000;
  return { bar, writes };
}
test.before(() => { Date.now = () => now; });
test.after(() => { Date.now = realNow; });

/** Terminal columns of a drawn line (wide characters two), without the carriage return and the erase. */
const columnsOf = (line: string) => [...line.replace(/^\r/, '').replace(/\x1b\[K$/, '')].reduce((w, ch) => w + (ch.codePointAt(0)! >= 0x2e80 ? 2 : 1), 0);

test('a loop under a second draws nothing, not even a bar at its end (it drew one full bar and its erase)', () => {
  const { stream, writes } = terminal(80);
  now = 0;
  const bar = progressBar('occlusion', stream)!;
  for (let k = 1; k <= 256; k++) { now = k; bar(k, 256); }
  assert.equal(writes, []);
});

test('redrawn at most every 100 ms (a sweep wrote 76,501 redraws, 4.5 MB, and ran a third slower on a terminal); cleared at the end', () => {
  const { stream, writes } = terminal(80);
  now = 0;
  const bar = progressBar('shapley-value-sampling', stream)!;
  // 10,000 runs over 2 s: the first second hidden, then one draw per 100 ms.
  for (let k = 1; k < 10_000; k++) { now = Math.floor(k / 5); bar(k, 10_000); }
  const draws = writes.filter((w) => w.startsWith('\r') && w.length > 4);
  assert.ok(draws.length >= 9 && draws.length <= 11, `${draws.length} draws`);
  bar(10_000, 10_000);
  assert.is(writes[writes.length - 1], '\r\x1b[K');
});

test('a bar left short of its total (a search that converged early) is cleared by the next result line, not glued to it', () => {
  const { bar, writes } = shownBar('cdeepex', 80);
  bar(7, 40, 'constrained search: L_A 35.71');
  const log = console.log;
  const lines: string[] = [];
  console.log = (s: string) => lines.push(s);
  try { say('cdeepex: constraints hold'); } finally { console.log = log; }
  assert.is(writes[writes.length - 1], '\r\x1b[K');
  assert.equal(lines, ['cdeepex: constraints hold']);
});

test('names on the bar are printable (a tensor named with ESC [2J cleared the screen), and the count stays in view within the terminal\'s width, wide characters counted twice', () => {
  const { bar, writes } = shownBar('attribute /tmp/手写数字样本文件夹_第一批次_测试数据', 40);
  bar(16, 40, "mean of channel 5 of 'relu\x1b[2J\x1b[41m'");
  const line = writes[writes.length - 1];
  assert.ok(columnsOf(line) <= 39, `${columnsOf(line)} columns: ${JSON.stringify(line)}`);
  assert.match(line, / 16\/40/);
  assert.match(line, /^\r…/);
  const { bar: named, writes: w2 } = shownBar('maximize', 200);
  named(3, 10, "mean of channel 5 of 'relu\x1b[2J\x1b[41m'");
  assert.ok(!w2.join('').replace(/\x1b\[K/g, '').includes('\x1b'), JSON.stringify(w2));
  assert.match(w2.join(''), /relu\\x1b\[2J\\x1b\[41m/);
});

test('no bar where stderr is no terminal, or a terminal that moves no cursor (TERM=dumb)', () => {
  const { stream } = terminal(80);
  assert.is(progressBar('x', { ...stream, isTTY: false } as NodeJS.WriteStream), undefined);
  const term = process.env.TERM;
  process.env.TERM = 'dumb';
  try { assert.is(progressBar('x', stream), undefined); } finally { if (term === undefined) delete process.env.TERM; else process.env.TERM = term; }
});

test.run();
