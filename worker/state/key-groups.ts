/**
 * Key groups (Flink's): keyed state is stored by `keyGroup = hash(key) % maxKeyGroups`
 * (`topology.state.max.key.groups`, default 128), and task i of n owns one contiguous range of
 * key groups. A rescale from n to m tasks moves whole key groups: each new task opens exactly the
 * groups of its new range, so no key is lost or owned twice. The hash is the fields grouping's
 * (worker/hash.ts), so the same key is the same number in every process.
 *
 * A state key stands for the fields-grouping values of the tuples that update it: the value
 * itself for a one-field grouping, the array of values for several fields. `keyGroupOfFields`
 * (routing) and `keyGroupOf` (state) agree by construction.
 */
import { fmix32 as fmix32Export, hashFields as hashFieldsExport, hashValue as hashValueExport } from '../hash';

// Read once: the build's CommonJS output reaches another module's function through a property
// getter on every call, measurable on this per-tuple path (keyed stateful routing).
const fmix32 = fmix32Export;
const hashFields = hashFieldsExport;
const hashValue = hashValueExport;

/** Key groups `start` (inclusive) to `end` (exclusive). */
export interface KeyGroupRange {
  start: number;
  end: number;
}

/** The 32-bit hash of a state key: an array is several grouping values, anything else one. */
export function keyHash(key: unknown): number {
  if (!Array.isArray(key)) return fmix32(hashValue(key, 0));
  let h = 0;
  for (let i = 0; i < key.length; i++) h = hashValue(key[i], h);
  return fmix32(h);
}

export function keyGroupOf(key: unknown, maxKeyGroups: number): number {
  return keyHash(key) % maxKeyGroups;
}

/**
 * The key group of a tuple by its grouping fields (`indexes` into `values`), equal to
 * `keyGroupOf` of the state key those values stand for. With several fields it is exactly the
 * fields grouping's `hashFields`; with one it hashes the value as `keyGroupOf` does.
 */
export function keyGroupOfFields(values: readonly unknown[], indexes: readonly number[], maxKeyGroups: number): number {
  const h = indexes.length === 1 ? keyHash(values[indexes[0]]) : hashFields(values, indexes);
  return h % maxKeyGroups;
}

/** The key groups task `index` of `parallelism` owns (Flink's operator key-group range). */
export function keyGroupRange(index: number, parallelism: number, maxKeyGroups: number): KeyGroupRange {
  checkParallelism(parallelism, maxKeyGroups);
  if (!Number.isInteger(index) || index < 0 || index >= parallelism) throw new RangeError(`task index ${index} is not in 0..${parallelism - 1}`);
  return {
    start: Math.ceil((index * maxKeyGroups) / parallelism),
    end: Math.ceil(((index + 1) * maxKeyGroups) / parallelism),
  };
}

/** The index of the task (of `parallelism`) that owns `keyGroup`; the inverse of `keyGroupRange`. */
export function taskIndexForKeyGroup(keyGroup: number, parallelism: number, maxKeyGroups: number): number {
  return Math.floor((keyGroup * parallelism) / maxKeyGroups);
}

/** The key groups of a range, as a list (what `StateProvider.newState` takes). */
export function keyGroupsOf(range: KeyGroupRange): number[] {
  const out: number[] = [];
  for (let g = range.start; g < range.end; g++) out.push(g);
  return out;
}

/** Every key group, for state that is not keyed (one namespace per task). */
export function allKeyGroups(maxKeyGroups: number): number[] {
  return keyGroupsOf({ start: 0, end: maxKeyGroups });
}

function checkParallelism(parallelism: number, maxKeyGroups: number): void {
  if (!Number.isInteger(maxKeyGroups) || maxKeyGroups < 1) throw new RangeError(`max key groups must be a positive integer (got ${maxKeyGroups})`);
  if (!Number.isInteger(parallelism) || parallelism < 1 || parallelism > maxKeyGroups) {
    throw new RangeError(`a keyed stateful component can have 1 to ${maxKeyGroups} tasks (topology.state.max.key.groups), not ${parallelism}`);
  }
}
