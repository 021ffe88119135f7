import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { ExplainError } from '../../rewriter/errors';

/** A Node file-system error as one line naming the path. */
export function fileError(e: unknown, file: string): ExplainError {
  const code = (e as NodeJS.ErrnoException)?.code;
  const why: Record<string, string> = {
    ENOENT: 'file not found', EISDIR: 'is a directory', ENOTDIR: 'a folder on the path is a file', EACCES: 'permission denied', EPERM: 'permission denied',
    ELOOP: 'too many symbolic links', ENAMETOOLONG: 'name too long', ENOSPC: 'no space left on the device', EROFS: 'read-only file system', EMFILE: 'too many open files',
    EFBIG: 'larger than the file-size limit (ulimit -f)', EDQUOT: 'disk quota exceeded', ENXIO: 'is not a regular file (a FIFO, device or socket)',
  };
  return e instanceof ExplainError ? e : new ExplainError(`${file}: ${why[code ?? ''] ?? `cannot be used (${code ?? (e as Error)?.message ?? e})`}`);
}

/** The most bytes one read or write moves: Node refuses 2 GiB and more, Linux moves at most 0x7ffff000 bytes. */
const IO_CHUNK = 2 ** 30;

/** Fills `buf` from `fd` (the file `label`) at `position`, a gigabyte at a time (a read may return fewer bytes than asked). */
export function readFully(fd: number, buf: Uint8Array, position: number, label: string): void {
  for (let done = 0; done < buf.length;) {
    const n = fs.readSync(fd, buf, done, Math.min(IO_CHUNK, buf.length - done), position + done);
    if (n === 0) throw new ExplainError(`${label}: ended ${buf.length - done} bytes early (changed while read?)`);
    done += n;
  }
}

/** Writes all of `bytes` to `fd`, a gigabyte at a time. */
function writeFully(fd: number, bytes: Uint8Array): void {
  for (let done = 0; done < bytes.length;) done += fs.writeSync(fd, bytes, done, Math.min(IO_CHUNK, bytes.length - done));
}

/**
 * The bytes of a regular file. Opened without blocking and checked on the open descriptor, so a
 * FIFO, device or socket in place of a file is refused instead of waiting forever.
 */
export function readRegularFile(file: string): Buffer {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (e) {
    throw fileError(e, file);
  }
  try {
    const st = fs.fstatSync(fd);
    if (st.isDirectory()) throw new ExplainError(`${file}: is a directory, not a file`);
    if (!st.isFile()) throw new ExplainError(`${file}: is not a regular file (a FIFO, device or socket)`);
    // readFileSync refuses 2 GiB and more: read a gigabyte at a time.
    const buf = Buffer.allocUnsafe(st.size);
    readFully(fd, buf, 0, file);
    return buf;
  } catch (e) {
    throw fileError(e, file);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Checks, before any work, that `out` can be written without touching the user's other files: its
 * folder exists or can be made (the nearest existing ancestor is a folder; it is made when the file
 * is written, so a command that fails leaves no folder behind), no folder or special file is in its
 * place, and it is not the same file as one of `inputs` (compared by device and inode, so symbolic
 * and hard links count). The temporary files of an earlier write of `out` whose process was killed
 * are removed (`sweep`: folder mode sweeps its folder once).
 */
export function checkOutput(out: string, flag: string, inputs: (string | undefined)[], sweep = true): void {
  let existing = path.dirname(path.resolve(out));
  while (!fs.existsSync(existing)) existing = path.dirname(existing);
  if (!fs.statSync(existing).isDirectory()) throw new ExplainError(`${flag} ${out}: cannot create its folder (${existing} is a file)`);
  // A folder that takes no new file (read-only, /proc, /sys) fails now, not after the computation. The
  // probe is named as a temporary file of `out`, so one a killed run left is swept as theirs are.
  const probe = temporaryOf(path.join(existing, path.basename(out)));
  try {
    fs.writeFileSync(probe, '');
    fs.rmSync(probe, { force: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ExplainError(`${flag} ${out}: cannot write in ${existing}${code ? ` (${code})` : ''}`);
  }
  const names = new Set([path.basename(out)]);
  if (sweep) removeStaleTemporaries(path.dirname(path.resolve(out)), names);
  if (sweep && existing !== path.dirname(path.resolve(out))) removeStaleTemporaries(existing, names);
  let target: fs.Stats | undefined;
  try {
    target = fs.statSync(out);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw fileError(e, out);
  }
  if (!target) return;
  if (target.isDirectory()) throw new ExplainError(`${flag} ${out}: is a directory`);
  if (!target.isFile()) throw new ExplainError(`${flag} ${out}: is not a regular file (a FIFO, device or socket)`);
  replacedFile(out, `${flag} ${out}`);
  for (const input of inputs) {
    if (!input) continue;
    let st: fs.Stats;
    try {
      st = fs.statSync(input);
    } catch {
      continue;
    }
    if (st.dev === target.dev && st.ino === target.ino) throw new ExplainError(`${flag} ${out} is the same file as ${input} and would overwrite it`);
  }
}

/**
 * Makes a folder and its missing ancestors, one mkdir each from the top: Node's recursive mkdir
 * never returns where a pseudo file system refuses the first (under /proc).
 */
export function makeFolder(dir: string): void {
  for (const d of missingFolders(dir)) {
    try {
      fs.mkdirSync(d);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
}

/** `dir` and its ancestors that do not exist, the topmost first. */
export function missingFolders(dir: string): string[] {
  const missing: string[] = [];
  for (let d = path.resolve(dir); !fs.existsSync(d); d = path.dirname(d)) missing.unshift(d);
  return missing;
}

/** A temporary file's suffix: the pid and a random part (processes of two containers writing one folder may have one pid). */
export const uniqueSuffix = (): string => `${process.pid}-${crypto.randomBytes(6).toString('hex')}`;

/**
 * Writes a file through a temporary file in the same folder (made if missing), flushed to the disk,
 * and a rename: a reader never sees half a file, nor does one after a power loss, and a link at
 * `file` is replaced, never written through. A file it replaces keeps its mode (and, written by
 * root, its owner), and one the process may not write is refused, as `cp` and `numpy.save` refuse it.
 */
export function writeFileAtomic(file: string, bytes: Uint8Array): void {
  writeReplacing(file, bytes, replacedFile(file));
}

/** writeFileAtomic, the new file taking the mode (and owner) of `old`, the file it replaces. */
function writeReplacing(file: string, bytes: Uint8Array, old: fs.Stats | undefined): void {
  const dir = path.dirname(path.resolve(file));
  for (let attempt = 1; ; attempt++) {
    const tmp = temporaryOf(file);
    try {
      makeFolder(dir);
      const fd = fs.openSync(tmp, 'wx');
      try {
        if (old) keepOwnership(fd, old);
        writeFully(fd, bytes);
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      fs.renameSync(tmp, file);
      return;
    } catch (e) {
      fs.rmSync(tmp, { force: true });
      // The temporary file went before its rename: another container's run, to whose pid namespace this
      // pid is a dead process's, swept it (removeStaleTemporaries). Write it again.
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' && attempt < 3 && fs.existsSync(dir)) continue;
      throw fileError(e, file);
    }
  }
}

/**
 * Writes files that belong together (a model and its config, a picture and its record) so that none
 * is ever beside another run's: the files they replace are moved aside (as temporary files, which the
 * next run sweeps) until every one is written, and put back where a write fails, which takes the new
 * ones written before it. Each keeps the mode (and, written by root, the owner) of the file it replaces.
 */
export function writeFilesTogether(files: { file: string; bytes: Uint8Array }[]): void {
  const olds = files.map(({ file }) => replacedFile(file));
  const aside = files.flatMap(({ file }, k) => (olds[k] ? [{ file, at: temporaryOf(file) }] : []));
  const written: string[] = [];
  try {
    for (const a of aside) fs.renameSync(a.file, a.at);
    files.forEach(({ file, bytes }, k) => {
      writeReplacing(file, bytes, olds[k]);
      written.push(file);
    });
  } catch (e) {
    for (const file of written) fs.rmSync(file, { force: true });
    for (const a of aside) if (fs.existsSync(a.at)) fs.renameSync(a.at, a.file);
    throw fileError(e, files[written.length]?.file ?? files[0].file);
  }
  for (const a of aside) fs.rmSync(a.at, { force: true });
}

/** A new temporary file's name for `file`: `.NAME.tmp-PID-hex` beside it (what removeStaleTemporaries sweeps). */
function temporaryOf(file: string): string {
  return path.join(path.dirname(path.resolve(file)), `.${path.basename(file)}.tmp-${uniqueSuffix()}`);
}

/** The regular file (not a link) writeFileAtomic would replace, after checking the process may write it. */
function replacedFile(file: string, label = file): fs.Stats | undefined {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(file);
  } catch {
    return undefined;
  }
  if (!st.isFile()) return undefined;
  try {
    fs.accessSync(file, fs.constants.W_OK);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EACCES') throw fileError(e, label);
    const theirs = process.getuid !== undefined && st.uid !== process.getuid();
    throw new ExplainError(`${label}: permission denied (${theirs ? 'the file is another user\'s: write it elsewhere' : 'the file is read-only: make it writable or remove it'})`);
  }
  return st;
}

/**
 * The replaced file's permission bits, and as root its owner, on the new one, where the file
 * system and the process's rights allow (a root without CAP_CHOWN, a user namespace, vfat):
 * otherwise the new file keeps its own, as `sed -i` leaves it.
 */
function keepOwnership(fd: number, old: fs.Stats): void {
  try {
    fs.fchmodSync(fd, old.mode & 0o7777);
    if (process.getuid?.() === 0) fs.fchownSync(fd, old.uid, old.gid);
  } catch {
    // The output is written all the same.
  }
}

/** A JSON file (one value, a final newline) written as writeFileAtomic writes. */
export function writeJsonFile(file: string, value: unknown, space?: number): void {
  writeFileAtomic(file, jsonBytes(value, space));
}

/** A JSON file's bytes: one value, a final newline. */
export function jsonBytes(value: unknown, space?: number): Uint8Array {
  return new TextEncoder().encode(`${JSON.stringify(value, null, space)}\n`);
}

/** Removes the temporary files writeFileAtomic left in `dir` for `names` (a process killed between writing and renaming), where that process is gone. */
export function removeStaleTemporaries(dir: string, names: Set<string>): void {
  const gone = (pid: number) => {
    try {
      process.kill(pid, 0);
      return false;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'ESRCH';
    }
  };
  let entries: string[];
  try {
    entries = fs.readdirSync(dir);
  } catch {
    // Missing, or a drop folder one may write but not list: nothing to sweep.
    return;
  }
  for (const f of entries) {
    const m = /^\.(.+)\.tmp-(\d+)-[0-9a-f]+$/.exec(f);
    if (m && names.has(m[1]) && gone(Number(m[2]))) fs.rmSync(path.join(dir, f), { force: true });
  }
}
