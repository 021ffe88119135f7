import { ExplainError } from '../rewriter/errors';

/** The first line of an error's message. */
export function firstLine(e: unknown): string {
  return String((e as Error)?.message ?? e).split('\n')[0];
}

/** onnxruntime's message for a node that failed during a run. */
const FAILED_NODE = /Non-zero status code returned while running (\S+) node\. Name:'([^']*)' Status Message: (.*)$/;

/**
 * An error of a run, as the caller should see it: a node of the user's model that onnxruntime
 * cannot run (shapes or attributes that contradict each other, found only now that shape
 * inference replaced the probe's run) is the model's fault, named in one line; a failing emitted
 * node ('xpl/…', 'compose/…', or a node onnxruntime fused from one) stays an internal error.
 */
export function runError(e: unknown, label: string): unknown {
  const m = FAILED_NODE.exec(firstLine(e));
  if (!m || /^(xpl|compose)\//.test(m[2])) return e;
  return new ExplainError(`${label}: onnxruntime cannot run the model's node '${m[2]}' (${m[1]}): ${m[3]}`);
}
