/**
 * Tuple trees by root id, for the acker's ledger and a spout's pending tuples: Storm's
 * RotatingMap semantics (an entry expires on the `buckets`-th rotation after it was put or
 * refreshed; one timer per worker, none per tuple) in an open-addressing hash table over typed
 * arrays. Subclasses keep their payload in parallel arrays indexed by slot.
 *
 * Why not common/rotating-map.ts: with a Map per bucket, each tuple tree cost a dozen Map
 * operations on heap-number keys (a put writes one bucket and deletes from the others, a lookup
 * probes every bucket) plus an object per tree; that was 31% of the CPU of const-spout →
 * null-bolt with acking. Here a lookup is a hash and a probe or two, and there is no allocation
 * per tree.
 *
 * Layout: linear probing over a power-of-two table kept at most half full; key 0 marks an empty
 * slot (root ids are ≥ 1); deletion shifts the following cluster back (no tombstones). Each
 * entry carries the generation (rotation count) it was put or refreshed in; `rotate()` expires
 * every entry `buckets` generations old by rebuilding the table, once per rotation.
 */
export abstract class RootTable {
  private keys: Float64Array;
  private gens: Int32Array;
  private mask: number;
  private count = 0;
  private generation = 0;

  constructor(
    private readonly buckets: number,
    initialCapacity = 1024,
  ) {
    if (buckets < 2) throw new RangeError('a RootTable needs at least 2 buckets');
    const cap = pow2AtLeast(Math.max(16, initialCapacity));
    this.keys = new Float64Array(cap);
    this.gens = new Int32Array(cap);
    this.mask = cap - 1;
  }

  /** Payload arrays for `capacity` slots (called by the constructor of the subclass, and on growth). */
  protected abstract allocate(capacity: number): void;
  /** Copies the payload of slot `from` of the arrays before `allocate` into slot `to` of the new ones. */
  protected abstract carry(from: number, to: number): void;
  /** Moves a payload within the current arrays (deletion shifts entries back). */
  protected abstract move(from: number, to: number): void;
  /** Keeps the old payload arrays while the table is rebuilt (`carry` reads them). */
  protected abstract stash(): void;
  /** Drops what the payload of a freed slot references (object payloads). */
  protected release(_slot: number): void {}

  /** Slots of the table: subclasses allocate their payload for this many in their constructor. */
  protected capacity(): number {
    return this.keys.length;
  }

  size(): number {
    return this.count;
  }

  /** The slot of `root`, or -1. */
  find(root: number): number {
    const keys = this.keys;
    const mask = this.mask;
    let i = hash(root) & mask;
    for (;;) {
      const k = keys[i];
      if (k === root) return i;
      if (k === 0) return -1;
      i = (i + 1) & mask;
    }
  }

  /**
   * The slot of `root`; a new one (payload zeroed by the caller, `inserted` set) in the newest
   * generation when absent. An existing entry keeps its generation.
   */
  protected upsert(root: number): number {
    let keys = this.keys;
    let mask = this.mask;
    let i = hash(root) & mask;
    for (;;) {
      const k = keys[i];
      if (k === root) {
        this.inserted = false;
        return i;
      }
      if (k === 0) break;
      i = (i + 1) & mask;
    }
    if ((this.count + 1) * 2 > keys.length) {
      this.rebuild(keys.length * 2, -Infinity);
      keys = this.keys;
      mask = this.mask;
      i = hash(root) & mask;
      while (keys[i] !== 0) i = (i + 1) & mask;
    }
    keys[i] = root;
    this.gens[i] = this.generation;
    this.count++;
    this.inserted = true;
    return i;
  }

  /** Set by `upsert`: whether it created the entry. */
  protected inserted = false;

  /** Moves an entry to the newest generation (restarts its timeout). */
  touch(slot: number): void {
    this.gens[slot] = this.generation;
  }

  /** Removes the entry at `slot` (backward-shift deletion: later entries of its cluster move up). */
  removeAt(slot: number): void {
    const keys = this.keys;
    const gens = this.gens;
    const mask = this.mask;
    let hole = slot;
    let j = slot;
    for (;;) {
      j = (j + 1) & mask;
      const k = keys[j];
      if (k === 0) break;
      const home = hash(k) & mask;
      // the entry at j may fill the hole unless its home lies cyclically in (hole, j]
      if (hole <= j ? home > hole && home <= j : home > hole || home <= j) continue;
      keys[hole] = k;
      gens[hole] = gens[j];
      this.move(j, hole);
      hole = j;
    }
    keys[hole] = 0;
    this.release(hole);
    this.count--;
  }

  /**
   * Starts a new generation and removes the entries `buckets` generations old. `expired(slot)` is
   * called for each first, while its payload is readable; it must only copy what it needs (user
   * callbacks run after the rotation, since they may put new entries).
   */
  protected rotateWith(expired: ((slot: number) => void) | null): number {
    this.generation++;
    const oldest = this.generation - this.buckets;
    const keys = this.keys;
    const gens = this.gens;
    let n = 0;
    for (let s = 0; s < keys.length; s++) {
      if (keys[s] === 0 || gens[s] > oldest) continue;
      expired?.(s);
      n++;
    }
    if (n > 0) this.rebuild(keys.length, oldest);
    return n;
  }

  /** Rehashes every entry newer than generation `oldest` into fresh arrays of `capacity` slots. */
  private rebuild(capacity: number, oldest: number): void {
    const oldKeys = this.keys;
    const oldGens = this.gens;
    this.stash();
    const keys = new Float64Array(capacity);
    const gens = new Int32Array(capacity);
    const mask = capacity - 1;
    this.allocate(capacity);
    let count = 0;
    for (let s = 0; s < oldKeys.length; s++) {
      const k = oldKeys[s];
      if (k === 0 || oldGens[s] <= oldest) continue;
      let i = hash(k) & mask;
      while (keys[i] !== 0) i = (i + 1) & mask;
      keys[i] = k;
      gens[i] = oldGens[s];
      this.carry(s, i);
      count++;
    }
    this.keys = keys;
    this.gens = gens;
    this.mask = mask;
    this.count = count;
  }
}

/** Consecutive root ids kept together in a table, and sent to one acker (WorkerRuntime.ackerFor). */
export const ROOT_RUN_BITS = 4;
export const ROOT_RUN = 1 << ROOT_RUN_BITS;

/**
 * The home slot of a root id: both halves mixed, except the low ROOT_RUN_BITS, which stay in place. A
 * spout task's root ids are consecutive (SpoutTask.nextRoot), so runs of ROOT_RUN trees share a few cache
 * lines of every array instead of one line each; the runs themselves land at random. Random ids
 * (tests use small ones) spread as before.
 */
function hash(root: number): number {
  const lo = root >>> 0;
  const h = Math.imul(((root / 4294967296) | 0) ^ (lo >>> ROOT_RUN_BITS), 0x9e3779b1);
  return ((h ^ (h >>> 16)) << ROOT_RUN_BITS) | (lo & (ROOT_RUN - 1));
}

function pow2AtLeast(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}
