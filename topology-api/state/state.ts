/**
 * Storm's state API (`org.apache.storm.state`): `State`, `KeyValueState`, `StateProvider`,
 * `StateFactory`. The worker supplies the implementations (worker/state/); this module only
 * declares them, so a user bundle carries no backend code.
 *
 * Deviation from Storm: `prepareCommit`, `commit` and `rollback` return promises. A checkpoint
 * captures the state synchronously when `prepareCommit` is called (the barrier) and writes it
 * in the background; the promise settles once the write is durable. See docs/state.md.
 */

/** Storm's `State`: something a checkpoint can stage, commit and roll back (two-phase). */
export interface State {
  /**
   * Stages every change since the last commit as `txid`. The changes are captured when this is
   * called (later puts belong to the next checkpoint); the promise resolves when the staged
   * changes are durable. A `txid` that is already committed is a no-op.
   */
  prepareCommit(txid: number): Promise<void>;
  /**
   * Makes the changes staged as `txid` the committed state, atomically. Idempotent: a replayed
   * commit (recovery after a crash) of an already committed `txid` does nothing. Once called, a
   * commit is never rolled back: if it fails (backend down), call it again.
   */
  commit(txid: number): Promise<void>;
  /** Returns to the last committed state, dropping every change since. */
  rollback(): Promise<void>;
}

/** Storm's `KeyValueState`. Keys and values are plain data (what msgpack carries). */
export interface KeyValueState<K, V> extends State, Iterable<[K, V]> {
  /** The value of `key`, or `defaultValue` (undefined when not given) when there is none. */
  get(key: K): V | undefined;
  get(key: K, defaultValue: V): V;
  /**
   * Sets `key`. Values are captured at the next checkpoint, so put a value again after changing
   * it in place, or the change is not saved (as in Storm).
   */
  put(key: K, value: V): void;
  /** Removes `key`; returns the value it had (Storm's `delete`). */
  delete(key: K): V | undefined;
  /** Number of keys (including uncommitted changes). */
  readonly size: number;
}

/** What a state backend reports about its last checkpoint (for stats, REST, `squall monitor`). */
export interface StateCheckpointStats {
  /** Last txid committed in the backend (null: never). */
  committedTxid: number | null;
  /** Bytes (keys + values) the last `prepareCommit` staged: the delta since the last commit. */
  sizeBytes: number;
  /** Keys the last `prepareCommit` staged. */
  entries: number;
  /** Milliseconds from `prepareCommit` to durable. */
  prepareMs: number;
  /** Milliseconds of the last `commit`. */
  commitMs: number;
}

/** A state the worker manages: it reports checkpoint stats and is closed with its task. */
export interface ManagedState extends State {
  checkpointStats(): StateCheckpointStats;
  /**
   * Releases the state (its backend connection stays with the provider). A prepare in flight is
   * abandoned (it rejects with ERR_CLOSED); a commit in flight completes first. Idempotent.
   */
  close(): Promise<void>;
}

/** Options when opening a task's state. */
export interface StateOpenOptions {
  /**
   * The key groups this task owns (keyed state, `topology.state.max.key.groups`): the state
   * loads only these, and `put` of a key of another group throws `ERR_STATE_KEY_GROUP`. Default:
   * every key group (the whole namespace, for state that is not keyed).
   */
  keyGroups?: readonly number[];
}

/**
 * Storm's `StateProvider`: creates a task's state by namespace. One per worker and topology
 * (`topology.state.provider`: `memory`, `sqlite` or `redis`, configured by
 * `topology.state.provider.config`). Namespaces are scoped to the topology's name, so a
 * topology resubmitted under the same name finds its state again, as in Storm.
 */
export interface StateProvider {
  /** `memory`, `sqlite` or `redis`. */
  readonly name: string;
  /** Opens (and loads) the state of `namespace` over the given key groups. */
  newState<K, V>(namespace: string, options?: StateOpenOptions): Promise<KeyValueState<K, V> & ManagedState>;
  /** Closes every state it opened and its connections. Idempotent. */
  close(): Promise<void>;
}

/** Storm's `StateFactory`: the worker's way to the configured provider. */
export interface StateFactory {
  getState<K, V>(namespace: string, options?: StateOpenOptions): Promise<KeyValueState<K, V> & ManagedState>;
}
