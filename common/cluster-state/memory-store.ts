/**
 * The in-memory twin of ZooKeeper: one `MemoryStateServer` holds the tree, each `connect()` opens a
 * session (a `MemoryStateStore`). Same semantics as `ZkStateStore` (see store.ts): versions,
 * cversion-based sequential names, one-shot watches delivered asynchronously and in order,
 * ephemerals owned by a session, and session expiry followed by an automatic renewal that
 * re-creates the session's ephemerals. Tests drive faults with `expireSession`,
 * `disconnectSession` and `reconnectSession` instead of stopping a server.
 */
import { squallError } from '../errors';
import { silentLogger, type Logger } from '../logging';
import {
  ancestors,
  childPath,
  ConnectionListeners,
  formatSequence,
  onceWatcher,
  parentPath,
  validateData,
  validatePath,
  type ConnectionListener,
  type ConnectionState,
  type CreateOptions,
  type DeleteOptions,
  type NodeData,
  type StateStore,
  type Watcher,
  type WatchEvent,
  type WatchEventType,
} from './store';

interface MemNode {
  data: Uint8Array;
  version: number;
  /** Child creations + deletions so far: the next sequential suffix, as in ZooKeeper. */
  cversion: number;
  /** Session id of the owner of an ephemeral node. */
  owner: number | null;
  children: Set<string>;
}

interface Registration {
  sessionId: number;
  store: MemoryStateStore;
  watcher: Watcher;
}

/**
 * The shared tree. ZooKeeper keeps existence watches with data watches (one table keyed by
 * path), so does this: 'created' and 'dataChanged' fire data watches, 'deleted' fires data and
 * child watches, 'childrenChanged' fires child watches.
 */
class MemoryTree {
  private readonly nodes = new Map<string, MemNode>([['/', newNode(new Uint8Array(0), null)]]);
  private readonly dataWatches = new Map<string, Registration[]>();
  private readonly childWatches = new Map<string, Registration[]>();

  node(path: string): MemNode | undefined {
    return this.nodes.get(path);
  }

  create(path: string, data: Uint8Array, options: CreateOptions, ownerId: number): string {
    if (path === '/') throw squallError('ERR_STATE_NODE_EXISTS', path);
    for (const ancestor of ancestors(path)) {
      if (!this.nodes.has(ancestor)) this.insert(ancestor, new Uint8Array(0), null);
    }
    const parent = this.nodes.get(parentPath(path) ?? '/') as MemNode;
    const actual = options.sequential ? path + formatSequence(parent.cversion) : path;
    if (this.nodes.has(actual)) throw squallError('ERR_STATE_NODE_EXISTS', actual);
    this.insert(actual, copy(data), options.ephemeral ? ownerId : null);
    return actual;
  }

  set(path: string, data: Uint8Array, expectedVersion: number | undefined): number {
    const node = this.nodes.get(path);
    if (!node) throw squallError('ERR_STATE_NO_NODE', path);
    if (expectedVersion !== undefined && expectedVersion !== node.version) {
      throw squallError('ERR_STATE_CONFLICT', `${path} is at version ${node.version}, expected ${expectedVersion}`);
    }
    node.data = copy(data);
    node.version += 1;
    this.fire(this.dataWatches, path, 'dataChanged');
    return node.version;
  }

  delete(path: string, options: DeleteOptions): void {
    const node = this.nodes.get(path);
    if (!node) return;
    if (path === '/') throw squallError('ERR_STATE_STORE', 'cannot delete /');
    if (options.version !== undefined && options.version !== node.version) {
      throw squallError('ERR_STATE_CONFLICT', `${path} is at version ${node.version}, expected ${options.version}`);
    }
    if (node.children.size > 0 && !options.recursive) throw squallError('ERR_STATE_CONFLICT', `${path} has children`);
    this.remove(path);
  }

  watchData(path: string, reg: Registration): void {
    push(this.dataWatches, path, reg);
  }

  watchChildren(path: string, reg: Registration): void {
    push(this.childWatches, path, reg);
  }

  /** The session's ephemeral nodes, oldest first. */
  ephemeralsOf(sessionId: number): string[] {
    const out: string[] = [];
    for (const [path, node] of this.nodes) if (node.owner === sessionId) out.push(path);
    return out;
  }

  dropWatches(sessionId: number): void {
    for (const table of [this.dataWatches, this.childWatches]) {
      for (const [path, regs] of table) {
        const kept = regs.filter((r) => r.sessionId !== sessionId);
        if (kept.length > 0) table.set(path, kept);
        else table.delete(path);
      }
    }
  }

  private insert(path: string, data: Uint8Array, owner: number | null): void {
    const parentName = parentPath(path) ?? '/';
    const parent = this.nodes.get(parentName) as MemNode;
    if (parent.owner !== null) throw squallError('ERR_STATE_STORE', `cannot create ${path}: ${parentName} is ephemeral`);
    this.nodes.set(path, newNode(data, owner));
    parent.children.add(path.slice(path.lastIndexOf('/') + 1));
    parent.cversion += 1;
    this.fire(this.dataWatches, path, 'created');
    this.fire(this.childWatches, parentName, 'childrenChanged');
  }

  /** Deletes a node and its descendants, deepest first, firing each deletion's watches. */
  private remove(path: string): void {
    const node = this.nodes.get(path);
    if (!node) return;
    for (const name of [...node.children].sort()) this.remove(childPath(path, name));
    this.nodes.delete(path);
    const parentName = parentPath(path) ?? '/';
    const parent = this.nodes.get(parentName) as MemNode;
    parent.children.delete(path.slice(path.lastIndexOf('/') + 1));
    parent.cversion += 1;
    this.fire(this.dataWatches, path, 'deleted');
    this.fire(this.childWatches, path, 'deleted');
    this.fire(this.childWatches, parentName, 'childrenChanged');
  }

  private fire(table: Map<string, Registration[]>, path: string, type: WatchEventType): void {
    const regs = table.get(path);
    if (!regs) return;
    table.delete(path);
    const event: WatchEvent = { type, path };
    for (const reg of regs) reg.store.deliverWatch(reg.sessionId, reg.watcher, event);
  }
}

export class MemoryStateServer {
  private readonly tree = new MemoryTree();
  private readonly stores = new Set<MemoryStateStore>();
  private nextSessionId = 1;

  /** Opens a connected session. */
  connect(options: { logger?: Logger } = {}): MemoryStateStore {
    const store = new MemoryStateStore(this.tree, () => this.nextSessionId++, options.logger ?? silentLogger(), (s) => this.stores.delete(s));
    this.stores.add(store);
    return store;
  }

  /** Open sessions. */
  sessionCount(): number {
    return this.stores.size;
  }

  /**
   * Expires a session as ZooKeeper would: its watches are dropped and its ephemerals deleted now
   * (other sessions' watches fire). A connected store then renews at once: 'expired', its
   * ephemerals re-created in a new session, 'reconnected'. A disconnected store does so when
   * `reconnectSession` is called.
   */
  expireSession(store: MemoryStateStore): void {
    this.own(store).expire();
  }

  /** Cuts a session's connection: calls fail with ERR_STATE_STORE, watch events are held. */
  disconnectSession(store: MemoryStateStore): void {
    this.own(store).disconnect();
  }

  /** Restores a cut connection ('reconnected', then the held watch events). */
  reconnectSession(store: MemoryStateStore): void {
    this.own(store).reconnect();
  }

  private own(store: MemoryStateStore): MemoryStateStore {
    if (!this.stores.has(store)) throw squallError('ERR_STATE_STORE', 'not an open session of this server');
    return store;
  }
}

type SessionState = 'connected' | 'disconnected' | 'closed';

export class MemoryStateStore implements StateStore {
  private state: SessionState = 'connected';
  private sessionId: number;
  private expiredWhileDisconnected = false;
  /**
   * Ephemerals this store created and has not deleted, with the latest data it wrote: what a
   * renewal re-creates. Tracked like ZkStateStore must (it cannot read the old session's nodes).
   */
  private readonly owned = new Map<string, Uint8Array>();
  private readonly listeners: ConnectionListeners;
  /** Callbacks due to run, in order (connection events and delivered watch events). */
  private queue: Array<() => void> = [];
  /** Watch events that happened while disconnected: delivered after 'reconnected'. */
  private held: Array<() => void> = [];
  private flushScheduled = false;

  /** @internal Use `MemoryStateServer.connect()`. */
  constructor(
    private readonly tree: MemoryTree,
    private readonly newSessionId: () => number,
    private readonly logger: Logger,
    private readonly onClosed: (store: MemoryStateStore) => void,
  ) {
    this.sessionId = newSessionId();
    this.listeners = new ConnectionListeners(logger);
  }

  async create(path: string, data: Uint8Array, options: CreateOptions = {}): Promise<string> {
    this.check(path);
    validateData(path, data);
    const actual = this.tree.create(path, data, options, this.sessionId);
    if (options.ephemeral) this.owned.set(actual, copy(data));
    return actual;
  }

  async put(path: string, data: Uint8Array): Promise<void> {
    this.check(path);
    validateData(path, data);
    if (this.tree.node(path)) this.setOwned(path, data, undefined);
    else this.tree.create(path, data, {}, this.sessionId);
  }

  async putEphemeral(path: string, data: Uint8Array): Promise<void> {
    this.check(path);
    validateData(path, data);
    const node = this.tree.node(path);
    if (node && node.owner === this.sessionId) {
      this.setOwned(path, data, undefined);
      return;
    }
    if (node) this.tree.delete(path, {});
    this.tree.create(path, data, { ephemeral: true }, this.sessionId);
    this.owned.set(path, copy(data));
  }

  async set(path: string, data: Uint8Array, expectedVersion?: number): Promise<number> {
    this.check(path);
    validateData(path, data);
    return this.setOwned(path, data, expectedVersion);
  }

  async get(path: string, watch?: Watcher): Promise<NodeData | null> {
    this.check(path);
    if (watch) this.tree.watchData(path, this.registration(watch));
    const node = this.tree.node(path);
    return node ? { data: copy(node.data), version: node.version } : null;
  }

  async children(path: string, watch?: Watcher): Promise<string[]> {
    this.check(path);
    const node = this.tree.node(path);
    if (watch) {
      if (node) this.tree.watchChildren(path, this.registration(watch));
      else this.tree.watchData(path, this.registration(watch));
    }
    return node ? [...node.children].sort() : [];
  }

  async exists(path: string, watch?: Watcher): Promise<boolean> {
    this.check(path);
    if (watch) this.tree.watchData(path, this.registration(watch));
    return this.tree.node(path) !== undefined;
  }

  async delete(path: string, options: DeleteOptions = {}): Promise<void> {
    this.check(path);
    this.tree.delete(path, options);
    for (const owned of [...this.owned.keys()]) {
      if (owned === path || owned.startsWith(`${path}/`)) this.owned.delete(owned);
    }
  }

  onConnectionChange(listener: ConnectionListener): () => void {
    return this.listeners.add(listener);
  }

  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.queue = [];
    this.held = [];
    this.listeners.clear();
    this.tree.dropWatches(this.sessionId);
    this.deleteEphemerals();
    this.onClosed(this);
  }

  /** @internal The tree calls this when a watch this store armed fires. */
  deliverWatch(sessionId: number, watcher: Watcher, event: WatchEvent): void {
    if (sessionId !== this.sessionId || this.state === 'closed') return;
    const run = (): void => watcher(event);
    if (this.state === 'disconnected') this.held.push(run);
    else this.enqueue(run);
  }

  /** @internal Use `MemoryStateServer.expireSession`. */
  expire(): void {
    if (this.state === 'closed') return;
    this.tree.dropWatches(this.sessionId);
    this.deleteEphemerals();
    if (this.state === 'disconnected') {
      this.held = [];
      this.expiredWhileDisconnected = true;
      return;
    }
    this.renew();
  }

  /** @internal Use `MemoryStateServer.disconnectSession`. */
  disconnect(): void {
    if (this.state !== 'connected') return;
    this.state = 'disconnected';
    this.enqueueConnection('disconnected');
  }

  /** @internal Use `MemoryStateServer.reconnectSession`. */
  reconnect(): void {
    if (this.state !== 'disconnected') return;
    this.state = 'connected';
    if (this.expiredWhileDisconnected) {
      this.expiredWhileDisconnected = false;
      this.renew();
    } else {
      this.enqueueConnection('reconnected');
    }
    const held = this.held;
    this.held = [];
    for (const run of held) this.enqueue(run);
  }

  /** A new session re-creating the expired one's ephemerals, reported as 'expired' → 'reconnected'. */
  private renew(): void {
    this.enqueueConnection('expired');
    this.sessionId = this.newSessionId();
    for (const [path, data] of [...this.owned]) {
      try {
        this.tree.create(path, data, { ephemeral: true }, this.sessionId);
      } catch (err) {
        this.logger.warn({ err, path }, 'could not re-create an ephemeral node after session expiry; dropping it');
        this.owned.delete(path);
      }
    }
    this.enqueueConnection('reconnected');
  }

  /** What the server does when a session ends: delete its ephemerals (firing watches). */
  private deleteEphemerals(): void {
    for (const path of this.tree.ephemeralsOf(this.sessionId)) this.tree.delete(path, {});
  }

  private setOwned(path: string, data: Uint8Array, expectedVersion: number | undefined): number {
    const version = this.tree.set(path, data, expectedVersion);
    if (this.owned.has(path)) this.owned.set(path, copy(data));
    return version;
  }

  private check(path: string): void {
    if (this.state === 'closed') throw squallError('ERR_CLOSED', 'state store session is closed');
    if (this.state === 'disconnected') throw squallError('ERR_STATE_STORE', 'not connected');
    validatePath(path);
  }

  private registration(watch: Watcher): Registration {
    return { sessionId: this.sessionId, store: this, watcher: onceWatcher(watch, this.logger) };
  }

  private enqueueConnection(state: ConnectionState): void {
    this.enqueue(() => this.listeners.emit(state));
  }

  /** Runs callbacks on a microtask, in order, after the current call has returned. */
  private enqueue(run: () => void): void {
    this.queue.push(run);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    queueMicrotask(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    while (this.queue.length > 0 && this.state !== 'closed') {
      const run = this.queue.shift() as () => void;
      run();
    }
  }
}

function newNode(data: Uint8Array, owner: number | null): MemNode {
  return { data, version: 0, cversion: 0, owner, children: new Set() };
}

function copy(data: Uint8Array): Uint8Array {
  return new Uint8Array(data);
}

function push(table: Map<string, Registration[]>, path: string, reg: Registration): void {
  const regs = table.get(path);
  if (regs) regs.push(reg);
  else table.set(path, [reg]);
}
