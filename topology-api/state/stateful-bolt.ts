import type { TopologyConfig } from '../config';
import type { IComponent, OutputCollector, OutputFieldsDeclarer, TopologyContext } from '../components';
import type { Tuple } from '../tuple';
import type { KeyValueState, State } from './state';

/**
 * Storm's `IStatefulComponent` hooks, driven by the checkpoint runtime (worker/checkpoint/):
 * `initState` once after `prepare` and before the first tuple (with the last committed state),
 * then around every checkpoint `prePrepare(txid)` before the state is staged, `preCommit(txid)`
 * before it is committed, and `preRollback()` before it is rolled back.
 */
export interface IStatefulComponent<T extends State = State> extends IComponent {
  initState(state: T): void;
  prePrepare?(txid: number): void;
  preCommit?(txid: number): void;
  preRollback?(): void;
}

/** Storm's `IStatefulBolt`: a rich bolt whose state is checkpointed. */
export interface IStatefulBolt<T extends State = State> extends IStatefulComponent<T> {
  prepare(conf: Readonly<TopologyConfig>, context: TopologyContext, collector: OutputCollector): void;
  execute(input: Tuple): void;
  cleanup?(): void;
}

/** Marks stateful bolts so the runtime wraps them (a bundle carries its own copy of this class). */
export const STATEFUL_BOLT_MARK = 'squall.statefulBolt';

/**
 * Storm's `BaseStatefulBolt`: override `execute` and `initState` (and `prepare` to keep the
 * collector). Keyed state (`KeyValueState` by default) is split into key groups by the key, so
 * with a fields grouping put only keys that are the grouping value (one field) or the array of
 * grouping values (several fields): see docs/state.md "Key groups".
 */
export abstract class BaseStatefulBolt<T extends State = KeyValueState<unknown, unknown>> implements IStatefulBolt<T> {
  readonly [STATEFUL_BOLT_MARK] = true;
  prepare(_conf: Readonly<TopologyConfig>, _context: TopologyContext, _collector: OutputCollector): void {}
  abstract execute(input: Tuple): void;
  abstract initState(state: T): void;
  prePrepare(_txid: number): void {}
  preCommit(_txid: number): void {}
  preRollback(): void {}
  declareOutputFields(_declarer: OutputFieldsDeclarer): void {}
  cleanup(): void {}
  getComponentConfiguration(): TopologyConfig | null {
    return null;
  }
}

export function isStatefulBolt(bolt: unknown): bolt is IStatefulBolt {
  return typeof bolt === 'object' && bolt !== null && (bolt as Record<string, unknown>)[STATEFUL_BOLT_MARK] === true;
}
