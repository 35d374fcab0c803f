/**
 * StateStore on ZooKeeper (node-zookeeper-client 1.1.3), with the semantics listed in store.ts.
 *
 * What the library does and does not do, and so what this class adds:
 * - It reconnects a live session by itself (jittered by `spinDelayMs`) and re-sends its watches;
 *   we report 'disconnected' / 'reconnected'. Requests it holds while disconnected would be sent
 *   later, so we never hand it one then: calls fail fast with ERR_STATE_STORE instead.
 * - An EXPIRED session never recovers. We open a new client (capped exponential backoff with
 *   jitter between attempts), re-create the ephemerals this store owns, and report 'expired'
 *   then 'reconnected'. Calls fail fast until that is done, so nobody sees a half-restored state.
 * - It sends pings but never checks that anything comes back, so a hung server, or a connection
 *   the server has stopped serving (seen here: a session closed from another connection left its
 *   owner's socket open and silent), goes unnoticed forever. A watchdog does what the Java
 *   client's read timeout does: no bytes for 2/3 of the session timeout → drop the socket; the
 *   library reconnects and learns whether the session survived. Each request is also bounded by
 *   `operationTimeoutMs`.
 * - It clears its connect timer once TCP connects and never bounds the handshake that follows: a
 *   server that accepts but does not answer (seen here on reconnects while a restarted server was
 *   starting) leaves it connecting for good. The watchdog drops such a socket after
 *   `handshakeTimeoutMs` so the library tries again.
 * - Its `close()` can be left waiting on a reconnect timer: ours is bounded by `closeTimeoutMs`.
 */
import { describeError, errorCode, problemsError, squallError } from '../errors';
import { SystemClock, type Clock, type TimerHandle } from '../clock';
import { silentLogger, type Logger } from '../logging';
import { Random } from '../random';
import {
  ancestors,
  childPath,
  ConnectionListeners,
  onceWatcher,
  validateData,
  validatePath,
  type ConnectionListener,
  type ConnectionState,
  type CreateOptions,
  type DeleteOptions,
  type NodeData,
  type StateStore,
  type Watcher,
  type WatchEventType,
} from './store';
import {
  CM_CLOSED,
  CM_CONNECTED,
  CM_CONNECTING,
  EVENT_TYPES,
  MODE,
  STATE_AUTH_FAILED,
  STATE_DISCONNECTED,
  STATE_EXPIRED,
  STATE_SYNC_CONNECTED,
  dropSocket,
  mapZkError,
  toBuffer,
  zookeeper,
  type ZkCallback,
  type ZkClient,
  type ZkStat,
  type ZkWatcher,
} from './zk-client';

/** Bound on re-tries when a concurrent writer keeps changing a node under a compound call. */
const RACE_ATTEMPTS_MAX = 5;

export interface ZkStateStoreOptions {
  /** `host:port[,host:port...]`, no chroot (the root prefix is `paths.ts`'s job). */
  connectString: string;
  /** Requested session timeout; the server clamps it into [2, 20] × its tickTime. Storm: 20 s. */
  sessionTimeoutMs?: number;
  /** Bound on opening a session (first connect and after expiry). Storm: 15 s. */
  connectTimeoutMs?: number;
  /** Bound on each request to the server (a hung server is otherwise never noticed). */
  operationTimeoutMs?: number;
  /** Bound on one connection's handshake; default a third of the session timeout. */
  handshakeTimeoutMs?: number;
  /** Bound on `close()` waiting for the server to end the session. */
  closeTimeoutMs?: number;
  /** The library's random delay (0..spinDelayMs) between reconnect attempts of a live session. */
  spinDelayMs?: number;
  /** Backoff between attempts to open a new session after expiry: doubles up to the max, jittered. */
  reconnectBackoffInitialMs?: number;
  reconnectBackoffMaxMs?: number;
  logger?: Logger;
  clock?: Clock;
  random?: Random;
}

const DEFAULTS = {
  sessionTimeoutMs: 20_000,
  connectTimeoutMs: 15_000,
  operationTimeoutMs: 10_000,
  closeTimeoutMs: 2_000,
  spinDelayMs: 1_000,
  reconnectBackoffInitialMs: 100,
  reconnectBackoffMaxMs: 5_000,
};
type Timing = typeof DEFAULTS & { handshakeTimeoutMs: number };

/** One client = one ZooKeeper session. */
class ZkSession {
  connected = false;
  everConnected = false;
  expired = false;
  closed = false;
  readonly firstConnect: Promise<void>;
  resolveFirstConnect: () => void = () => undefined;
  stopWatchdog: () => void = () => undefined;

  constructor(readonly client: ZkClient) {
    this.firstConnect = new Promise((resolve) => {
      this.resolveFirstConnect = resolve;
    });
  }

  idHex(): string {
    return this.client.getSessionId().toString('hex');
  }
}

interface PendingRequest {
  reject: (err: Error) => void;
  timer: TimerHandle;
}

export class ZkStateStore implements StateStore {
  private readonly connectString: string;
  private readonly timing: Timing;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly random: Random;
  private readonly listeners: ConnectionListeners;
  /** The session calls go to (null only before the first connect). */
  private current: ZkSession | null = null;
  /** Every session not yet closed (the current one and any being opened). */
  private readonly sessions = new Set<ZkSession>();
  /** Ephemeral nodes this store created and has not deleted, with the latest data it wrote. */
  private readonly ephemerals = new Map<string, Uint8Array>();
  private readonly pending = new Set<PendingRequest>();
  /** Sleeps and connect waits in progress: close() wakes them. */
  private readonly waits = new Map<TimerHandle, () => void>();
  private renewing: Promise<void> | null = null;
  private closing = false;
  private closed: Promise<void> | null = null;

  /** Opens a session; rejects with ERR_STATE_STORE when none is made within `connectTimeoutMs`. */
  static async connect(options: ZkStateStoreOptions): Promise<ZkStateStore> {
    const store = new ZkStateStore(options);
    try {
      store.current = await store.openSession();
    } catch (err) {
      await store.close();
      throw err;
    }
    return store;
  }

  private constructor(options: ZkStateStoreOptions) {
    this.timing = validateOptions(options);
    this.connectString = options.connectString;
    this.clock = options.clock ?? new SystemClock();
    this.random = options.random ?? new Random();
    this.logger = (options.logger ?? silentLogger()).child({ stateStore: 'zookeeper', connectString: options.connectString });
    this.listeners = new ConnectionListeners(this.logger);
  }

  /** The current session, for diagnostics and for tests that expire it from outside. */
  sessionInfo(): { id: Buffer; password: Buffer; timeoutMs: number } | null {
    const session = this.current;
    if (!session || !session.connected) return null;
    return { id: session.client.getSessionId(), password: session.client.getSessionPassword(), timeoutMs: session.client.getSessionTimeout() };
  }

  async create(path: string, data: Uint8Array, options: CreateOptions = {}): Promise<string> {
    const session = this.live(path, data);
    const mode = options.ephemeral
      ? options.sequential ? MODE.ephemeralSequential : MODE.ephemeral
      : options.sequential ? MODE.persistentSequential : MODE.persistent;
    const actual = await this.createWithParents(session, path, data, mode);
    if (options.ephemeral) this.ephemerals.set(actual, copy(data));
    return actual;
  }

  async put(path: string, data: Uint8Array): Promise<void> {
    const session = this.live(path, data);
    for (let attempt = 0; attempt < RACE_ATTEMPTS_MAX; attempt++) {
      try {
        await this.setData(session, path, data, -1);
        return;
      } catch (err) {
        if (errorCode(err) !== 'ERR_STATE_NO_NODE') throw err;
      }
      try {
        await this.createWithParents(session, path, data, MODE.persistent);
        return;
      } catch (err) {
        if (errorCode(err) !== 'ERR_STATE_NODE_EXISTS') throw err;
      }
    }
    throw squallError('ERR_STATE_CONFLICT', `put ${path}: the node kept appearing and vanishing`);
  }

  async putEphemeral(path: string, data: Uint8Array): Promise<void> {
    const session = this.live(path, data);
    if (this.ephemerals.has(path)) {
      try {
        await this.setData(session, path, data, -1);
        return;
      } catch (err) {
        if (errorCode(err) !== 'ERR_STATE_NO_NODE') throw err;
      }
    }
    for (let attempt = 0; attempt < RACE_ATTEMPTS_MAX; attempt++) {
      try {
        await this.createWithParents(session, path, data, MODE.ephemeral);
        this.ephemerals.set(path, copy(data));
        return;
      } catch (err) {
        if (errorCode(err) !== 'ERR_STATE_NODE_EXISTS') throw err;
      }
      // Someone else's (often our previous incarnation's, not yet expired): take it over.
      await this.removeNode(session, path, -1);
    }
    throw squallError('ERR_STATE_CONFLICT', `putEphemeral ${path}: another session keeps re-creating the node`);
  }

  async set(path: string, data: Uint8Array, expectedVersion?: number): Promise<number> {
    const session = this.live(path, data);
    return this.setData(session, path, data, expectedVersion ?? -1);
  }

  async get(path: string, watch?: Watcher): Promise<NodeData | null> {
    const session = this.live(path);
    const watcher = watch && this.zkWatcher(session, watch);
    for (let attempt = 0; attempt < RACE_ATTEMPTS_MAX; attempt++) {
      try {
        const { value, stat } = await this.request<Buffer | undefined>(session, `get ${path}`, (c, cb) => c.getData(path, watcher, cb));
        return { data: value ? new Uint8Array(value) : new Uint8Array(0), version: (stat as ZkStat).version };
      } catch (err) {
        if (errorCode(err) !== 'ERR_STATE_NO_NODE') throw err;
      }
      // Missing: arm the watch on existence; if it appeared meanwhile, read it again.
      if (!watcher || !(await this.statOf(session, path, watcher))) return null;
    }
    return null;
  }

  async children(path: string, watch?: Watcher): Promise<string[]> {
    const session = this.live(path);
    const watcher = watch && this.zkWatcher(session, watch);
    for (let attempt = 0; attempt < RACE_ATTEMPTS_MAX; attempt++) {
      try {
        const { value } = await this.request<string[]>(session, `children ${path}`, (c, cb) => c.getChildren(path, watcher, cb));
        return [...(value ?? [])].sort();
      } catch (err) {
        if (errorCode(err) !== 'ERR_STATE_NO_NODE') throw err;
      }
      if (!watcher || !(await this.statOf(session, path, watcher))) return [];
    }
    return [];
  }

  async exists(path: string, watch?: Watcher): Promise<boolean> {
    const session = this.live(path);
    return (await this.statOf(session, path, watch && this.zkWatcher(session, watch))) !== null;
  }

  async delete(path: string, options: DeleteOptions = {}): Promise<void> {
    const session = this.live(path);
    if (path === '/') throw squallError('ERR_STATE_STORE', 'cannot delete /');
    const version = options.version ?? -1;
    if (options.recursive) await this.deleteRecursive(session, path, version);
    else await this.removeNode(session, path, version);
    for (const owned of [...this.ephemerals.keys()]) {
      if (owned === path || owned.startsWith(`${path}/`)) this.ephemerals.delete(owned);
    }
  }

  onConnectionChange(listener: ConnectionListener): () => void {
    return this.listeners.add(listener);
  }

  /** Ends the session (the server deletes its ephemerals at once). Idempotent. */
  close(): Promise<void> {
    if (!this.closed) this.closed = this.shutdown();
    return this.closed;
  }

  private async shutdown(): Promise<void> {
    this.closing = true;
    this.listeners.clear();
    for (const [timer, wake] of this.waits) {
      this.clock.clear(timer);
      wake();
    }
    this.waits.clear();
    for (const request of [...this.pending]) {
      this.clock.clear(request.timer);
      request.reject(squallError('ERR_CLOSED', 'state store closed'));
    }
    this.pending.clear();
    for (const session of [...this.sessions]) {
      try {
        await this.closeSession(session);
      } catch (err) {
        this.logger.warn({ err }, 'closing a ZooKeeper session failed');
      }
    }
    if (this.renewing) await this.renewing;
  }

  // ---- sessions ----

  private async openSession(): Promise<ZkSession> {
    if (this.closing) throw squallError('ERR_CLOSED', 'state store closed');
    const client = zookeeper.createClient(this.connectString, {
      sessionTimeout: this.timing.sessionTimeoutMs,
      spinDelay: this.timing.spinDelayMs,
      retries: 0,
    });
    const session = new ZkSession(client);
    this.sessions.add(session);
    client.on('state', (state) => this.onState(session, state.code));
    this.watchConnection(session);
    client.connect();
    const connected = await this.within(session.firstConnect, this.timing.connectTimeoutMs);
    if (connected && !this.closing) {
      this.logger.info({ sessionId: session.idHex(), sessionTimeoutMs: client.getSessionTimeout() }, 'ZooKeeper session opened');
      return session;
    }
    await this.closeSession(session);
    if (this.closing) throw squallError('ERR_CLOSED', 'state store closed');
    throw squallError('ERR_STATE_STORE', `no ZooKeeper session with ${this.connectString} within ${this.timing.connectTimeoutMs} ms`);
  }

  private onState(session: ZkSession, code: number): void {
    if (session.closed) return;
    const isCurrent = session === this.current && !this.closing;
    this.logger.debug({ state: code, current: isCurrent, connected: session.connected }, 'ZooKeeper client state');
    if (code === STATE_SYNC_CONNECTED) {
      session.connected = true;
      if (!session.everConnected) {
        session.everConnected = true;
        session.resolveFirstConnect();
      } else if (isCurrent) {
        this.logger.info('ZooKeeper connection restored');
        this.listeners.emit('reconnected');
      }
    } else if (code === STATE_DISCONNECTED) {
      const was = session.connected;
      session.connected = false;
      if (isCurrent && was && !session.expired) {
        this.logger.warn('ZooKeeper connection lost; the client is reconnecting');
        this.listeners.emit('disconnected');
      }
    } else if (code === STATE_EXPIRED) {
      session.connected = false;
      session.expired = true;
      if (isCurrent) {
        this.logger.warn({ sessionId: session.idHex() }, 'ZooKeeper session expired; opening a new one');
        this.listeners.emit('expired');
        this.renewing = this.renew(session).finally(() => {
          this.renewing = null;
        });
      }
    } else if (code === STATE_AUTH_FAILED) {
      this.logger.error('ZooKeeper authentication failed');
    }
  }

  /** After expiry: new sessions until one is open with our ephemerals back, then 'reconnected'. */
  private async renew(expired: ZkSession): Promise<void> {
    expired.closed = true;
    expired.stopWatchdog();
    this.sessions.delete(expired);
    for (let attempt = 0; !this.closing; attempt++) {
      if (attempt > 0) await this.sleep(this.backoffMs(attempt));
      if (this.closing) return;
      let candidate: ZkSession;
      try {
        candidate = await this.openSession();
      } catch (err) {
        if (!this.closing) this.logger.warn({ err, attempt }, 'could not open a new ZooKeeper session');
        continue;
      }
      try {
        await this.restoreEphemerals(candidate);
      } catch (err) {
        if (!this.closing) this.logger.warn({ err, attempt }, 'could not re-create ephemeral nodes in the new session');
        await this.closeSession(candidate);
        continue;
      }
      if (this.closing) return;
      this.current = candidate;
      this.logger.info({ sessionId: candidate.idHex(), ephemerals: this.ephemerals.size }, 'ZooKeeper session renewed');
      this.listeners.emit('reconnected');
      return;
    }
  }

  private async restoreEphemerals(session: ZkSession): Promise<void> {
    for (const [path, data] of [...this.ephemerals]) {
      try {
        await this.createWithParents(session, path, data, MODE.ephemeral);
      } catch (err) {
        if (errorCode(err) !== 'ERR_STATE_NODE_EXISTS') throw err;
        this.logger.warn({ path }, 'another session owns an ephemeral node this store had; dropping it');
        this.ephemerals.delete(path);
      }
    }
  }

  private async closeSession(session: ZkSession): Promise<void> {
    if (session.closed) return;
    session.closed = true;
    session.connected = false;
    session.stopWatchdog();
    this.sessions.delete(session);
    const cm = session.client.connectionManager;
    if (cm.state === CM_CLOSED) return;
    const wasConnected = cm.state === CM_CONNECTED;
    const closedNow = new Promise<void>((resolve) => {
      cm.on('state', (state) => {
        if (state === CM_CLOSED) resolve();
      });
    });
    try {
      session.client.close();
    } catch (err) {
      this.logger.warn({ err }, 'ZooKeeper client close threw; dropping its socket');
    }
    // Not connected: no server will answer the close; drop the socket (the library then stops).
    if (!wasConnected) dropSocket(cm);
    if (!(await this.within(closedNow, this.timing.closeTimeoutMs, true))) {
      this.logger.warn({ closeTimeoutMs: this.timing.closeTimeoutMs }, 'ZooKeeper session did not close in time; dropping its socket');
      dropSocket(cm);
    }
  }

  /**
   * Watches the library's socket. While connecting: a socket seen at two handshake checks in a
   * row has had a full handshakeTimeoutMs without an answer. While connected: no bytes for 2/3 of
   * the session timeout (pings go out every 1/3) means nobody is serving it. Either way, drop the
   * socket; the library then reconnects (jittered by spinDelayMs).
   */
  private watchConnection(session: ZkSession): void {
    const cm = session.client.connectionManager;
    let timer: TimerHandle | null = null;
    let seen: unknown = null;
    let lastDataMs = 0;
    const stop = (): void => {
      if (timer) this.clock.clear(timer);
      timer = null;
      seen = null;
    };
    const checkHandshake = (): void => {
      timer = null;
      if (session.closed || cm.state !== CM_CONNECTING) return;
      if (cm.socket && cm.socket === seen) {
        this.logger.debug({ handshakeTimeoutMs: this.timing.handshakeTimeoutMs }, 'ZooKeeper handshake got no answer; dropping the connection');
        dropSocket(cm);
      }
      seen = cm.socket;
      timer = this.clock.setTimeout(checkHandshake, this.timing.handshakeTimeoutMs);
    };
    const checkLiveness = (readTimeoutMs: number): void => {
      timer = null;
      if (session.closed || cm.state !== CM_CONNECTED) return;
      const silentMs = this.clock.now() - lastDataMs;
      if (silentMs >= readTimeoutMs) {
        this.logger.warn({ silentMs, readTimeoutMs }, 'no data from ZooKeeper; dropping the connection');
        dropSocket(cm);
        return;
      }
      timer = this.clock.setTimeout(() => checkLiveness(readTimeoutMs), readTimeoutMs - silentMs);
    };
    cm.on('state', (state) => {
      stop();
      if (session.closed) return;
      if (state === CM_CONNECTING) {
        seen = cm.socket;
        timer = this.clock.setTimeout(checkHandshake, this.timing.handshakeTimeoutMs);
      } else if (state === CM_CONNECTED && cm.socket) {
        const readTimeoutMs = Math.max(1, Math.floor((session.client.getSessionTimeout() * 2) / 3));
        lastDataMs = this.clock.now();
        cm.socket.on('data', () => {
          lastDataMs = this.clock.now();
        });
        timer = this.clock.setTimeout(() => checkLiveness(readTimeoutMs), readTimeoutMs);
      }
    });
    session.stopWatchdog = stop;
  }

  private backoffMs(attempt: number): number {
    const capped = Math.min(this.timing.reconnectBackoffMaxMs, this.timing.reconnectBackoffInitialMs * 2 ** Math.min(attempt - 1, 30));
    return capped / 2 + this.random.nextFloat() * (capped / 2);
  }

  // ---- requests ----

  /** The current session if calls may go out now; ERR_CLOSED / ERR_STATE_STORE otherwise. */
  private live(path: string, data?: Uint8Array): ZkSession {
    if (this.closing) throw squallError('ERR_CLOSED', 'state store closed');
    validatePath(path);
    if (data !== undefined) validateData(path, data);
    const session = this.current;
    if (!session || !session.connected) throw squallError('ERR_STATE_STORE', `not connected to ZooKeeper at ${this.connectString}`);
    return session;
  }

  /** One request on one session, bounded by operationTimeoutMs, its error mapped to our codes. */
  private request<T>(session: ZkSession, what: string, run: (client: ZkClient, cb: ZkCallback<T>) => void): Promise<{ value: T | undefined; stat: ZkStat | undefined }> {
    if (this.closing) return Promise.reject(squallError('ERR_CLOSED', 'state store closed'));
    if (!session.connected || session.closed) {
      return Promise.reject(squallError('ERR_STATE_STORE', `${what}: not connected to ZooKeeper at ${this.connectString}`));
    }
    return new Promise((resolve, reject) => {
      const timeoutMs = this.timing.operationTimeoutMs;
      const request: PendingRequest = {
        reject,
        timer: this.clock.setTimeout(() => {
          this.pending.delete(request);
          reject(squallError('ERR_STATE_STORE', `${what}: no answer from ZooKeeper within ${timeoutMs} ms`));
        }, timeoutMs),
      };
      this.pending.add(request);
      const settle = (): boolean => {
        if (!this.pending.delete(request)) return false;
        this.clock.clear(request.timer);
        return true;
      };
      try {
        run(session.client, (err, value, stat) => {
          if (!settle()) return;
          if (err) reject(mapZkError(err, what));
          else resolve({ value, stat });
        });
      } catch (err) {
        if (settle()) reject(squallError('ERR_STATE_STORE', `${what}: ${describeError(err)}`, { cause: err }));
      }
    });
  }

  private async setData(session: ZkSession, path: string, data: Uint8Array, version: number): Promise<number> {
    const { value } = await this.request<ZkStat>(session, `set ${path}`, (c, cb) => c.setData(path, toBuffer(data), version, cb));
    if (this.ephemerals.has(path)) this.ephemerals.set(path, copy(data));
    return (value as ZkStat).version;
  }

  private async statOf(session: ZkSession, path: string, watcher: ZkWatcher | undefined): Promise<ZkStat | null> {
    const { value } = await this.request<ZkStat | null>(session, `exists ${path}`, (c, cb) => c.exists(path, watcher, cb));
    return value ?? null;
  }

  private async removeNode(session: ZkSession, path: string, version: number): Promise<void> {
    try {
      await this.request<void>(session, `delete ${path}`, (c, cb) => c.remove(path, version, cb));
    } catch (err) {
      if (errorCode(err) !== 'ERR_STATE_NO_NODE') throw err;
    }
  }

  /** Creates the node, creating missing ancestors as empty persistent nodes on NO_NODE. */
  private async createWithParents(session: ZkSession, path: string, data: Uint8Array, mode: number): Promise<string> {
    for (let attempt = 0; attempt < RACE_ATTEMPTS_MAX; attempt++) {
      try {
        const { value } = await this.request<string>(session, `create ${path}`, (c, cb) => c.create(path, toBuffer(data), mode, cb));
        return value as string;
      } catch (err) {
        if (errorCode(err) !== 'ERR_STATE_NO_NODE') throw err;
      }
      for (const ancestor of ancestors(path)) {
        try {
          await this.request<string>(session, `create ${ancestor}`, (c, cb) => c.create(ancestor, Buffer.alloc(0), MODE.persistent, cb));
        } catch (err) {
          if (errorCode(err) !== 'ERR_STATE_NODE_EXISTS') throw err;
        }
      }
    }
    throw squallError('ERR_STATE_CONFLICT', `create ${path}: its parents kept vanishing`);
  }

  /**
   * Descendants deepest first, then the node (with the version check). A child created meanwhile
   * makes the last step fail with NOT_EMPTY: start over, a bounded number of times.
   */
  private async deleteRecursive(session: ZkSession, path: string, version: number): Promise<void> {
    if (version !== -1) {
      const stat = await this.statOf(session, path, undefined);
      if (!stat) return;
      if (stat.version !== version) throw squallError('ERR_STATE_CONFLICT', `${path} is at version ${stat.version}, expected ${version}`);
    }
    for (let attempt = 0; attempt < RACE_ATTEMPTS_MAX; attempt++) {
      const descendants = await this.subtree(session, path);
      for (const node of descendants.reverse()) await this.removeNode(session, node, -1);
      try {
        await this.removeNode(session, path, version);
        return;
      } catch (err) {
        if (errorCode(err) !== 'ERR_STATE_CONFLICT' || version !== -1) throw err;
      }
    }
    throw squallError('ERR_STATE_CONFLICT', `delete ${path}: children kept being created`);
  }

  /** Every descendant of a node, breadth first (parents before children). */
  private async subtree(session: ZkSession, path: string): Promise<string[]> {
    const out: string[] = [];
    const frontier = [path];
    for (let i = 0; i < frontier.length; i++) {
      let names: string[];
      try {
        names = (await this.request<string[]>(session, `children ${frontier[i]}`, (c, cb) => c.getChildren(frontier[i], undefined, cb))).value ?? [];
      } catch (err) {
        if (errorCode(err) === 'ERR_STATE_NO_NODE') continue;
        throw err;
      }
      for (const name of names) {
        const child = childPath(frontier[i], name);
        out.push(child);
        frontier.push(child);
      }
    }
    return out;
  }

  /** A library watcher that fires our callback at most once, only while `session` is ours. */
  private zkWatcher(session: ZkSession, watch: Watcher): ZkWatcher {
    const once = onceWatcher(watch, this.logger);
    return (event) => {
      if (session.closed || this.closing) return;
      const type = EVENT_TYPES[event.getType()];
      if (type) once({ type, path: event.getPath() });
    };
  }

  // ---- timers ----

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = this.clock.setTimeout(() => {
        this.waits.delete(timer);
        resolve();
      }, ms);
      this.waits.set(timer, resolve);
    });
  }

  /** True if `promise` settles within `ms`; false on timeout or when close() wakes us. */
  private within(promise: Promise<void>, ms: number, evenWhenClosing = false): Promise<boolean> {
    return new Promise((resolve) => {
      let done = false;
      const finish = (ok: boolean): void => {
        if (done) return;
        done = true;
        this.clock.clear(timer);
        this.waits.delete(timer);
        resolve(ok);
      };
      const timer = this.clock.setTimeout(() => finish(false), ms);
      // close() wakes waits so nothing outlives it; its own close waits must not be cut short.
      if (!evenWhenClosing) this.waits.set(timer, () => finish(false));
      promise.then(() => finish(true), () => finish(false));
    });
  }
}

function validateOptions(options: ZkStateStoreOptions): Timing {
  const problems: string[] = [];
  const cs = options.connectString;
  if (typeof cs !== 'string' || cs.trim() === '') problems.push('connectString must be a non-empty host:port list');
  else if (cs.includes('/')) problems.push('connectString must not carry a chroot (use the cluster-state root instead)');
  const timing: Timing = { ...DEFAULTS, handshakeTimeoutMs: 0 };
  for (const key of [...Object.keys(DEFAULTS), 'handshakeTimeoutMs'] as Array<keyof Timing>) {
    const value = options[key];
    if (value === undefined) continue;
    if (!Number.isInteger(value) || value <= 0) problems.push(`${key} must be a positive integer (ms), got ${String(value)}`);
    else timing[key] = value;
  }
  if (timing.handshakeTimeoutMs === 0) timing.handshakeTimeoutMs = Math.max(100, Math.floor(timing.sessionTimeoutMs / 3));
  if (timing.reconnectBackoffInitialMs > timing.reconnectBackoffMaxMs) problems.push('reconnectBackoffInitialMs must not exceed reconnectBackoffMaxMs');
  if (problems.length > 0) throw problemsError('ERR_CONFIG_INVALID', 'ZooKeeper state store options', problems);
  return timing;
}

function copy(data: Uint8Array): Uint8Array {
  return new Uint8Array(data);
}
