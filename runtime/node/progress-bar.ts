import { Progress } from '../progress';

/**
 * A progress bar on stderr for loops that take more than a second; nothing when stderr is not a
 * TTY (pipes, CI, tests). The line is cleared when the loop completes.
 */
export function progressBar(label: string, stream: NodeJS.WriteStream = process.stderr): Progress | undefined {
  if (!stream.isTTY) return undefined;
  const start = Date.now();
  let shown = false;
  return (done, total, note) => {
    if (!shown && Date.now() - start < 1000 && done < total) return;
    const width = 30;
    const filled = Math.round((width * done) / Math.max(1, total));
    const line = `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}${note ? ` ${note}` : ''}`;
    stream.write(`\r${line.slice(0, (stream.columns || 100) - 1)}\x1b[K`);
    shown = true;
    if (done >= total) { stream.write('\r\x1b[K'); shown = false; }
  };
}
