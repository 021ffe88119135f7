import { Test } from 'uvu';

const reasons: string[] = [];

/**
 * Registers a test that cannot run here (missing driver, browser, ...) as skipped: uvu counts it
 * in "Skipped: N", the reason is printed now and again after uvu's summary, so a skip never
 * passes silently.
 */
export function skip(test: Test, name: string, why: string): void {
  test.skip(name);
  const line = `skipped: ${name}: ${why}`;
  console.log(line);
  if (!reasons.length) process.on('exit', () => console.log(reasons.join('\n')));
  reasons.push(line);
}
