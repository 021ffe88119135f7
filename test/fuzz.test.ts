import * as fs from 'fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { METHODS } from './support/fuzz/arguments';
import { slopeVerdict, STEPS_OF_H } from './support/fuzz/gradient-check';
import { fuzz, summary, Verdict } from './support/fuzz/run';

// A seeded sample of the release fuzzer (npm run fuzz): mutated models, weights, bytes, inputs,
// argument lists of every command and method, links and special files over the fixtures, each run
// through the CLI.
const SEED = 20261201;
const CASES = 400;

test(`fuzz: ${CASES} mutated runs end with a finite result or one clean error line, user files untouched`, async () => {
  const { verdicts, dir } = await fuzz(SEED, CASES);
  fs.rmSync(dir, { recursive: true, force: true });
  assert.is(verdicts.length, CASES);
  assert.equal(verdicts.filter((v) => v.problem).map((v) => `#${v.c.id}`), [], summary(verdicts));
  // Not vacuous: both outcomes occur, and x == baseline runs give results (checked all zero).
  const results = verdicts.filter((v) => v.result?.code === 0);
  assert.ok(results.length >= CASES * 0.15, `only ${results.length} results`);
  assert.ok(verdicts.length - results.length >= CASES * 0.3, `only ${verdicts.length - results.length} refusals`);
  assert.ok(results.filter((v) => v.c.family === 'zeros').length >= 5, 'x == baseline runs');
  assert.ok(results.filter((v) => v.c.repeat).length >= 20, 'repeated runs');
  assert.ok(verdicts.filter((v) => v.result?.gradient === 'agrees').length >= 5, 'gradients of mutated models compared with central differences');
  // Every command and every method's argument list is exercised, and some of them succeed.
  const command = (v: Verdict) => (v.c.argv.includes('--input-dir') ? 'attribute-dir' : v.c.argv[0]);
  const commands = verdicts.filter((v) => v.c.family === 'command');
  assert.equal([...new Set(commands.map(command))].sort(), ['attribute-dir', 'contrast', 'export-triton', 'filters', 'info', 'maximize', 'rewrite', 'visualize']);
  assert.ok(new Set(commands.filter((v) => v.result?.code === 0).map(command)).size >= 5, 'commands that gave a result');
  const methodOf = (v: Verdict) => v.c.argv[v.c.argv.indexOf('--method') + 1];
  assert.equal([...new Set(verdicts.filter((v) => v.c.family === 'argument').map(methodOf))].sort(), [...METHODS].sort());
});

test('the fuzzer\'s central-difference verdict: agrees, differs, or is inconclusive at a kink or where the slopes move with the step', () => {
  const h = 0.31;
  const at = (f: (t: number) => number) => [0, ...STEPS_OF_H.flatMap((k) => [h * k, -h * k])].map(f);
  // f(t) = 2t + t²: every central difference is exactly 2.
  const smooth = at((t) => 2 * t + t * t);
  assert.is(slopeVerdict(2, smooth, h, 1, 'y'), 'agrees');
  assert.match(slopeVerdict(1.5, smooth, h, 1, 'y'), /^differs: gradient · v 1\.50000 but central differences 2\.00000 \(h·1\), 2\.00000 \(h·0\.25\), 2\.00000 \(h·0\.0625\)/);
  // |t| (a kink at 0): one-sided slopes ±1, central differences 0.
  assert.match(slopeVerdict(1, at(Math.abs), h, 1, 'y'), /^skipped: a kink/);
  // Seed 1896 (a log of features far smaller than the step): central differences −0.00399 (h) and
  // −0.00403 (h/4) agree with each other, −0.00564 (h/16) does not, the gradient is −0.0078 (the
  // slope at steps of 10⁻³): inconclusive, not a mismatch.
  const moving = [0, ...[-0.00399, -0.00403, -0.00564].flatMap((c, j) => [c * h * STEPS_OF_H[j], -c * h * STEPS_OF_H[j]])];
  assert.match(slopeVerdict(-0.0078, moving, h, 1, 'y'), /^skipped: .*move with it/);
  assert.is(slopeVerdict(-0.00564, moving, h, 1, 'y'), 'agrees');
});

test.run();
