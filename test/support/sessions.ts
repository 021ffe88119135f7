import { backend } from '../../runtime/backend';

export interface Created { bytes: Uint8Array; externalData: { path: string; data: Uint8Array }[] }

/**
 * The onnxruntime sessions created while `run` runs (graph bytes and external data), counted by
 * wrapping InferenceSession.create; `alive` follows those `counted` (by default those given
 * weights as external data), `most` is its peak.
 */
export async function sessionsOf(run: () => Promise<unknown>, alive = { now: 0, most: 0 }, counted = (c: Created) => c.externalData.length > 0): Promise<Created[]> {
  const Session = backend().ort.InferenceSession;
  const create = Session.create;
  const created: Created[] = [];
  Session.create = (async (bytes: Uint8Array, options?: { externalData?: Created['externalData'] }) => {
    const c = { bytes, externalData: options?.externalData ?? [] };
    created.push(c);
    const session = await create.call(Session, bytes, options);
    if (!counted(c)) return session;
    alive.most = Math.max(alive.most, ++alive.now);
    const release = session.release.bind(session);
    session.release = async () => {
      alive.now--;
      await release();
    };
    return session;
  }) as typeof create;
  try {
    await run();
  } finally {
    Session.create = create;
  }
  return created;
}
