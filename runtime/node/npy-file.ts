import * as fs from 'fs';
import { ExplainError } from '../../rewriter/errors';
import { encodeNpy, NdArray, parseNpy } from '../npy';

/** Reads a .npy file (float32, float64 or int64, C order). */
export function readNpy(file: string): NdArray {
  if (!fs.existsSync(file)) throw new ExplainError(`${file}: file not found`);
  return parseNpy(fs.readFileSync(file), file);
}

/** Writes a float32 array as .npy. */
export function writeNpy(file: string, data: Float32Array, dims: number[]): void {
  fs.writeFileSync(file, encodeNpy(data, dims));
}
