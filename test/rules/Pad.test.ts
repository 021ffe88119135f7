import { test } from 'uvu';
import { float } from '../../rewriter/emitter';
import * as assert from 'uvu/assert';
import { gradcheck, refusal } from '../support/gradcheck';

const ints = (v: number[]) => ({ shape: [v.length], value: v, int64: true });
const x = { shape: [1, 2, 4, 5] };

test('Pad constant attribute form, opset 7', () =>
  gradcheck({ op: 'Pad', opset: 7, inputs: [x], attrs: { pads: [0, 0, 1, 2, 0, 0, 2, 0], value: float(0.5) } }));
test('Pad constant with negative pads, opset 11', () =>
  gradcheck({ op: 'Pad', opset: 11, inputs: [x, ints([0, 0, -1, 2, 0, 0, 1, -2])] }));
test('Pad reflect, opset 11', () =>
  gradcheck({ op: 'Pad', opset: 11, inputs: [x, ints([0, 0, 2, 3, 0, 0, 3, 4])], attrs: { mode: 'reflect' } }));
test('Pad edge, opset 13', () =>
  gradcheck({ op: 'Pad', opset: 13, inputs: [x, ints([0, 0, 2, 1, 0, 0, 5, 3]), { shape: [], value: [0] }], attrs: { mode: 'edge' } }));
test('Pad reflect, attribute form, opset 9', () =>
  gradcheck({ op: 'Pad', opset: 9, inputs: [x], attrs: { mode: 'reflect', pads: [0, 0, 1, 1, 0, 0, 2, 1] } }));
test('Pad with axes input, opset 18', () =>
  gradcheck({ op: 'Pad', opset: 18, inputs: [x, ints([1, 2, 0, 3]), { shape: [], omitted: true }, ints([-1, 2])], attrs: { mode: 'reflect' } }));
test('Pad wrap, opset 19', () =>
  gradcheck({ op: 'Pad', opset: 19, inputs: [x, ints([0, 0, 2, 3, 0, 0, 1, 5])], attrs: { mode: 'wrap' } }));
// Past a whole period numpy (the ONNX reference) gives [1, 1, 2, 3, 1, 2, 3, 1] for [1, 2, 3] padded (4, 1), onnxruntime
// [0, 1, 2, 3, 1, 2, 3, 1]: neither is a gradient's function to follow, so the rule refuses it.
test('Pad wrap with a pad longer than its axis is refused naming the axis, opset 19', async () => {
  const message = await refusal({ op: 'Pad', opset: 19, inputs: [{ shape: [1, 3] }, ints([0, 4, 0, 1])], attrs: { mode: 'wrap' } });
  assert.match(message, /wrap padding of \[4, 1\] on axis 1 of size 3: pads longer than the axis are computed differently by onnxruntime and by the ONNX reference/);
});
test('Pad constant with a fill value computed from the input (and negative pads), opset 11 and 18', async () => {
  await gradcheck({ op: 'Pad', opset: 11, inputs: [x, ints([0, 0, -1, 2, 0, 0, 1, -2]), { shape: [] }] });
  await gradcheck({ op: 'Pad', opset: 18, inputs: [x, ints([1, 2, 0, 3]), { shape: [] }, ints([-1, 2])] });
});

// A reflect Pad of a waveform (an STFT's centring: 48,000 samples) built a dense 48,300 × 48,000 scatter matrix and was
// refused: past 4M elements the backward is a Slice of the unpadded run plus small matrices for the borders.
const long = { shape: [1, 2100], range: [-1, 1] as [number, number] };
for (const [mode, pads] of [['reflect', [0, 300, 0, 200]], ['edge', [0, 150, 0, 400]], ['wrap', [0, 250, 0, 90]]] as [string, number[]][]) {
  test(`Pad ${mode} of a long axis (the scatter cut into a Slice and border matrices), opset 19`, () =>
    gradcheck({ op: 'Pad', opset: 19, inputs: [long, ints(pads)], attrs: { mode } }));
}

test.run();
