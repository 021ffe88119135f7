// Tests run the core on onnxruntime-node, whichever file a test run starts from.
import '../../runtime/node/backend';
import * as fs from 'fs';
import * as path from 'path';
import { NdArray } from '../../runtime/npy';
import { readNpy } from '../../runtime/node/npy-file';
import { Explainer } from '../../runtime';
import { tensorsAt } from '../../runtime/drivers/forward';
import type { NodeProto } from '../../rewriter/proto';

export const FIXTURES = path.resolve(__dirname, '../../../models/fixtures');
/** Models in the forms other converters emit (models/make_exporters.py), same layout. */
export const EXPORTERS = path.resolve(__dirname, '../../../models/exporters');
/** Token classifiers with LSTM / GRU / RNN cells (models/make_recurrent.py); input.npy holds token ids. */
export const RECURRENT = path.resolve(__dirname, '../../../models/recurrent');
/** Models with several inputs or inputs feeding several branches (models/make_multi_input.py, make_siamese.py). */
export const MULTI = path.resolve(__dirname, '../../../models/multi');
/** Models with class-activation-map references (models/make_cam_fixtures.py): a video net among them. */
export const CAM_FIXTURES = path.resolve(__dirname, '../../../models/cam-fixtures');
/** Fixture folders by the short names tests pass between processes. */
export const FIXTURE_ROOTS: Record<string, string> = { fixtures: FIXTURES, exporters: EXPORTERS, recurrent: RECURRENT, multi: MULTI, cam: CAM_FIXTURES };

/** Reference-pass nodes are copies of the forward graph (outputs renamed ref/...), not emitted backward ops. */
export const isReferenceCopy = (n: NodeProto) => (n.output ?? []).length > 0 && (n.output ?? []).every((o) => !o || o.startsWith('ref/'));

export interface Fixture {
  name: string;
  model: string;
  input: NdArray & { data: Float32Array };
  meta: { opset: number; target: number[]; softmax: boolean; batch_fixed: boolean; logits_name_hint?: string };
  ref(file: string): Float32Array | undefined;
}

export function fixtureNames(root = FIXTURES): string[] {
  return fs.readdirSync(root).filter((d) => fs.existsSync(path.join(root, d, 'model.onnx'))).sort();
}

export function loadFixture(name: string, root = FIXTURES): Fixture {
  const dir = path.join(root, name);
  return {
    name,
    model: path.join(dir, 'model.onnx'),
    input: readNpy(path.join(dir, 'input.npy')) as Fixture['input'],
    meta: JSON.parse(fs.readFileSync(path.join(dir, 'meta.json'), 'utf8')),
    ref: (file) => (fs.existsSync(path.join(dir, file)) ? Float32Array.from(readNpy(path.join(dir, file)).data as Float32Array) : undefined),
  };
}

/** ‖a − b‖₂ / ‖b‖₂ (absolute when b is 0). */
export function relL2(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num) / (den > 0 ? Math.sqrt(den) : 1);
}

/** The values of any tensor of the model (an output or an intermediate tensor) for input x. */
export async function tensorValues(ex: Explainer, x: { data: Float32Array; dims: number[] }, name: string): Promise<Float32Array> {
  return (await (await tensorsAt(ex, x.dims.slice(1), [name]))(ex.toTensor(x)))[name].data;
}
