import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ortApi } from '../backend';
import { CachedGraph, GraphCache, GraphInfo } from '../graph-cache';

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
  return path.join(process.env.XDG_CACHE_HOME || path.join(home, '.cache'), 'onnx-explain');
}

const sha256 = (data: string | Uint8Array) => crypto.createHash('sha256').update(data).digest('hex');

/**
 * What every entry depends on besides its key: onnxruntime's version and onnx-explain's code
 * (package version, and the size and time of each compiled file that builds graphs, so that a
 * changed rule during development never reads a stale graph).
 */
function codeVersion(): string {
  const dist = path.resolve(__dirname, '..', '..');
  const own = JSON.parse(fs.readFileSync(path.join(dist, '..', 'package.json'), 'utf8')).version as string;
  const stamps: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
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
 * by the SHA-256 of their bytes (the .onnx file; external data files are not hashed). Unreadable
 * entries count as missing; a folder that cannot be written leaves the graph uncached.
 */
export function folderCache(dir: string = defaultCacheDir()): GraphCache {
  const write = (file: string, data: string | Uint8Array) => {
    const tmp = `${file}.tmp-${process.pid}`;
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, file);
  };
  // onnxruntime's optimised graphs hold weights reordered for this CPU's vector width.
  const prefix = `${codeVersion()}; ${process.arch} ${os.cpus()[0]?.model ?? ''}`;
  const fileOf = (key: string) => path.join(dir, sha256(`${prefix}\n${key}`));
  const optimizedTmp = (key: string) => `${fileOf(key)}.optimized-${process.pid}`;
  return {
    async modelId(source) {
      return sha256(typeof source === 'string' ? fs.readFileSync(source) : source);
    },
    async get(key) {
      const base = fileOf(key);
      try {
        const info = JSON.parse(fs.readFileSync(`${base}.json`, 'utf8')) as { key: string; info: GraphInfo };
        if (info.key !== key) return undefined;
        return { model: fs.readFileSync(`${base}.onnx`), info: info.info };
      } catch {
        return undefined;
      }
    },
    async put(key, graph: CachedGraph) {
      const base = fileOf(key);
      try {
        fs.mkdirSync(dir, { recursive: true });
        const optimized = optimizedTmp(key);
        if (fs.existsSync(optimized)) fs.renameSync(optimized, `${base}.onnx`);
        else write(`${base}.onnx`, graph.model);
        write(`${base}.json`, JSON.stringify({ key, info: graph.info }));
      } catch {
        // An unwritable cache folder only costs the next run the rebuild.
      }
    },
    async getProbe(key) {
      try {
        const entry = JSON.parse(fs.readFileSync(`${fileOf(key)}.probe.json`, 'utf8')) as { key: string; probe: string };
        return entry.key === key ? entry.probe : undefined;
      } catch {
        return undefined;
      }
    },
    async putProbe(key, probe) {
      try {
        fs.mkdirSync(dir, { recursive: true });
        write(`${fileOf(key)}.probe.json`, JSON.stringify({ key, probe }));
      } catch {
        // As for graphs: the next run probes again.
      }
    },
    optimizedPath(key) {
      try {
        fs.mkdirSync(dir, { recursive: true });
        fs.accessSync(dir, fs.constants.W_OK);
        return optimizedTmp(key);
      } catch {
        return undefined;
      }
    },
  };
}
