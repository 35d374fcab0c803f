/**
 * ZooKeeper for test/cluster: the throwaway server of bench/servers/zookeeper.ts (one JVM per call,
 * its own temp data dir, an ephemeral port on 127.0.0.1, a named and bounded readiness wait,
 * stop by PID), and a way to expire a live session from outside.
 *
 * Needs Debian's `zookeeper` package (scripts/ensure-packages.sh) and a `java` on PATH.
 */
export { fourLetterWord, startZooKeeper, zookeeperAvailable, type ZooKeeperServer } from '../../bench/servers/zookeeper';
export { freePort } from '../../bench/servers/managed';

interface RawZkClient {
  connect(): void;
  close(): void;
  once(event: 'connected' | 'disconnected' | 'expired', listener: () => void): void;
  connectionManager: { state: number; socket?: { destroy(): void }; on(event: 'state', listener: (state: number) => void): void };
}

/** node-zookeeper-client's ConnectionManager states. */
const CM_CONNECTED = 2;
const CM_CLOSING = -1;
const CM_CLOSED = -2;

const EXPIRE_ATTEMPTS_MAX = 10;

/**
 * Expires a live session from outside, the way Curator's KillSession did: a second client joins
 * the session with its id and password, then closes it, and the server ends the session (deleting
 * its ephemerals). Joining drops the owner's connection and the owner reconnects at once, so it
 * can take the session back before the close lands: we repeat until joining is refused as
 * expired, which proves the session is gone. Takes a few ms.
 */
export async function expireZkSession(connectString: string, session: { id: Buffer; password: Buffer }, timeoutMs = 5_000): Promise<void> {
  const zookeeper = require('node-zookeeper-client') as {
    createClient(cs: string, options: { sessionTimeout: number; sessionId: Buffer; sessionPassword: Buffer; spinDelay: number }): RawZkClient;
  };
  for (let attempt = 0; attempt < EXPIRE_ATTEMPTS_MAX; attempt++) {
    const intruder = zookeeper.createClient(connectString, { sessionTimeout: 10_000, sessionId: session.id, sessionPassword: session.password, spinDelay: 50 });
    const outcome = firstEvent(intruder, ['connected', 'expired'], timeoutMs);
    intruder.connect();
    let joined: string;
    try {
      joined = await outcome;
    } catch (err) {
      intruder.close();
      throw new Error(`session expiry: could not join the session (${err instanceof Error ? err.message : String(err)})`);
    }
    // Expired: the library has closed the client itself.
    if (joined === 'expired') return;
    await closeRaw(intruder, timeoutMs);
  }
  throw new Error(`session expiry: the owner kept taking the session back (${EXPIRE_ATTEMPTS_MAX} attempts)`);
}

/** A close left to itself this long is forced (see closeRaw). */
const CLOSE_GRACE_MS = 1_000;
const CLOSE_POLL_MS = 50;

/**
 * Closes a client (sending CLOSE_SESSION if still connected) and waits until it has stopped.
 * The owner may take the session back meanwhile, and the library then reconnects the intruder,
 * which overwrites its CLOSING state; on a loaded machine that tug of war outlasted 5 s. So after
 * a grace period the close is forced: close() again and drop the socket (a socket closed while
 * CLOSING ends the client). A forced close may not have ended the session: the caller joins again
 * and only an expired join proves it.
 */
async function closeRaw(client: RawZkClient, timeoutMs: number): Promise<void> {
  const cm = client.connectionManager;
  if (cm.state === CM_CLOSED) return;
  const started = performance.now();
  const wasConnected = cm.state === CM_CONNECTED;
  client.close();
  if (!wasConnected) cm.socket?.destroy();
  while (cm.state !== CM_CLOSED) {
    const waited = performance.now() - started;
    if (waited > timeoutMs) throw new Error(`session expiry: the joining client did not close within ${timeoutMs} ms (state ${cm.state})`);
    if (waited > CLOSE_GRACE_MS) {
      if (cm.state !== CM_CLOSING) client.close();
      cm.socket?.destroy();
    }
    await new Promise((r) => setTimeout(r, CLOSE_POLL_MS));
  }
}

function firstEvent<E extends 'connected' | 'disconnected' | 'expired'>(client: RawZkClient, events: E[], timeoutMs: number): Promise<E> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    new Promise<E>((resolve) => {
      for (const event of events) client.once(event, () => resolve(event));
    }),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no ${events.join('/')} within ${timeoutMs} ms`)), timeoutMs);
    }),
  ]).finally(() => clearTimeout(timer));
}
