import { test } from 'uvu';
import { gradcheck } from '../support/gradcheck';

const x = { shape: [2, 8, 2, 3] };

test('DepthToSpace DCR, opset 13', () => gradcheck({ op: 'DepthToSpace', opset: 13, inputs: [x], attrs: { blocksize: 2 } }));
test('DepthToSpace CRD, opset 11', () => gradcheck({ op: 'DepthToSpace', opset: 11, inputs: [x], attrs: { blocksize: 2, mode: 'CRD' } }));
test('DepthToSpace, opset 7', () => gradcheck({ op: 'DepthToSpace', opset: 7, inputs: [x], attrs: { blocksize: 2 } }));

test.run();
