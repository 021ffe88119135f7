import { test } from 'uvu';
import { gradcheck, rng } from '../support/gradcheck';

test('GatherElements along axis 1 with repeated and negative indices, opset 13', () =>
  gradcheck({ op: 'GatherElements', opset: 13, inputs: [{ shape: [1, 4, 3] }, { shape: [1, 2, 3], value: [0, 3, -1, 2, 2, 0], int64: true }], attrs: { axis: 1 } }));
test('GatherElements along the last axis, opset 11', () =>
  gradcheck({ op: 'GatherElements', opset: 11, inputs: [{ shape: [2, 3] }, { shape: [2, 2], value: [2, 0, 1, 1], int64: true }], attrs: { axis: -1 } }));

// A map of 4096 outputs × 5120 inputs (past the dense 2²⁴): one Gather of dY per reader, the exact scatter-add as reference.
{
  const [C, L, K] = [64, 80, 64];
  const rand = rng(3);
  const idx = Array.from({ length: C * K }, () => Math.floor(rand() * L));
  test('GatherElements with a constant gather map past 2^24 entries, opset 13', () =>
    gradcheck({
      op: 'GatherElements', opset: 13, inputs: [{ shape: [1, C, L] }, { shape: [1, C, K], value: idx, int64: true }], attrs: { axis: 2 },
      exact: (x, r) => {
        const g = new Array<number>(x.length).fill(0);
        idx.forEach((v, j) => { g[Math.floor(j / K) * L + v] += r[j]; });
        return g;
      },
      tol: 1e-5,
    }));
}

test.run();
