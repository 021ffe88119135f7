import { spawnSync, SpawnSyncReturns } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as assert from 'uvu/assert';
import { main } from '../../cli/main';
import { ExplainError } from '../../rewriter/errors';

export interface CliRun { code: number; out: string[]; err: string[]; warn: string[] }

/** Runs the CLI's main() in-process, capturing console.log / console.error / console.warn calls. */
export async function runCli(argv: string[]): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const warn: string[] = [];
  const saved = { log: console.log, error: console.error, warn: console.warn };
  const fmt = (args: unknown[]) => args.map(String).join(' ');
  console.log = (...a: unknown[]) => { out.push(fmt(a)); };
  console.error = (...a: unknown[]) => { err.push(fmt(a)); };
  console.warn = (...a: unknown[]) => { warn.push(fmt(a)); };
  try {
    const code = await main(argv);
    return { code, out, err, warn };
  } finally {
    Object.assign(console, saved);
  }
}

const BIN = path.resolve(__dirname, '../../../bin/onnx-explain.js');

/**
 * The CLI in a child process, `node -r PRELOAD bin/onnx-explain.js ARGV`: a preloadScript patches `fs`
 * there to kill the run or fail a write at a chosen call, as a signal or a full disk would.
 */
export function runCliProcess(argv: string[], preload?: string, env: NodeJS.ProcessEnv = process.env): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [...(preload ? ['-r', preload] : []), BIN, ...argv], { encoding: 'utf8', timeout: 60_000, env });
}

/** A script for runCliProcess's preload, in `dir`: `body` runs before the CLI, with the `fs` module object in scope. */
export function preloadScript(dir: string, name: string, body: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, `const fs = require('fs');\n${body}\n`);
  return file;
}

const tempDirs: string[] = [];
process.on('exit', () => tempDirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

/** A fresh folder under the system's temp folder, removed when the test process exits. */
export function tempDir(tag: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `onnx-explain-${tag}-`));
  tempDirs.push(dir);
  return dir;
}

export interface FileState { sha: string; size: number; mtimeMs: number }

/** sha256, size and mtime of each existing file (missing files map to undefined). */
export function snapshot(files: string[]): Map<string, FileState | undefined> {
  return new Map(files.map((f) => {
    if (!fs.existsSync(f)) return [f, undefined];
    const st = fs.statSync(f);
    return [f, { sha: crypto.createHash('sha256').update(fs.readFileSync(f)).digest('hex'), size: st.size, mtimeMs: st.mtimeMs }];
  }));
}

/** Writes a C-order .npy with the given descr (e.g. '<i8') and raw little-endian bytes. */
export function writeRawNpy(file: string, descr: string, dims: number[], bytes: Uint8Array): void {
  const shape = dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  header += ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head.writeUInt16LE(header.length, 8);
  fs.writeFileSync(file, Buffer.concat([head, Buffer.from(header, 'latin1'), Buffer.from(bytes)]));
}

export function oneLine(msg: string, what: string): void {
  assert.ok(msg.length > 0, `${what}: empty message`);
  assert.not.match(msg, /\n|\r/, `${what}: message has several lines: ${JSON.stringify(msg)}`);
  assert.not.match(msg, /\n\s+at /, `${what}: stack trace`);
}

/** CLI exit code 1 with exactly one stderr line naming the cause; the `protect`ed files unchanged. */
export async function cliFailsWith(argv: string[], cause: RegExp, protect: string[]): Promise<string> {
  const before = snapshot(protect);
  const r = await runCli(argv);
  const what = argv.join(' ');
  assert.is(r.code, 1, `${what}: exit code ${r.code}, stderr ${JSON.stringify(r.err)}`);
  assert.is(r.err.length, 1, `${what}: stderr lines ${JSON.stringify(r.err)}`);
  oneLine(r.err[0], what);
  assert.match(r.err[0], /^onnx-explain: error: /);
  assert.match(r.err[0], cause, `${what}: ${r.err[0]}`);
  assert.equal(snapshot(protect), before, `${what}: user files changed`);
  return r.err[0];
}

/** The API rejects with a one-line ExplainError naming the cause; the `protect`ed files unchanged. */
export async function apiFailsWith(run: () => Promise<unknown>, cause: RegExp, what: string, protect: string[]): Promise<void> {
  const before = snapshot(protect);
  let err: unknown;
  try {
    await run();
  } catch (e) {
    err = e;
  }
  assert.ok(err !== undefined, `${what}: no error`);
  assert.instance(err, ExplainError, `${what}: ${err}`);
  oneLine((err as Error).message, what);
  assert.match((err as Error).message, cause, `${what}: ${(err as Error).message}`);
  assert.equal(snapshot(protect), before, `${what}: user files changed`);
}
