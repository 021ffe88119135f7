import * as fs from 'fs';
import * as path from 'path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readNpy } from '../runtime/node/npy-file';
import { runCli, tempDir } from './support/cli-harness';

/** models/make_npy_layouts.py: numpy's np.save of a[i,j,k] = 12i + 4j + k − 10, shape (2,3,4), in several dtypes, byte orders and layouts. */
const DIR = path.resolve(__dirname, '../../models/npy-layouts');
const WANT = Array.from({ length: 24 }, (_, c) => c - 10);

for (const name of ['c_f4', 'fortran_f4', 'big_f4', 'big_fortran_f8', 'big_i8', 'fortran_i2', 'big_f2']) {
  test(`numpy's ${name}.npy reads as the C-order array`, () => {
    const a = readNpy(path.join(DIR, `${name}.npy`));
    assert.equal(a.dims, [2, 3, 4]);
    assert.equal(Array.from(a.data as ArrayLike<number | bigint>, Number), WANT);
  });
}

test('the CLI explains a Fortran-order, big-endian input as numpy.load reads it', async () => {
  const out = tempDir('npy-layouts');
  const model = path.resolve(__dirname, '../../models/fixtures/mlp/model.onnx');
  const x = readNpy(path.resolve(__dirname, '../../models/fixtures/mlp/input.npy'));
  const [n, d] = x.dims;
  // The same [n, d] array written big-endian in Fortran order: column by column, bytes reversed.
  const body = Buffer.alloc(n * d * 4);
  for (let j = 0; j < d; j++) for (let i = 0; i < n; i++) body.writeFloatBE((x.data as Float32Array)[i * d + j], (j * n + i) * 4);
  let header = `{'descr': '>f4', 'fortran_order': True, 'shape': (${n}, ${d}), }`;
  header += ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
  const head = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, header.length & 0xff, header.length >> 8]);
  fs.writeFileSync(path.join(out, 'xf.npy'), Buffer.concat([head, Buffer.from(header, 'latin1'), body]));
  const runs = await Promise.all(['input.npy', 'xf.npy'].map((f, k) => runCli(['attribute', model, '--input', k ? path.join(out, f) : path.resolve(__dirname, '../../models/fixtures/mlp', f), '--target', '1', '--out', path.join(out, `g${k}.npy`)])));
  for (const r of runs) assert.is(r.code, 0, r.err.join('\n'));
  assert.equal(Array.from(readNpy(path.join(out, 'g1.npy')).data as Float32Array), Array.from(readNpy(path.join(out, 'g0.npy')).data as Float32Array));
});

test.run();
