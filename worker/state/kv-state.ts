/**
 * `KeyValueState` over any backend: the working copy is a Map in the task's memory (gets and puts
 * never wait on a backend), and checkpoints write deltas through the two-phase store.
 *
 * - **Delta.** Every put or delete records the key's value before its first change since the
 *   last barrier (an undo record). At `prepareCommit(txid)` (the barrier) those records become a
 *   layer; the keys of the layers since the last commit are what gets staged.
 * - **Copy-on-write snapshot.** The barrier itself only swaps a Map. The staged values are
 *   encoded afterwards, in slices between which the data plane runs; a key of the snapshot that
 *   is about to change (put, delete) or be handed out as an object (get, iteration) first has its
 *   barrier value captured, so the checkpoint holds exactly the values at the barrier.
 * - **Rollback** applies the undo records, newest first, without the backend (it works while the
 *   backend is down). Object values are recorded encoded when first read or changed since the
 *   barrier, so changing a value in place cannot alter its undo record.
 * - Backend work runs one operation at a time (prepare, commit); a decided commit that failed
 *   (backend down) is retried before anything else and can no longer be rolled back.
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { squallError, type KeyValueState, type ManagedState, type StateCheckpointStats } from '../../topology-api';
import type { StateCodec } from './codec';
import { keyGroupOf } from './key-groups';
import { KeyMap } from './key-map';
import type { KeyGroupStore, StagedEntry } from './two-phase';

/** What an undo record holds for a key that had no value. */
const ABSENT: unique symbol = Symbol('absent');

/** An object value, encoded when recorded, so later changes in place cannot reach the record. */
class Encoded {
  constructor(readonly bytes: Uint8Array) {}
}

/**
 * A key's value in the working copy, and the epoch of `changed` that holds its undo record:
 * `mark === epoch` exactly when `changed` has the key, so a hot key's put needs no lookup there.
 */
interface Cell<V> {
  v: V;
  mark: number;
}

interface Layer {
  txid: number;
  undo: KeyMap<unknown>;
}

/** A prepare whose values are still being encoded. */
interface Snapshot {
  txid: number;
  layers: Layer[];
  /** Barrier values captured before a change: raw primitives, Encoded objects, ABSENT. */
  early: KeyMap<unknown>;
  cancelled: boolean;
}

export interface KeyValueStateOptions {
  store: KeyGroupStore;
  codec: StateCodec;
  maxKeyGroups: number;
  /** The key groups a keyed task owns; null when it owns them all (state that is not keyed). */
  ownedGroups: readonly number[] | null;
  /** Entries encoded per slice of a snapshot (default 4096). */
  sliceEntries?: number;
  /** Called once by close(). */
  onClose?: () => void;
}

export class KeyValueStateImpl<K, V> implements KeyValueState<K, V>, ManagedState {
  private readonly data = new KeyMap<Cell<V>>();
  /** Undo records since the last barrier. */
  private changed = new KeyMap<unknown>();
  /** Bumped whenever `changed` is replaced, which unmarks every cell (Cell.mark). */
  private epoch = 1;
  /** The cell of the last primitive key looked up (a get then a put of it costs one lookup). */
  private lastKey: unknown = undefined;
  private lastCell: Cell<V> | null = null;
  /** Undo records of barriers since the last commit, oldest first. */
  private layers: Layer[] = [];
  private snap: Snapshot | null = null;
  private committedTxid: number | null = null;
  /** A commit called but not yet done in the backend. */
  private decidedTxid: number | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly owned: Uint8Array | null;
  private readonly store: KeyGroupStore;
  private readonly codec: StateCodec;
  private readonly max: number;
  private readonly sliceEntries: number;
  private readonly stats = { sizeBytes: 0, entries: 0, prepareMs: 0, commitMs: 0 };
  private closed = false;

  private constructor(private readonly options: KeyValueStateOptions) {
    this.store = options.store;
    this.codec = options.codec;
    this.max = options.maxKeyGroups;
    this.sliceEntries = options.sliceEntries ?? 4096;
    if (options.ownedGroups === null) {
      this.owned = null;
    } else {
      this.owned = new Uint8Array(this.max);
      for (const g of options.ownedGroups) this.owned[g] = 1;
    }
  }

  /** Opens the state: rolls forward a commit decided before a crash, then loads the rows. */
  static async open<K, V>(options: KeyValueStateOptions): Promise<KeyValueStateImpl<K, V>> {
    const state = new KeyValueStateImpl<K, V>(options);
    await state.reload();
    return state;
  }

  // ---- KeyValueState -----------------------------------------------------------------------

  get size(): number {
    return this.data.size;
  }

  get(key: K): V | undefined;
  get(key: K, defaultValue: V): V;
  get(key: K, defaultValue?: V): V | undefined {
    const c = this.cellOf(key);
    if (c === undefined) return defaultValue;
    const v = c.v;
    if (v === undefined) return defaultValue;
    if (typeof v === 'object' && v !== null) this.touchObject(key, c);
    return v;
  }

  put(key: K, value: V): void {
    const c = this.cellOf(key);
    // the hot path: a key already changed since the barrier, no snapshot being written
    if (c !== undefined && c.mark === this.epoch && this.snap === null) {
      c.v = value;
      return;
    }
    this.beforeChange(key, c);
    if (c !== undefined) c.v = value;
    else this.data.set(key, { v: value, mark: this.epoch });
  }

  delete(key: K): V | undefined {
    const c = this.data.get(key);
    if (c === undefined) return undefined;
    this.beforeChange(key, c);
    this.data.delete(key);
    this.lastCell = null;
    return c.v;
  }

  *[Symbol.iterator](): Iterator<[K, V]> {
    for (const [k, c] of this.data.entries()) {
      const v = c.v;
      if (typeof v === 'object' && v !== null) this.touchObject(k, c);
      yield [k as K, v];
    }
  }

  // ---- State ---------------------------------------------------------------------------------

  prepareCommit(txid: number): Promise<void> {
    if (this.closed) return Promise.reject(closedError());
    if (this.isCommitted(txid)) return Promise.resolve();
    const newest = this.layers.at(-1);
    if (newest && txid < newest.txid) return Promise.reject(squallError('ERR_STATE_TXID', `prepare of txid ${txid} after txid ${newest.txid}`));
    // the barrier: later changes belong to the next checkpoint
    if (this.snap) this.snap.cancelled = true;
    this.layers.push({ txid, undo: this.changed });
    this.changed = new KeyMap();
    this.epoch++;
    const snap: Snapshot = { txid, layers: [...this.layers], early: new KeyMap(), cancelled: false };
    this.snap = snap;
    const started = performance.now();
    return this.enqueue(async () => {
      try {
        await this.completeDecided();
        this.checkLive(snap);
        await this.store.beginStage();
        const written = await this.writeSnapshot(snap);
        this.checkLive(snap);
        await this.store.seal(txid);
        this.stats.sizeBytes = written.bytes;
        this.stats.entries = written.entries;
        this.stats.prepareMs = performance.now() - started;
      } finally {
        if (this.snap === snap) this.snap = null;
      }
    });
  }

  commit(txid: number): Promise<void> {
    if (this.closed) return Promise.reject(closedError());
    if (this.committedTxid !== null && txid <= this.committedTxid) return Promise.resolve();
    const replayed = !this.layers.some((l) => l.txid === txid);
    if (replayed && (this.layers.length > 0 || this.changed.size > 0)) {
      return Promise.reject(squallError('ERR_STATE_TXID', `commit of txid ${txid}, which this state did not prepare, after changes`));
    }
    if (this.decidedTxid === null || txid > this.decidedTxid) this.decidedTxid = txid;
    const started = performance.now();
    return this.enqueue(async () => {
      const applied = await this.completeDecided();
      // a commit decided before a restart (recovery) changed the committed rows under us
      if (replayed && applied) await this.reload();
      this.stats.commitMs = performance.now() - started;
    });
  }

  rollback(): Promise<void> {
    if (this.closed) return Promise.reject(closedError());
    if (this.decidedTxid !== null) {
      return Promise.reject(squallError('ERR_STATE_TXID', `rollback after the commit of txid ${this.decidedTxid} was decided: retry the commit`));
    }
    if (this.snap) this.snap.cancelled = true;
    this.snap = null;
    this.restore(this.changed);
    for (let i = this.layers.length - 1; i >= 0; i--) this.restore(this.layers[i].undo);
    this.changed = new KeyMap();
    this.epoch++;
    this.layers = [];
    // undecided staging in the backend is ignored by readers and cleared by the next prepare
    return this.enqueue(async () => undefined);
  }

  // ---- ManagedState --------------------------------------------------------------------------

  checkpointStats(): StateCheckpointStats {
    return { committedTxid: this.committedTxid, ...this.stats };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.snap) this.snap.cancelled = true;
    await this.queue;
    this.options.onClose?.();
  }

  // ---- internals -----------------------------------------------------------------------------

  private isCommitted(txid: number): boolean {
    return (this.committedTxid !== null && txid <= this.committedTxid) || (this.decidedTxid !== null && txid <= this.decidedTxid);
  }

  /**
   * Captures the barrier value for a snapshot being written, and on a key's first change since
   * the last checkpoint checks that the task owns its key group and records its undo. A key
   * changed again is not hashed again: the per-tuple path of a hot key (a get, then a put of the
   * same key) is one Map lookup (`put`'s fast path, `cellOf`'s memo). `c` is the key's cell.
   */
  private beforeChange(key: K, c: Cell<V> | undefined): void {
    if (this.snap !== null) this.capture(key);
    if (c !== undefined ? c.mark === this.epoch : this.changed.has(key)) return;
    if (this.owned !== null && this.owned[keyGroupOf(key, this.max)] !== 1) throw notOwned(key, this.store.ns);
    this.changed.set(key, this.recordOf(key));
    if (c !== undefined) c.mark = this.epoch;
  }

  private touchObject(key: unknown, c: Cell<V>): void {
    if (this.snap !== null) this.capture(key);
    if (c.mark !== this.epoch) {
      this.changed.set(key, new Encoded(this.codec.encode(c.v)));
      c.mark = this.epoch;
    }
  }

  /** The cell of `key`; the last primitive key's is remembered (cells leave only by delete, restore, reload). */
  private cellOf(key: unknown): Cell<V> | undefined {
    if (key === this.lastKey && this.lastCell !== null) return this.lastCell;
    const c = this.data.get(key);
    if (c !== undefined && (typeof key !== 'object' || key === null)) {
      this.lastKey = key;
      this.lastCell = c;
    }
    return c;
  }

  /** The key's current value as an undo record or captured barrier value. */
  private recordOf(key: unknown): unknown {
    const c = this.data.get(key);
    if (c === undefined) return ABSENT;
    const v = c.v;
    return typeof v === 'object' && v !== null ? new Encoded(this.codec.encode(v)) : v;
  }

  private capture(key: unknown): void {
    const snap = this.snap!;
    if (snap.early.has(key)) return;
    for (const layer of snap.layers) {
      if (layer.undo.has(key)) {
        snap.early.set(key, this.recordOf(key));
        return;
      }
    }
  }

  private restore(undo: KeyMap<unknown>): void {
    this.lastCell = null;
    for (const [key, record] of undo.entries()) {
      if (record === ABSENT) this.data.delete(key);
      else this.data.set(key, { v: (record instanceof Encoded ? this.codec.decode(record.bytes) : record) as V, mark: 0 });
    }
  }

  /** Encodes the snapshot's keys at their barrier values, in slices, staging each. */
  private async writeSnapshot(snap: Snapshot): Promise<{ bytes: number; entries: number }> {
    let chunk: StagedEntry[] = [];
    let bytes = 0;
    let entries = 0;
    // layers committed since the barrier (a commit that completed meanwhile) need no staging
    const layers = snap.layers.filter((l) => this.committedTxid === null || l.txid > this.committedTxid);
    for (const key of snapshotKeys(layers)) {
      let record: unknown;
      if (snap.early.has(key)) record = snap.early.get(key);
      else {
        const c = this.data.get(key);
        record = c === undefined ? ABSENT : c.v;
      }
      const keyBytes = this.codec.encodeKey(key);
      const value = record === ABSENT ? null : record instanceof Encoded ? record.bytes : this.codec.encode(record);
      chunk.push({ op: 'stage', kg: keyGroupOf(key, this.max), key: keyBytes, value });
      bytes += keyBytes.length + (value === null ? 0 : value.length);
      entries += 1;
      if (chunk.length >= this.sliceEntries) {
        await this.store.stage(chunk);
        chunk = [];
        await yieldToLoop();
        this.checkLive(snap);
      }
    }
    // every barrier value is encoded: changes need no capture any more
    if (this.snap === snap) this.snap = null;
    if (chunk.length > 0) await this.store.stage(chunk);
    return { bytes, entries };
  }

  /** Commits the decided txid in the backend; returns whether it committed anything. */
  private async completeDecided(): Promise<boolean> {
    const txid = this.decidedTxid;
    if (txid === null) return false;
    let applied: boolean;
    try {
      applied = await this.store.commit(txid);
    } catch (err) {
      // never prepared as that txid: not a decision this state can keep
      if ((err as { code?: string }).code === 'ERR_STATE_TXID' && this.decidedTxid === txid) this.decidedTxid = null;
      throw err;
    }
    if (this.committedTxid === null || txid > this.committedTxid) this.committedTxid = txid;
    if (this.decidedTxid === txid) this.decidedTxid = null;
    this.layers = this.layers.filter((l) => l.txid > txid);
    return applied;
  }

  private async reload(): Promise<void> {
    this.committedTxid = await this.store.recover();
    this.data.clear();
    this.lastCell = null;
    await this.store.load((_kg, rows) => {
      for (const [key, value] of rows) if (value !== null) this.data.set(this.codec.decode(key), { v: this.codec.decode(value) as V, mark: 0 });
    });
  }

  private checkLive(snap: Snapshot): void {
    if (this.closed) throw closedError();
    if (snap.cancelled) throw squallError('ERR_STATE_TXID', `prepare of txid ${snap.txid} was superseded by a newer prepare or a rollback`);
  }

  private enqueue<T>(op: () => Promise<T>): Promise<T> {
    const result = this.queue.then(op);
    this.queue = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}

/** The keys of the layers, each once (newest layer first; usually there is one). */
function* snapshotKeys(layers: readonly Layer[]): Generator<unknown> {
  for (let i = layers.length - 1; i >= 0; i--) {
    for (const key of layers[i].undo.keys()) {
      let newer = false;
      for (let j = i + 1; j < layers.length && !newer; j++) newer = layers[j].undo.has(key);
      if (!newer) yield key;
    }
  }
}

function closedError(): Error {
  return squallError('ERR_CLOSED', 'the state is closed');
}

function notOwned(key: unknown, ns: string): Error {
  return squallError('ERR_STATE_KEY_GROUP', `${ns}: key ${JSON.stringify(key)} belongs to a key group this task does not own; key the state by the fields-grouping value`);
}
