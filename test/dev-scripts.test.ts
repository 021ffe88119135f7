import { spawnSync } from 'child_process';
import * as path from 'path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const BENCH = path.resolve(__dirname, '..', 'examples', 'bench.js');

// A misspelt flag was ignored and the whole bench (minutes: torchvision exports, every method) started.
test('npm run bench with a misspelt flag prints its usage and exits 1 without running; --help exits 0', () => {
  const typo = spawnSync(process.execPath, [BENCH, '--runs', '3', '--modles', 'resnet18'], { encoding: 'utf8', timeout: 30_000 });
  assert.is(typo.status, 1, typo.stderr);
  assert.is(typo.stdout, '');
  assert.match(typo.stderr, /^bench: unknown option --modles\nnpm run bench \[-- --models /);
  const help = spawnSync(process.execPath, [BENCH, '--help'], { encoding: 'utf8', timeout: 30_000 });
  assert.is(help.status, 0, help.stderr);
  assert.match(help.stderr, /^npm run bench \[-- --models .*\n.*--baselines zero,shared,per-row/);
});

test.run();
