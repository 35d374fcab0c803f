/**
 * StateStore: the small ZooKeeper-shaped interface cluster state is kept behind (Storm's
 * `IStateStorage`). Two implementations keep the same semantics: `ZkStateStore` (ZooKeeper) and
 * `MemoryStateStore` (one in-memory tree shared by sessions of a `MemoryStateServer`).
 *
 * Semantics both keep (the contract suite in test/helpers/state-store-contract.ts checks each):
 *
 * - Paths are absolute (`/a/b`), without a trailing slash, empty, `.` or `..` segments, or the
 *   characters ZooKeeper rejects. Bad paths and data over NODE_DATA_BYTES_MAX fail with
 *   ERR_STATE_STORE before anything is sent. Path building lives in `paths.ts`.
 * - Versions start at 0 and go up by one on every write of the node's data.
 * - Watches are one-shot: each registration fires at most once (the same callback passed to two
 *   calls is two registrations), asynchronously, in the order the changes happened, and before
 *   the result of any later read on the same store shows the change. Which events a watch sees
 *   depends on what armed it:
 *     get / exists on an existing node  → 'dataChanged' or 'deleted'
 *     get / exists / children on a missing node → 'created' (then re-read and re-arm)
 *     children on an existing node      → 'childrenChanged' (a child created or deleted, not a
 *                                          child's data) or 'deleted'
 *   So `children()` of a missing node answers `[]` and its watch fires on the node's creation,
 *   not on the first child's; a caller that re-reads on every event sees both in turn.
 * - Ephemeral nodes belong to the store's session: other sessions see them at once; they vanish
 *   when the store closes or its session expires. They cannot have children (ERR_STATE_STORE).
 * - Sequential nodes get a 10-digit, zero-padded counter appended (ZooKeeper's parent cversion),
 *   so names sort in creation order.
 * - Connection: a call made while the store is not connected fails at once with ERR_STATE_STORE
 *   (it is not queued: a blip must not turn into a write applied later behind the caller's back).
 *   Retry on 'reconnected'. After `close()` every call fails with ERR_CLOSED.
 * - Session expiry: the store opens a new session by itself, re-creates the ephemeral nodes it
 *   created (create/putEphemeral) and has not deleted itself, with the latest data it wrote
 *   (a node another session has taken meanwhile is left alone and dropped from the list), then
 *   reports 'expired' followed by 'reconnected'. Calls fail with ERR_STATE_STORE until then.
 *   Watches armed on the expired session never fire: re-arm them on 'reconnected'. After a plain
 *   disconnect ('disconnected' then 'reconnected') the session, its ephemerals and its watches
 *   survive (re-arming then is harmless: the callback may fire once per registration).
 */
import { squallError } from '../errors';
import type { Logger } from '../logging';

export type WatchEventType = 'created' | 'deleted' | 'dataChanged' | 'childrenChanged';

export interface WatchEvent {
  type: WatchEventType;
  path: string;
}

/** Fires at most once. Exceptions it throws are logged and dropped. */
export type Watcher = (event: WatchEvent) => void;

/**
 * 'connected' is reported for a session's first connection only; both factories
 * (`ZkStateStore.connect`, `MemoryStateServer.connect`) hand out stores that are already
 * connected, so listeners normally see 'disconnected' → 'reconnected' and 'expired' → 'reconnected'.
 */
export type ConnectionState = 'connected' | 'disconnected' | 'reconnected' | 'expired';

export type ConnectionListener = (state: ConnectionState) => void;

export interface CreateOptions {
  ephemeral?: boolean;
  sequential?: boolean;
}

export interface DeleteOptions {
  /** Delete descendants first (deepest first; not atomic with respect to concurrent creators). */
  recursive?: boolean;
  /** Expected version of the node itself; ERR_STATE_CONFLICT when it differs. */
  version?: number;
}

export interface NodeData {
  data: Uint8Array;
  version: number;
}

export interface StateStore {
  /**
   * Creates a node, creating missing parents as empty persistent nodes. Resolves with the actual
   * path (differs for sequential nodes). ERR_STATE_NODE_EXISTS when it exists.
   */
  create(path: string, data: Uint8Array, options?: CreateOptions): Promise<string>;
  /** Upserts a persistent node (creating parents); an existing node keeps its kind. */
  put(path: string, data: Uint8Array): Promise<void>;
  /**
   * Creates or updates an ephemeral node owned by this session (Storm's `set_ephemeral_node`).
   * A node at the path that this session does not own (a previous incarnation's, not yet
   * expired) is deleted and re-created, so the node lives exactly as long as this session.
   */
  putEphemeral(path: string, data: Uint8Array): Promise<void>;
  /**
   * Writes a node's data; resolves with the new version. ERR_STATE_CONFLICT when
   * `expectedVersion` is given and differs, ERR_STATE_NO_NODE when the node is missing.
   */
  set(path: string, data: Uint8Array, expectedVersion?: number): Promise<number>;
  /** Data and version, or null when missing (the watch then waits for 'created'). */
  get(path: string, watch?: Watcher): Promise<NodeData | null>;
  /** Child names, sorted; [] when the node is missing (the watch then waits for 'created'). */
  children(path: string, watch?: Watcher): Promise<string[]>;
  exists(path: string, watch?: Watcher): Promise<boolean>;
  /**
   * Deletes a node; a missing node is fine. Without `recursive`, a node with children fails with
   * ERR_STATE_CONFLICT.
   */
  delete(path: string, options?: DeleteOptions): Promise<void>;
  /** Returns the function that removes the listener. */
  onConnectionChange(listener: ConnectionListener): () => void;
  /** Ends the session (its ephemerals vanish at once). Idempotent. */
  close(): Promise<void>;
}

/** Largest node payload accepted (ZooKeeper's packet cap is 1 MiB including headers). */
export const NODE_DATA_BYTES_MAX = 1_000_000;

/** Digits of the counter appended to sequential node names. */
export const SEQUENCE_DIGITS = 10;

export function formatSequence(n: number): string {
  return String(n).padStart(SEQUENCE_DIGITS, '0');
}

// Characters ZooKeeper's PathUtils rejects: NUL and controls, surrogates, private use, specials.
const FORBIDDEN_PATH_CHARS = /[\u0000-\u001f\u007f-\u009f\ud800-\uf8ff\ufff0-\uffff]/;

/** Throws ERR_STATE_STORE unless `path` is a valid absolute node path. */
export function validatePath(path: string): void {
  const problem = pathProblem(path);
  if (problem) throw squallError('ERR_STATE_STORE', `invalid path ${JSON.stringify(path)}: ${problem}`);
}

function pathProblem(path: string): string | null {
  if (typeof path !== 'string' || !path.startsWith('/')) return 'must start with /';
  if (path === '/') return null;
  if (path.endsWith('/')) return 'must not end with /';
  if (FORBIDDEN_PATH_CHARS.test(path)) return 'contains a character ZooKeeper rejects';
  for (const segment of path.slice(1).split('/')) {
    if (segment === '') return 'empty segment';
    if (segment === '.' || segment === '..') return 'relative segment';
  }
  return null;
}

/** Throws ERR_STATE_STORE when data is not bytes or is over NODE_DATA_BYTES_MAX. */
export function validateData(path: string, data: Uint8Array): void {
  if (!(data instanceof Uint8Array)) throw squallError('ERR_STATE_STORE', `data for ${path} must be a Uint8Array`);
  if (data.byteLength > NODE_DATA_BYTES_MAX) {
    throw squallError('ERR_STATE_STORE', `data for ${path} is ${data.byteLength} bytes, over ${NODE_DATA_BYTES_MAX}`);
  }
}

/** Parent of an absolute path; '/' for top-level nodes; null for '/'. */
export function parentPath(path: string): string | null {
  if (path === '/') return null;
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

export function childPath(parent: string, name: string): string {
  return parent === '/' ? `/${name}` : `${parent}/${name}`;
}

/** Ancestors of a path from the top down, excluding '/' and the path itself. */
export function ancestors(path: string): string[] {
  const out: string[] = [];
  let p = parentPath(path);
  while (p !== null && p !== '/') {
    out.push(p);
    p = parentPath(p);
  }
  return out.reverse();
}

/** Wraps a watcher so it fires at most once and an exception in it is logged, not thrown. */
export function onceWatcher(watch: Watcher, logger: Logger): Watcher {
  let fired = false;
  return (event) => {
    if (fired) return;
    fired = true;
    try {
      watch(event);
    } catch (err) {
      logger.error({ err, event }, 'state store watch callback threw');
    }
  };
}

/** The connection listeners of one store; each call is isolated from the others' exceptions. */
export class ConnectionListeners {
  private readonly listeners = new Set<ConnectionListener>();

  constructor(private readonly logger: Logger) {}

  add(listener: ConnectionListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  emit(state: ConnectionState): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(state);
      } catch (err) {
        this.logger.error({ err, state }, 'state store connection listener threw');
      }
    }
  }

  clear(): void {
    this.listeners.clear();
  }
}
