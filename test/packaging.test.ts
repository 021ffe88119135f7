import { spawnSync } from 'child_process';
import * as path from 'path';
import ndarray from 'ndarray';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { asNdarray, Explainer } from '../runtime';
import { runCli } from './support/cli-harness';
import { loadFixture, relL2 } from './support/fixtures';

const ROOT = path.resolve(__dirname, '../..');

test('the packed package holds dist and bin only: no tests, fixtures, examples or TypeScript sources', () => {
  const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  assert.is(r.status, 0, r.stderr);
  const files = (JSON.parse(r.stdout) as { files: { path: string }[] }[])[0].files.map((f) => f.path);
  assert.ok(files.includes('dist/runtime/index.js') && files.includes('dist/runtime/index.d.ts') && files.includes('bin/onnx-explain.js') && files.includes('dist/cli/main.js'), 'entry points');
  const stray = files.filter((f) => /^(test|models|examples|dist\/test|dist\/examples)\/|\.ts$/.test(f) && !f.endsWith('.d.ts'));
  assert.equal(stray, []);
});

test('--version prints package.json\'s version', async () => {
  const r = await runCli(['--version']);
  assert.is(r.code, 0);
  assert.equal(r.out, [require(path.join(ROOT, 'package.json')).version]);
});

test('ndarray inputs: a contiguous view is used as is, a transposed one copied; results as ndarray views without a copy', async () => {
  const fx = loadFixture('nhwc');
  const ex = await Explainer.load(fx.model);
  const plain = await ex.attribute(fx.input, { target: fx.meta.target });
  const view = ndarray(fx.input.data, fx.input.dims);
  const fromView = await ex.attribute(view, { target: fx.meta.target });
  assert.equal(Array.from(fromView.attributions.data), Array.from(plain.attributions.data));
  // The same values stored with the last two axes swapped, read back through a transposed view.
  const [n, h, w, c] = fx.input.dims;
  const swapped = new Float32Array(fx.input.data.length);
  const src = ndarray(fx.input.data, fx.input.dims);
  const dst = ndarray(swapped, [n, h, c, w]);
  for (let a = 0; a < n; a++) for (let b = 0; b < h; b++) for (let k = 0; k < w; k++) for (let l = 0; l < c; l++) dst.set(a, b, l, k, src.get(a, b, k, l));
  const fromTransposed = await ex.attribute(dst.transpose(0, 1, 3, 2), { target: fx.meta.target });
  assert.ok(relL2(fromTransposed.attributions.data, plain.attributions.data) === 0, 'transposed view read element by element');
  const out = asNdarray(plain.attributions);
  assert.ok(out.data === plain.attributions.data, 'same memory');
  assert.equal(out.shape, plain.attributions.dims);
  const [i, j, k, l] = [1, 2, 3, 0].map((v, d) => Math.min(v, plain.attributions.dims[d] - 1));
  const dims = plain.attributions.dims;
  assert.is(out.get(i, j, k, l), plain.attributions.data[((i * dims[1] + j) * dims[2] + k) * dims[3] + l]);
});

test.run();
