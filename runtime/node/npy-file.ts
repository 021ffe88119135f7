import { encodeNpy, NdArray, parseNpy } from '../npy';
import { readRegularFile, writeFileAtomic } from './files';

/** Reads a .npy file (float32, float64 or int64, C order). */
export function readNpy(file: string): NdArray {
  return parseNpy(readRegularFile(file), file);
}

/** Writes a float32 array as .npy. */
export function writeNpy(file: string, data: Float32Array, dims: number[]): void {
  writeFileAtomic(file, encodeNpy(data, dims));
}
