import * as fs from 'fs';
import * as path from 'path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readNpy } from '../runtime/node/npy-file';
import { cliFailsWith, runCli, tempDir } from './support/cli-harness';

/** models/make_npy_layouts.py: numpy's np.save of a[i,j,k] = 12i + 4j + k − 10, shape (2,3,4), in several dtypes, byte orders and layouts. */
const DIR = path.resolve(__dirname, '../../models/npy-layouts');
const WANT = Array.from({ length: 24 }, (_, c) => c - 10);

for (const name of ['c_f4', 'fortran_f4', 'big_f4', 'big_fortran_f8', 'big_i8', 'fortran_i2', 'big_f2', 'version_2', 'version_3']) {
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

/** .npy bytes of format `version` with this header text (padded as numpy pads it) and float32 body. */
function npyBytes(header: string, body: Float32Array, version = 1): Buffer {
  const lengthBytes = version === 1 ? 2 : 4;
  const padded = header + ' '.repeat((64 - ((8 + lengthBytes + header.length + 1) % 64)) % 64) + '\n';
  const head = Buffer.alloc(8 + lengthBytes);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = version;
  if (version === 1) head.writeUInt16LE(padded.length, 8);
  else head.writeUInt32LE(padded.length, 8);
  return Buffer.concat([head, Buffer.from(padded, 'latin1'), Buffer.from(body.buffer)]);
}

test('headers numpy refuses are refused in one line (shapes that are not Python tuples, keys inside another key\'s string were read as the header\'s, a header past 10⁵ bytes overflowed the stack: exit 2); Python 2\'s (3L, 4L) reads as numpy reads it', async () => {
  const out = tempDir('npy-headers');
  const model = path.resolve(__dirname, '../../models/fixtures/mlp/model.onnx');
  const x = readNpy(path.resolve(__dirname, '../../models/fixtures/mlp/input.npy'));
  const [n, d] = x.dims;
  const body = x.data as Float32Array;
  const cases: [string, Buffer, RegExp][] = [
    ['decoy', npyBytes(`{'note': "'descr': '<f8', 'shape': (${n * 2}, ${d / 2})", 'descr': '<f4', 'fortran_order': False, 'shape': (${n}, ${d}), }`, body), /header is not numpy's \(keys descr, fortran_order and shape, each once, and nothing else\)/],
    ['twice', npyBytes(`{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (${n}, ${d}), }`, body), /header is not numpy's \(its 'descr'\)/],
    ['long', npyBytes(`{'descr': '<f4', 'fortran_order': False, 'shape': (${Array(20000).fill(1).join(', ')}, ${n}, ${d}), }`, body, 2), /\.npy header of \d+ bytes is longer than numpy reads \(10000\)/],
    ['version', Buffer.concat([Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 9, 9]), npyBytes(`{'descr': '<f4', 'fortran_order': False, 'shape': (${n}, ${d}), }`, body).subarray(8)]), /\.npy format version 9\.9 is not one numpy writes/],
    ...[`(${n * d},,)`, `(,${n * d})`, `(${n * d})`, `(${n},\u00a0${d})`].map((shape, k): [string, Buffer, RegExp] => [`shape${k}`, npyBytes(`{'descr': '<f4', 'fortran_order': False, 'shape': ${shape}, }`, body, 3), /is not a tuple of non-negative integers/]),
    ['cut', npyBytes(`{'descr': '<f4', 'fortran_order': False, 'shape': (${n}, ${d}), }`, body).subarray(0, 30), /\.npy is truncated \(its header runs past the end\)/],
  ];
  for (const [name, bytes, cause] of cases) {
    fs.writeFileSync(path.join(out, `${name}.npy`), bytes);
    await cliFailsWith(['attribute', model, '--input', path.join(out, `${name}.npy`), '--out', path.join(out, 'never.npy')], cause, [path.join(out, `${name}.npy`)]);
  }
  fs.writeFileSync(path.join(out, 'python2.npy'), npyBytes(`{'descr': '<f4', 'fortran_order': False, 'shape': (${n}L, ${d}L), }`, body));
  assert.equal(readNpy(path.join(out, 'python2.npy')).dims, [n, d]);
});

test.run();
