import { test } from 'uvu';
import { float } from '../../rewriter/emitter';
import { gradcheck } from '../support/gradcheck';

const c = (v: number[]) => ({ shape: [v.length], value: v });

test('InstanceNormalization 2D, opset 7', () =>
  gradcheck({ op: 'InstanceNormalization', opset: 7, inputs: [{ shape: [2, 3, 4, 5] }, c([0.5, -1.2, 2]), c([0.1, 0.2, -0.3])] }));
test('InstanceNormalization 1D with epsilon, opset 13', () =>
  gradcheck({ op: 'InstanceNormalization', opset: 13, inputs: [{ shape: [1, 2, 7] }, c([1.5, -0.7]), c([0.1, 0.2])], attrs: { epsilon: float(1e-2) } }));

test.run();
