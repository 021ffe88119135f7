import { test } from 'uvu';
import { float } from '../../rewriter/emitter';
import { Explainer } from '../../runtime';
import { gradcheck } from '../support/gradcheck';
import { rejects } from '../support/rejects';
import { tinyModel } from '../support/tiny-model';

const c = (v: number[]) => ({ shape: [v.length], value: v });
const params = [c([0.5, -1.2, 2]), c([0.1, 0.2, -0.3]), c([0.3, -0.1, 0.2]), c([0.8, 1.5, 0.2])];

test('BatchNormalization 2D, opset 15', () =>
  gradcheck({ op: 'BatchNormalization', opset: 15, inputs: [{ shape: [2, 3, 4, 5] }, ...params], attrs: { epsilon: float(1e-3) } }));
test('BatchNormalization on [N, C], opset 9', () =>
  gradcheck({ op: 'BatchNormalization', opset: 9, inputs: [{ shape: [4, 3] }, ...params] }));
test('BatchNormalization with spatial, opset 7', () =>
  gradcheck({ op: 'BatchNormalization', opset: 7, inputs: [{ shape: [1, 3, 4] }, ...params], attrs: { spatial: 1 } }));
test('BatchNormalization with training_mode 0, opset 14', () =>
  gradcheck({ op: 'BatchNormalization', opset: 14, inputs: [{ shape: [1, 3, 2, 2, 2] }, ...params], attrs: { training_mode: 0 } }));

test('BatchNormalization in training mode (opset 14: training_mode 1, batch statistics) is refused in one line saying how to export', async () => {
  const model = tinyModel([3, 4], 14, (em, x) => em.opN('BatchNormalization', [x, ...[[0.5, -1.2, 2], [0.1, 0.2, -0.3], [0.3, -0.1, 0.2], [0.8, 1.5, 0.2]].map((v) => em.constFloat(v, [3]))], 3, { training_mode: 1 })[0]);
  const ex = await Explainer.load(model);
  await rejects(() => ex.attribute({ data: new Float32Array(24).map((_, i) => Math.sin(i)), dims: [2, 3, 4] }, { target: 0 }),
    /training-mode batch normalization \(statistics of the batch, updated running means\) is not supported: export the model in eval mode \(model\.eval\(\), torch\.onnx\.TrainingMode\.EVAL\)$/);
});

test.run();
