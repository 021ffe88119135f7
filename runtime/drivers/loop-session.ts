import { ModelProto } from '../../rewriter/proto';
import { OrtSession, OrtTensor } from '../backend';
import { runError } from '../run-errors';
import { createSession, Provider, threadsFor } from '../session';
import { sessionModel } from '../session-model';

/** Whose loop a session runs: the provider, where warnings go, and the model's label for errors. */
export interface LoopOwner { provider: Provider; label: string; warnOnce(m: string): void }

/**
 * A tensor's values on the host. A tensor on the WebGPU device is downloaded and its GPU buffer
 * released (it cannot be fed again); on the host the result may share the tensor's memory: copy it
 * before the next run of the session when it must be kept.
 */
export async function hostData(t: OrtTensor): Promise<Float32Array> {
  return (await t.getData(t.location === 'gpu-buffer')) as Float32Array;
}

/** Releases the GPU buffer of a tensor kept on the device (loop state that was replaced); host tensors stay. */
export function release(t: OrtTensor): void {
  if (t.location === 'gpu-buffer') t.dispose();
}

/**
 * One session for one objective graph, run many times by an optimisation loop. Inputs are fed as
 * pre-allocated tensors (the loop rewrites their data in place or feeds outputs back); on the
 * WebGPU EP the outputs stay on the device (`preferredOutputLocation: 'gpu-buffer'`), so state
 * fed back (Adam's moments, the iterate) is never downloaded.
 */
export class LoopSession {
  private constructor(private readonly session: OrtSession, private readonly label: string) {}

  static async create(model: ModelProto, owner: LoopOwner): Promise<LoopSession> {
    const session = await createSession(sessionModel(model), owner.provider, (m) => owner.warnOnce(m), { threads: threadsFor(model), outputsOnDevice: true });
    return new LoopSession(session, owner.label);
  }

  async run(feeds: Record<string, OrtTensor>, fetch: string[]): Promise<Record<string, OrtTensor>> {
    try {
      return (await this.session.run(feeds, fetch)) as Record<string, OrtTensor>;
    } catch (e) {
      throw runError(e, this.label);
    }
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

/** A cached loop session, the loops running it, and whether its owner asked for its release. */
interface Held { session: Promise<LoopSession>; users: number; released: boolean }

const cache = new WeakMap<object, Map<string, Held>>();

const releaseSession = async (held: Held): Promise<void> => (await held.session.catch(() => undefined))?.release();

/**
 * Runs `use` on the loop session of one graph, built once per owner (an Explainer) and key; a
 * release asked meanwhile (releaseLoopSessions) waits until no loop runs the session.
 */
export async function withLoopSession<T>(owner: LoopOwner, key: string, build: () => ModelProto, use: (session: LoopSession) => Promise<T>): Promise<T> {
  let byKey = cache.get(owner);
  if (!byKey) cache.set(owner, (byKey = new Map()));
  let held = byKey.get(key);
  if (!held) {
    held = { session: LoopSession.create(build(), owner), users: 0, released: false };
    byKey.set(key, held);
    held.session.catch(() => byKey!.delete(key));
  }
  held.users++;
  try {
    return await use(await held.session);
  } finally {
    if (--held.users === 0 && held.released) await releaseSession(held);
  }
}

/** Forgets the loop sessions of one owner and releases them: now where no loop runs them, else when the last one ends. */
export async function releaseLoopSessions(owner: object): Promise<void> {
  const byKey = cache.get(owner);
  cache.delete(owner);
  await Promise.all([...(byKey?.values() ?? [])].map((held) => {
    held.released = true;
    return held.users ? undefined : releaseSession(held);
  }));
}
