/** A user-facing failure: the message is one line naming the cause (file, node, op, opset, shape, target). */
export class ExplainError extends Error {
  constructor(message: string) {
    // Names read from a model or a path may hold line breaks or control bytes: shown escaped, so
    // the message stays one line.
    super(message.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
    this.name = 'ExplainError';
  }
}

/** The first `shown` items, then how many more: a list of names that a message stays readable with. */
export function shortList(items: string[], shown = 6): string {
  return items.slice(0, shown).join(', ') + (items.length > shown ? ` and ${items.length - shown} more` : '');
}
