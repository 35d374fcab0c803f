import type { State, KeyValueState } from './state/state';
import { STATEFUL_BOLT_MARK } from './state/stateful-bolt';
import { BaseWindowedBolt } from './windowing/windowed-bolt';

/**
 * Storm's `BaseStatefulWindowedBolt`: a windowed bolt whose windows (the tuples they hold, or
 * their accumulators, and the watermark) are part of every checkpoint, with a state of its own
 * as a stateful bolt has. A restarted worker resumes its open windows; `initState(state)` runs
 * after they are restored, before the first tuple. See docs/state.md.
 */
export abstract class BaseStatefulWindowedBolt<T extends State = KeyValueState<unknown, unknown>> extends BaseWindowedBolt {
  readonly [STATEFUL_BOLT_MARK] = true;
  abstract initState(state: T): void;
  prePrepare(_txid: number): void {}
  preCommit(_txid: number): void {}
  preRollback(): void {}
}
