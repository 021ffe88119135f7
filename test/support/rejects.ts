import * as assert from 'uvu/assert';
import { ExplainError } from '../../rewriter/errors';

/** The call fails with a one-line ExplainError matching `cause`. */
export async function rejects(run: () => Promise<unknown>, cause: RegExp): Promise<void> {
  const err = await run().then(() => undefined, (e: unknown) => e);
  assert.instance(err, ExplainError);
  assert.match((err as Error).message, cause);
  assert.not.match((err as Error).message, /\n/);
}
