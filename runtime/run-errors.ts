import { ExplainError } from '../rewriter/errors';

/** The C++ source line and function onnxruntime puts before some messages ("/onnxruntime_src/…/graph.cc:1555 void onnxruntime::Graph::…() "). */
const SOURCE_LOCATION = /\/\S+\.(?:cc|cpp|h):\d+ [^()]*\([^()]*\)(?: const)? /g;

/** onnxruntime-web's wrapper around the native message ("failed to call OrtRun(). ERROR_CODE: 2, ERROR_MESSAGE: …"). */
const WEB_WRAPPER = /^.*?ERROR_CODE: \d+, ERROR_MESSAGE: /;

/**
 * The first line of an error's message, without onnxruntime's source locations and onnxruntime-web's wrapper, with the axes onnxruntime lists below its "Got invalid
 * dimensions for input" line (`index: 0 Got: 1 Expected: 0`), which say what is wrong.
 */
export function firstLine(e: unknown): string {
  const [line, ...rest] = String((e as Error)?.message ?? e).split('\n').map((l) => l.trim());
  const first = line.replace(WEB_WRAPPER, '').replace(SOURCE_LOCATION, '');
  const axes = rest.filter((l) => /^index: \d+ Got: -?\d+ Expected: -?\d+$/.test(l));
  return axes.length ? `${first}: ${axes.join('; ')}` : first;
}

/** onnxruntime's message where a run needs more memory than it can have. */
const OUT_OF_MEMORY = /Failed to allocate memory for requested buffer of size (\d+)/;

/** onnxruntime's message for a node that failed during a run. */
const FAILED_NODE = /Non-zero status code returned while running (\S+) node\. Name:'([^']*)' Status Message: (.*)$/;
/** Its messages for a node it rejects when it loads the model (shape or type inference): [op, node, what]. */
const REJECTED_NODE: [RegExp, (m: RegExpExecArray) => [string, string, string]][] = [
  [/Node \(([^)]*)\) Op \(([^)]*)\) \[(?:Shape|Type)InferenceError\] (.*)$/, (m) => [m[2], m[1], m[3]]],
  [/In Node, \("([^"]*)", ([^,]*), [^)]*\) : .*, Error (.*)$/, (m) => [m[2], m[1], m[3]]],
  [/(Type '[^']*' of input parameter \([^)]*\)) of operator \(([^)]*)\) in node \(([^)]*)\) is invalid/, (m) => [m[2], m[3], `${m[1]} is invalid`]],
  // A graph output declared with another type than its node computes (no op type in the message).
  [/Type Error: Type \((.*?)\) of output arg \((.*?)\) of node \((.*?)\) does not match expected type \((.*)\)/, (m) => ['', m[3], `output '${m[2]}' is declared ${m[1]}, but the node computes ${m[4]}`]],
];

/**
 * An error of a session's creation or run, as the caller should see it: a node of the user's
 * model that onnxruntime rejects when it loads the model or cannot run (shapes, types or
 * attributes that contradict each other, found only now that shape inference replaced the probe's
 * run) is the model's fault, named in one line; a failing emitted node ('xpl/…', 'compose/…', or a
 * node onnxruntime fused from one) stays an internal error.
 */
export function runError(e: unknown, label: string): unknown {
  const line = firstLine(e);
  const memory = OUT_OF_MEMORY.exec(line);
  if (memory) return new ExplainError(`${label}: onnxruntime cannot allocate the ${(Number(memory[1]) / 2 ** 30).toPrecision(3)} GiB one run needs: give fewer rows per run (internalBatchSize, --internal-batch-size) or fewer input rows`);
  const ours = (node: string) => /^(xpl|compose)\//.test(node);
  const m = FAILED_NODE.exec(line);
  if (m) return ours(m[2]) ? e : new ExplainError(`${label}: onnxruntime cannot run the model's node '${m[2]}' (${m[1]}): ${m[3]}`);
  for (const [pattern, parts] of REJECTED_NODE) {
    const r = pattern.exec(line);
    if (!r) continue;
    const [op, node, what] = parts(r);
    return ours(node) ? e : new ExplainError(`${label}: onnxruntime rejects the model's node '${node}'${op ? ` (${op})` : ''}: ${what}`);
  }
  return e;
}
