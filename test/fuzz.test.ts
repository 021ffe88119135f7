import * as fs from 'fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { METHODS } from './support/fuzz/arguments';
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

test.run();
