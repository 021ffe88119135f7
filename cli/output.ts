import { Progress } from '../runtime/progress';

/**
 * `text` with the control characters a model's names may hold shown as escapes (\x1b, \x0a):
 * printed as they are, a terminal would run them (colours, cursor moves) and a newline would start
 * a line of the model's own, a fake error among them. Tabs stay.
 */
export function printable(text: string): string {
  return text.replace(/[\x00-\x08\x0a-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** One line on stdout, printable. */
export function say(text: string): void {
  clearBar();
  console.log(printable(text));
}

/** The stream a progress bar's line is on now: it ends without a newline, so what follows clears it. */
let barOn: NodeJS.WriteStream | undefined;

/** Clears a progress bar's line, so the next line (results, an error, the shell's prompt after a signal) starts at column 0. */
export function clearBar(): void {
  barOn?.write('\r\x1b[K');
  barOn = undefined;
}

/** Columns a character takes on a terminal: two for East Asian wide and emoji code points. */
function columnsOf(c: number): number {
  const wide = (c >= 0x1100 && c <= 0x115f) || (c >= 0x2e80 && c <= 0xa4cf) || (c >= 0xac00 && c <= 0xd7a3) || (c >= 0xf900 && c <= 0xfaff)
    || (c >= 0xfe30 && c <= 0xfe4f) || (c >= 0xff00 && c <= 0xff60) || (c >= 0xffe0 && c <= 0xffe6) || (c >= 0x1f300 && c <= 0x1faff) || (c >= 0x20000 && c <= 0x3fffd);
  return wide ? 2 : 1;
}

/** How many of `chars`, from the first, fit in `columns` terminal columns. */
function fitting(chars: string[], columns: number): number {
  let used = 0;
  const n = chars.findIndex((ch) => (used += columnsOf(ch.codePointAt(0)!)) > columns);
  return n < 0 ? chars.length : n;
}

/** Most often a bar is redrawn (ms): a sweep reports every model run, thousands a second on a small model. */
const REDRAW_MS = 100;

/**
 * A progress bar on stderr for loops that take more than a second; nothing where stderr is no
 * terminal that moves its cursor (pipes, CI, tests, TERM=dumb). The count stays in view on narrow
 * terminals (the bar narrows, a long label is cut from its start), names are printable, and the
 * line is cleared when the loop completes, before any other line, and on SIGINT/SIGTERM.
 */
export function progressBar(label: string, stream: NodeJS.WriteStream = process.stderr): Progress | undefined {
  if (!stream.isTTY || process.env.TERM === 'dumb') return undefined;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    // Cleared, then the signal's own exit (130, 143) once this handler is gone.
    if (!process.listeners(signal).includes(clearOnSignal)) process.once(signal, clearOnSignal);
  }
  const start = Date.now();
  let last = 0;
  return (done, total, note) => {
    if (done >= total) return clearBar();
    const now = Date.now();
    if (now - start < 1000 || now - last < REDRAW_MS) return;
    last = now;
    const columns = (stream.columns || 100) - 1;
    const count = ` ${done}/${total}`;
    const width = Math.max(5, Math.min(30, columns - count.length - 12));
    const filled = Math.round((width * done) / Math.max(1, total));
    const bar = ` [${'#'.repeat(filled)}${'.'.repeat(width - filled)}]${count}`;
    const name = [...printable(label)];
    const room = columns - bar.length;
    const head = fitting(name, room) === name.length ? name.join('') : `…${name.slice(name.length - fitting([...name].reverse(), room - 1)).join('')}`;
    const line = [...`${head}${bar}${note ? ` ${printable(note)}` : ''}`];
    stream.write(`\r${line.slice(0, fitting(line, columns)).join('')}\x1b[K`);
    barOn = stream;
  };
}

function clearOnSignal(signal: NodeJS.Signals): void {
  clearBar();
  process.kill(process.pid, signal);
}
