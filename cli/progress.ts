/**
 * A one-line progress bar on stderr for long sweeps, erased when done; undefined when stderr is
 * not a terminal (pipes and logs get nothing).
 */
export function progressBar(label: string): ((done: number, total: number) => void) | undefined {
  if (!process.stderr.isTTY) return undefined;
  const width = 30;
  return (done, total) => {
    const filled = Math.round((width * done) / total);
    process.stderr.write(done >= total ? '\r\x1b[K' : `\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`);
  };
}
