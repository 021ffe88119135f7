import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ortApi } from '../backend';
import { CachedGraph, GraphCache, GraphInfo } from '../graph-cache';
import { ExplainError } from '../../rewriter/errors';
import { checkKnown } from '../known-options';
import { makeFolder, readRegularFile, uniqueSuffix, writeFileAtomic } from './files';
import { ownManifest } from './manifest';

/**
 * The cache folder for onnx-explain: $ONNX_EXPLAIN_CACHE_DIR if set, else the OS's cache folder:
 * $XDG_CACHE_HOME/onnx-explain or ~/.cache/onnx-explain (Linux), ~/Library/Caches/onnx-explain
 * (macOS), %LOCALAPPDATA%\onnx-explain (Windows).
 */
export function defaultCacheDir(): string {
  if (process.env.ONNX_EXPLAIN_CACHE_DIR) return process.env.ONNX_EXPLAIN_CACHE_DIR;
  const home = os.homedir();
  if (process.platform === 'darwin') return path.join(home, 'Library', 'Caches', 'onnx-explain');
  if (process.platform === 'win32') return path.join(process.env.LOCALAPPDATA ?? path.join(home, 'AppData', 'Local'), 'onnx-explain');
  // The XDG spec: a relative $XDG_CACHE_HOME is invalid and ignored (it made a folder wherever the command ran).
  const xdg = process.env.XDG_CACHE_HOME;
  return path.join(xdg && path.isAbsolute(xdg) ? xdg : path.join(home, '.cache'), 'onnx-explain');
}

const sha256 = (data: string | Uint8Array) => crypto.createHash('sha256').update(data).digest('hex');

/** The cache's default size limit: $ONNX_EXPLAIN_CACHE_MAX_MB megabytes if set, else 4 GiB. */
export function defaultCacheLimit(): number {
  const given = process.env.ONNX_EXPLAIN_CACHE_MAX_MB;
  if (given === undefined || given === '') return 4 * 2 ** 30;
  const mb = Number(given);
  if (!/^\s*(\d+\.?\d*|\.\d+)(e[-+]?\d+)?\s*$/i.test(given) || !Number.isFinite(mb)) throw new ExplainError(`ONNX_EXPLAIN_CACHE_MAX_MB '${given}' is not a number of megabytes`);
  return mb * 2 ** 20;
}

/** A temporary file another process left behind (it was killed between write and rename) after this long. */
const STALE_MS = 3600_000;

/** Entries a folder keeps at most by default, which also bounds the time a trim takes (one stat per file). */
const MAX_ENTRIES = 2000;

/**
 * Keeps the folder within `maxBytes` and `maxEntries`: entries (a graph's .onnx and .json, a
 * probe's .probe.json) are removed least recently used first (a read touches its entry), never
 * `keep`, the one just written; temporary files older than an hour are removed. Files vanishing
 * meanwhile (another process trimming too) are skipped.
 */
function trim(dir: string, { maxBytes, maxEntries }: Limits, keep: string): void {
  const entries = new Map<string, { files: string[]; bytes: number; used: number }>();
  const now = Date.now();
  for (const name of fs.readdirSync(dir)) {
    const file = path.join(dir, name);
    let st: fs.Stats;
    try {
      st = fs.statSync(file);
    } catch {
      continue;
    }
    const entry = /^([0-9a-f]{64})\.(onnx|json|probe\.json)$/.exec(name)?.[1];
    if (!entry) {
      if (/\.(tmp|optimized)-\d+(-[0-9a-f]+)?$/.test(name) && now - st.mtimeMs > STALE_MS) fs.rmSync(file, { force: true });
      continue;
    }
    const e = entries.get(entry) ?? { files: [], bytes: 0, used: 0 };
    e.files.push(file);
    e.bytes += st.size;
    e.used = Math.max(e.used, st.mtimeMs);
    entries.set(entry, e);
  }
  let total = [...entries.values()].reduce((a, e) => a + e.bytes, 0);
  let count = entries.size;
  for (const [name, e] of [...entries].sort((a, b) => a[1].used - b[1].used)) {
    if (total <= maxBytes && count <= maxEntries) break;
    if (name === keep) continue;
    for (const f of e.files) fs.rmSync(f, { force: true });
    total -= e.bytes;
    count--;
  }
}

/** A cache folder's limits: its total size in bytes and its number of entries. */
export interface Limits { maxBytes: number; maxEntries: number }

/** Marks an entry used now (the least recently used go first when the folder is trimmed). */
function touch(file: string): void {
  try {
    const now = new Date();
    fs.utimesSync(file, now, now);
  } catch {
    // A read-only folder: trimming then goes by the time entries were written.
  }
}

/**
 * What every entry depends on besides its key: onnxruntime's version and onnx-explain's code
 * (package version, and the size and time of each compiled file that builds graphs, so that a
 * changed rule during development never reads a stale graph).
 */
function codeVersion(): string {
  const dist = path.resolve(__dirname, '..', '..');
  const own = ownManifest().version;
  const stamps: string[] = [];
  // Names in code-unit order: the locale's collation (Turkish puts 'InstanceNormalization.js' before 'index.js') gave each locale its own key.
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const file = path.join(dir, e.name);
      if (e.isDirectory()) walk(file);
      else if (e.name.endsWith('.js')) {
        const st = fs.statSync(file);
        stamps.push(`${path.relative(dist, file)} ${st.size} ${st.mtimeMs}`);
      }
    }
  };
  for (const d of ['rewriter', 'rules', 'runtime']) walk(path.join(dist, d));
  // The binding counts too: graphs optimised by onnxruntime-node are not read by onnxruntime-web.
  const v = ortApi().env.versions;
  const binding = v?.node ? `node ${v.node}` : `web ${v?.web ?? v?.common ?? '?'}`;
  return `onnx-explain ${own}; onnxruntime ${binding}; ${sha256(stamps.join('\n'))}`;
}

/**
 * Augmented graphs stored in a folder: <hash>.onnx (onnxruntime's optimised graph where it wrote
 * one, else ours) and <hash>.json per key, <hash>.probe.json for a probe's findings, each written
 * through a temporary file and a rename (concurrent processes never see half a file). Models are identified
 * by the SHA-256 of their bytes (the .onnx file, then the tensors it keeps as external data). Unreadable
 * entries count as missing; a folder that cannot be written leaves the graph uncached. After each
 * write the folder is trimmed to `maxBytes` (default: defaultCacheLimit()) and `maxEntries` (2,000),
 * least recently used entries first: entries of other models, shapes or onnx-explain versions would
 * otherwise stay forever.
 */
export function folderCache(dir: string = defaultCacheDir(), given: Partial<Limits> = {}): GraphCache {
  checkKnown('folderCache', given, { maxBytes: true, maxEntries: true });
  const { maxBytes = defaultCacheLimit(), maxEntries = MAX_ENTRIES } = given;
  if (!(maxBytes >= 0) || !(maxEntries >= 0)) throw new ExplainError(`cache limits ${maxBytes} bytes and ${maxEntries} entries must be numbers ≥ 0`);
  const limits = { maxBytes, maxEntries };
  // onnxruntime's optimised graphs hold weights reordered for this CPU's vector width.
  const prefix = `${codeVersion()}; ${process.arch} ${os.cpus()[0]?.model ?? ''}`;
  const fileOf = (key: string) => path.join(dir, sha256(`${prefix}\n${key}`));
  return {
    async modelId(source, external = []) {
      const hash = crypto.createHash('sha256').update(typeof source === 'string' ? fs.readFileSync(source) : source);
      for (const bytes of external) hash.update(bytes);
      return hash.digest('hex');
    },
    async get(key) {
      const base = fileOf(key);
      try {
        // readRegularFile: an entry that is a FIFO (or another special file) is a miss, not a read that never returns.
        const info = JSON.parse(readRegularFile(`${base}.json`).toString('utf8')) as { key: string; info: GraphInfo };
        if (info.key !== key || !fs.statSync(`${base}.onnx`).isFile()) return undefined;
        touch(`${base}.json`);
        return { model: `${base}.onnx`, info: info.info };
      } catch {
        return undefined;
      }
    },
    async put(key, graph: CachedGraph) {
      const base = fileOf(key);
      try {
        makeFolder(dir);
        // A path is onnxruntime's optimised graph (optimizedPath), which becomes the entry: the entry's
        // info describes that graph, so none is stored where the file is gone.
        if (typeof graph.model !== 'string') writeFileAtomic(`${base}.onnx`, graph.model);
        else if (fs.existsSync(graph.model)) fs.renameSync(graph.model, `${base}.onnx`);
        else return;
        writeFileAtomic(`${base}.json`, Buffer.from(JSON.stringify({ key, info: graph.info })));
        trim(dir, limits, path.basename(base));
      } catch {
        // An unwritable cache folder only costs the next run the rebuild.
      }
    },
    async getProbe(key) {
      try {
        const entry = JSON.parse(readRegularFile(`${fileOf(key)}.probe.json`).toString('utf8')) as { key: string; probe: string };
        if (entry.key !== key) return undefined;
        touch(`${fileOf(key)}.probe.json`);
        return entry.probe;
      } catch {
        return undefined;
      }
    },
    async putProbe(key, probe) {
      try {
        makeFolder(dir);
        writeFileAtomic(`${fileOf(key)}.probe.json`, Buffer.from(JSON.stringify({ key, probe })));
        trim(dir, limits, path.basename(fileOf(key)));
      } catch {
        // As for graphs: the next run probes again.
      }
    },
    discardOptimized(file) {
      try {
        fs.rmSync(file, { force: true });
      } catch {
        // Nothing was written there.
      }
    },
    optimizedPath(key) {
      try {
        makeFolder(dir);
        // A file in the cache folder's place takes no graph: run without caching it.
        if (!fs.statSync(dir).isDirectory()) return undefined;
        fs.accessSync(dir, fs.constants.W_OK);
        return `${fileOf(key)}.optimized-${uniqueSuffix()}`;
      } catch {
        return undefined;
      }
    },
  };
}
