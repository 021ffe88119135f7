import { test } from 'uvu';
import { gradcheck, InputCase } from './gradcheck';

/** Gradchecks of a reduction in each opset form: axes attribute (keepdims 1 and 0, all axes) and axes input (opset 18). */
export function reduceCases(op: string, x: InputCase = { shape: [2, 3, 4] }): void {
  const axes = (v: number[]) => ({ shape: [v.length], value: v, int64: true });
  test(`${op} axes attribute, keepdims 1, opset 13`, () => gradcheck({ op, opset: 13, inputs: [x], attrs: { axes: [1] } }));
  test(`${op} negative axes attribute, keepdims 0, opset 11`, () => gradcheck({ op, opset: 11, inputs: [x], attrs: { axes: [-1, 1], keepdims: 0 } }));
  test(`${op} all axes, keepdims 0, opset 7`, () => gradcheck({ op, opset: 7, inputs: [x], attrs: { keepdims: 0 } }));
  test(`${op} axes input, keepdims 0, opset 18`, () => gradcheck({ op, opset: 18, inputs: [x, axes([2, 0])], attrs: { keepdims: 0 } }));
  test(`${op} without axes input, opset 18`, () => gradcheck({ op, opset: 18, inputs: [x] }));
}
