import { ExplainError } from '../rewriter/errors';
import type { OrtFeeds, OrtResults, OrtSession } from './backend';

/**
 * A session of the pool: runs like an onnxruntime session; when the pool has released the session
 * behind it (to stay within its limit), the next run creates it again.
 */
export interface PooledSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: OrtFeeds, fetches?: string[]): Promise<OrtResults>;
  /** Releases the session now, or when its runs in flight end; a later run creates it again. */
  release(): Promise<void>;
}

interface Entry extends PooledSession {
  create: () => Promise<OrtSession>;
  session?: Promise<OrtSession>;
  busy: number;
  /** releaseAll() came while a run was in flight: the session goes when its runs end. */
  releaseWhenIdle?: boolean;
}

/**
 * The onnxruntime sessions of one Explainer. Each session holds its own copy of the weights inside
 * onnxruntime (the WASM heap in a page), so `limit` bounds how many are alive at once: opening or
 * re-creating one past the limit first releases the least recently used idle ones (a session
 * whose run is in flight is never released; the limit is then exceeded until runs end).
 */
export class SessionPool {
  /** Alive entries, least recently used first. */
  private readonly alive: Entry[] = [];

  /** `runError` turns a failed creation's or run's error into the one the caller sees. */
  constructor(private readonly limit = Infinity, private readonly runError: (e: unknown) => unknown = (e) => e) {
    if (!(limit >= 1) || (limit !== Infinity && !Number.isInteger(limit))) throw new ExplainError(`maxSessions: ${limit} is not a positive integer`);
  }

  /** Creates a session now (its errors, through `runError`, are the caller's); it is re-created by `create` when needed again. */
  async open(create: () => Promise<OrtSession>): Promise<PooledSession> {
    const entry: Entry = {
      create, busy: 1, inputNames: [], outputNames: [],
      release: async () => {
        if (entry.busy > 0) entry.releaseWhenIdle = true;
        else await this.evict(entry);
      },
      run: async (feeds, fetches) => {
        entry.busy++;
        try {
          const session = await this.acquire(entry);
          return await (fetches ? session.run(feeds, fetches) : session.run(feeds));
        } catch (e) {
          throw this.runError(e);
        } finally {
          this.idle(entry);
        }
      },
    };
    try {
      const session = await this.acquire(entry).catch((e) => { throw this.runError(e); });
      Object.assign(entry, { inputNames: [...session.inputNames], outputNames: [...session.outputNames] });
      return entry;
    } finally {
      this.idle(entry, false);
    }
  }

  /** Releases every session (entries stay usable); one whose run is in flight goes when its runs end. */
  async releaseAll(): Promise<void> {
    for (const e of this.alive) e.releaseWhenIdle = e.busy > 0;
    await Promise.all(this.alive.filter((e) => e.busy === 0).map((e) => this.evict(e)));
  }

  /**
   * A run (or the opening) of `entry` ended: it goes if releaseAll came meanwhile; after a run,
   * sessions past the limit (reached while runs were in flight) go, least recently used first. An
   * opening is followed by its first run, so it keeps its session until then.
   */
  private idle(entry: Entry, ran = true): void {
    if (--entry.busy > 0) return;
    if (entry.releaseWhenIdle) {
      entry.releaseWhenIdle = false;
      void this.evict(entry);
    }
    if (ran) void this.makeRoom();
  }

  private acquire(entry: Entry): Promise<OrtSession> {
    const at = this.alive.indexOf(entry);
    if (at >= 0) {
      this.alive.splice(at, 1);
      this.alive.push(entry);
      return entry.session!;
    }
    this.alive.push(entry);
    const session = this.makeRoom().then(() => entry.create());
    entry.session = session;
    session.catch(() => this.forget(entry, session));
    return session;
  }

  private async makeRoom(): Promise<void> {
    const excess = this.alive.length - this.limit;
    await Promise.all(this.alive.filter((e) => e.busy === 0).slice(0, Math.max(0, excess)).map((e) => this.evict(e)));
  }

  private async evict(entry: Entry): Promise<void> {
    const session = entry.session;
    if (!session) return;
    this.forget(entry, session);
    await (await session.catch(() => undefined))?.release();
  }

  private forget(entry: Entry, session: Promise<OrtSession>): void {
    if (entry.session !== session) return;
    entry.session = undefined;
    this.alive.splice(this.alive.indexOf(entry), 1);
  }
}
