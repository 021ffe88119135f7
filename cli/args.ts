import { ExplainError } from '../rewriter/errors';

export interface Parsed { positional: string[]; flags: Map<string, string | true> }

/** --name value / --name=value / boolean --flag; `known` maps each flag to whether it takes a value. */
export function parseArgs(argv: string[], known: Record<string, boolean>, command: string): Parsed {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) { positional.push(a); continue; }
    const [name, inline] = a.slice(2).split(/=(.*)/s, 2);
    if (!(name in known)) throw new ExplainError(`${command}: unknown option --${name} (see onnx-explain ${command} --help)`);
    if (!known[name]) { flags.set(name, true); continue; }
    const value = inline ?? argv[++i];
    if (value === undefined) throw new ExplainError(`${command}: option --${name} needs a value`);
    flags.set(name, value);
  }
  return { positional, flags };
}

export function intList(text: string, what: string): number[] {
  const v = text.split(',').map((s) => Number(s.trim()));
  if (v.some((x) => !Number.isInteger(x))) throw new ExplainError(`${what}: '${text}' is not a comma-separated list of integers`);
  return v;
}

export function num(text: string, what: string): number {
  const v = Number(text);
  if (!Number.isFinite(v)) throw new ExplainError(`${what}: '${text}' is not a number`);
  return v;
}
