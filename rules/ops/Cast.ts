import { attrInt, attrString } from '../../rewriter/attributes';
import { FLOAT8_TYPES, isFloatType, NodeProto } from '../../rewriter/proto';
import { RuleEntry } from '../types';

const FLOAT_NAMES = ['FLOAT', 'FLOAT16', 'DOUBLE', 'BFLOAT16'];

/**
 * dY passes through a float→float cast (float8 included: a rounding, as PyTorch's autograd passes
 * it), and through a cast to the type its input already has (an
 * identity: torch.onnx writes uint8→uint8 Casts between QuantizeLinear and DequantizeLinear in its
 * export of quantized models); any other cast to a non-float type has no gradient.
 */
export const Cast: RuleEntry = {
  opType: 'Cast', since: 1, category: 'shape',
  rule: {
    backward({ node, dtype }, [dY]) {
      // Cast-1 names the target type with a string.
      const name = attrString(node, 'to', '');
      const to = attrInt(node, 'to', 0);
      const toFloat = name ? FLOAT_NAMES.includes(name) : isFloatType(to) || FLOAT8_TYPES.has(to);
      return [toFloat || sameType(node, dtype) ? dY : null];
    },
  },
};

/** Whether a Cast's output has its input's (known) element type. */
export function sameType(node: NodeProto, dtype: (name: string) => number | undefined): boolean {
  const from = dtype(node.input![0]);
  return from !== undefined && from === dtype(node.output![0]);
}
