/**
 * Ops that only move, select or repeat values: a quantized (integer) tensor keeps its meaning
 * through them, and their rules route the gradient whatever the values' type (QOperator models
 * flatten, slice, split and concatenate uint8 tensors).
 */
export const QUANTIZED_MOVES = new Set(['Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Transpose', 'Identity', 'Slice', 'Gather', 'Split', 'Concat', 'Pad', 'Tile', 'Expand', 'DepthToSpace', 'SpaceToDepth']);

/**
 * Ops that clamp a quantized tensor to a narrower integer range (Brevitas' QCDQ export of fewer
 * than 8 bits: QuantizeLinear → Clip → DequantizeLinear): the values keep their meaning inside the
 * range, and the rule compares them in float.
 */
export const QUANTIZED_CLAMPS = new Set(['Clip']);
