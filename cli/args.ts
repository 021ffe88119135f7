import { isUtf8 } from 'buffer';
import * as fs from 'fs';
import { ExplainError } from '../rewriter/errors';
import { givenNormalization, Normalization, Preprocess, presetNormalization } from '../runtime/image';

export interface Parsed { positional: string[]; flags: Map<string, string | true> }

/** Flags that may be given several times: their values are joined with commas. */
const REPEATABLE = new Set(['feed', 'wrt', 'generator-feed', 'lrp-rule']);

/** Options naming a file or folder: an empty value names none (--out= wrote nothing and exited 0). */
const PATHS = new Set(['out', 'out-dir', 'input', 'input-dir', 'json', 'cache-dir', 'classifier', 'generator']);

/** --name value / --name=value / boolean --flag; `known` maps each flag to whether it takes a value. */
export function parseArgs(argv: string[], known: Record<string, boolean>, command: string): Parsed {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) { positional.push(a); continue; }
    const [name, inline] = a.slice(2).split(/=(.*)/s, 2);
    if (!Object.hasOwn(known, name)) throw new ExplainError(`${command}: unknown option --${name} (see onnx-explain ${command} --help)`);
    if (flags.has(name) && !REPEATABLE.has(name)) throw new ExplainError(`${command}: option --${name} is given twice`);
    if (!known[name]) {
      if (inline !== undefined) throw new ExplainError(`${command}: option --${name} takes no value (got '--${name}=${inline}')`);
      flags.set(name, true);
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined) throw new ExplainError(`${command}: option --${name} needs a value`);
    if (value === '' && PATHS.has(name)) throw new ExplainError(`${command}: option --${name} has an empty value (a file or folder name)`);
    const previous = flags.get(name);
    flags.set(name, REPEATABLE.has(name) && typeof previous === 'string' ? `${previous},${value}` : value);
  }
  return { positional, flags };
}

/** Comma-separated integers: no empty items, no other notation (1.5, 1e0, 0x1). */
export function intList(text: string, what: string): number[] {
  const items = text.split(',').map((s) => s.trim());
  if (items.some((s) => !/^[-+]?\d+$/.test(s) || !Number.isSafeInteger(Number(s)))) throw new ExplainError(`${what}: '${text}' is not a comma-separated list of integers`);
  return items.map(Number);
}

/** One integer (a fraction or a list is not one; a flag of one value does not speak of lists). */
export function int(text: string, what: string): number {
  if (text.includes(',') || !/^[-+]?\d+$/.test(text.trim())) throw new ExplainError(`${what}: '${text}' is not one integer`);
  return intList(text, what)[0];
}

/** An integer flag's value, or undefined where it is not given. */
export function intFlag(p: Parsed, flag: string): number | undefined {
  return p.flags.has(flag) ? int(p.flags.get(flag) as string, `--${flag}`) : undefined;
}

/** A flag's comma-separated integers, or undefined where it is not given. */
export function intsFlag(p: Parsed, flag: string): number[] | undefined {
  return p.flags.has(flag) ? intList(p.flags.get(flag) as string, `--${flag}`) : undefined;
}

/** A finite number. */
export function num(text: string, what: string): number {
  const v = /^\s*[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?\s*$/i.test(text) ? Number(text) : NaN;
  if (!Number.isFinite(v)) throw new ExplainError(`${what}: '${text}' is not a finite number`);
  return v;
}

/** Comma-separated finite numbers (each as `num` reads it). */
export function numList(text: string, what: string): number[] {
  return text.split(',').map((t) => num(t, what));
}

/** --preprocess: one of `allowed` (all by default), else `fallback`. */
export function preprocessFlag(p: Parsed, fallback: Preprocess, allowed: Preprocess[] = ['torchvision', 'tf', 'caffe', 'none', 'pixels']): Preprocess {
  const v = (p.flags.get('preprocess') as Preprocess | undefined) ?? fallback;
  if (!allowed.includes(v)) throw new ExplainError(`--preprocess: '${v}' is not ${allowed.slice(0, -1).join(', ')} or ${allowed[allowed.length - 1]}`);
  return v;
}

/** --mean M[,M…] --std S[,S…]: torchvision's Normalize(mean, std) for image inputs (both or neither). */
export function normalizationFlags(p: Parsed): Normalization | undefined {
  const [mean, std] = (['mean', 'std'] as const).map((flag) => p.flags.get(flag) as string | undefined);
  if (mean === undefined && std === undefined) return undefined;
  if (mean === undefined || std === undefined) throw new ExplainError(`--${mean === undefined ? 'mean' : 'std'} is missing: --mean and --std come together, as torchvision's Normalize(mean, std)`);
  return { mean: numList(mean, '--mean'), std: numList(std, '--std') };
}

/** The normalisation images are shown and bounded with: --mean/--std where given, else the preset's. */
export function normalizationOf(p: Parsed, preprocess: Preprocess, channels: number, label: string): Normalization {
  const given = normalizationFlags(p);
  return given ? givenNormalization(given, preprocess, channels, label) : presetNormalization(preprocess, channels);
}

/**
 * The first argument of this process whose bytes are not UTF-8 (Node gives it with U+FFFD in their
 * place), read from Linux's /proc; undefined where every one is, or /proc cannot tell. An argument
 * that holds U+FFFD itself, as UTF-8, is no such argument.
 */
export function nonUtf8Argument(): string | undefined {
  let raw: Buffer;
  try {
    raw = fs.readFileSync('/proc/self/cmdline');
  } catch {
    return undefined;
  }
  let start = 0;
  for (let k = 0; k <= raw.length; k++) {
    if (k < raw.length && raw[k] !== 0) continue;
    const bytes = raw.subarray(start, k);
    start = k + 1;
    if (!isUtf8(bytes)) return bytes.toString('utf8');
  }
  return undefined;
}
