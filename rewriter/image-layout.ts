/** Whether a rank-4 image tensor is [N, H, W, C]: 1 or 3 channels last, not first (tf2onnx's Keras models). */
export function channelsLast(dims: number[]): boolean {
  return dims.length === 4 && (dims[3] === 1 || dims[3] === 3) && dims[1] !== 1 && dims[1] !== 3;
}
