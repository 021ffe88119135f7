import { attrInt, attrString } from '../../rewriter/attributes';
import { isFloatType } from '../../rewriter/proto';
import { RuleEntry } from '../types';

const FLOAT_NAMES = ['FLOAT', 'FLOAT16', 'DOUBLE', 'BFLOAT16'];

/** dY passes through a float→float cast; a cast to a non-float type has no gradient. */
export const Cast: RuleEntry = {
  opType: 'Cast', since: 1, category: 'shape',
  rule: {
    backward({ node }, [dY]) {
      // Cast-1 names the target type with a string.
      const name = attrString(node, 'to', '');
      const toFloat = name ? FLOAT_NAMES.includes(name) : isFloatType(attrInt(node, 'to', 0));
      return [toFloat ? dY : null];
    },
  },
};
