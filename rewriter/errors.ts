/** A user-facing failure: the message is one line naming the cause (file, node, op, opset, shape, target). */
export class ExplainError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExplainError';
  }
}
