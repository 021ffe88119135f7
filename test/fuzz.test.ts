import * as fs from 'fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fuzz, summary } from './support/fuzz/run';

// A seeded sample of the release fuzzer (npm run fuzz): mutated models, weights, bytes, inputs,
// argument lists, links and special files over the fixtures, each run through the CLI.
const SEED = 20261201;
const CASES = 250;

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
});

test.run();
