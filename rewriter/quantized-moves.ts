/**
 * Ops that only move, select or repeat values: a quantized (integer) tensor keeps its meaning
 * through them, and their rules route the gradient whatever the values' type (QOperator models
 * flatten, slice, split and concatenate uint8 tensors).
 */
export const QUANTIZED_MOVES = new Set(['Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Transpose', 'Identity', 'Slice', 'Gather', 'Split', 'Concat', 'Pad', 'Tile', 'Expand', 'DepthToSpace', 'SpaceToDepth']);
