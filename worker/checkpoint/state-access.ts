/**
 * What the checkpoint runtime needs from task state, per the State contract (TEAM.md, Storm's
 * names): `prepareCommit(txid)` captures the changes made so far when it is called (later changes
 * belong to the next transaction) and its result settles when they are durable; `commit(txid)`
 * makes the changes prepared under that txid the committed state, and is a no-op when nothing
 * was prepared under it (so a commit delivered twice, or after a restart, is harmless);
 * `rollback()` discards everything not committed. Calls are applied in the order they are made.
 * Each may return a promise (a remote backend) or nothing (memory).
 */
export interface CheckpointedState {
  prepareCommit(txid: number): unknown;
  commit(txid: number): unknown;
  rollback(): unknown;
}

/** Storm's KeyValueState, as far as the runtime uses it (spout offsets, coordinator record). */
export interface KeyValueLike extends CheckpointedState {
  get(key: unknown, defaultValue?: unknown): unknown;
  put(key: unknown, value: unknown): unknown;
}

/** Which state a task opens: a namespace, and for keyed state the key groups it owns. */
export interface StateRef {
  namespace: string;
  /** Keyed stateful bolts: the task's range of key groups (docs/state.md); absent: all of them. */
  keyGroups?: readonly number[];
  /** `topology.state.max.key.groups`, with `keyGroups`. */
  maxKeyGroups?: number;
}

/** Opens task states from the configured provider (`topology.state.provider`). */
export interface StateSource {
  /** The state of one task or of the coordinator, loaded (committed state). */
  open(ref: StateRef): KeyValueLike | Promise<KeyValueLike>;
  close?(): unknown;
}

/** Runs `fn` on the value of `result`, waiting when it is a promise; never throws synchronously. */
export function settle(result: unknown, onDone: (value: unknown) => void, onError: (err: unknown) => void): void {
  if (result !== null && typeof result === 'object' && typeof (result as { then?: unknown }).then === 'function') {
    (result as Promise<unknown>).then(onDone, onError);
  } else onDone(result);
}

/** `settle` as a promise, for chains of state calls that run in order. */
export function whenSettled(result: unknown): Promise<unknown> {
  return new Promise((resolve, reject) => settle(result, resolve, reject));
}
