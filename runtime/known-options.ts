import { ExplainError } from '../rewriter/errors';

/**
 * Options are an object of known names: a misspelt one (`targets`, Captum's `n_steps`, `provder`)
 * would otherwise be ignored without a word. `known` lists every name (a Record over the options
 * type's keys, so the compiler keeps it complete).
 */
export function checkKnown(what: string, options: unknown, known: Record<string, true>): void {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) throw new ExplainError(`${what}: the options must be an object ({ ${Object.keys(known).slice(0, 2).join(', ')}, … }), got ${typeof options === 'string' ? JSON.stringify(options) : options === null ? 'null' : typeof options}`);
  const unknown = Object.keys(options).filter((k) => !Object.hasOwn(known, k));
  if (unknown.length) throw new ExplainError(`${what}: unknown option${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')} (options: ${Object.keys(known).join(', ')})`);
}
