import type { IBolt, MaybePromise, OutputCollector, OutputFieldsDeclarer, TopologyConfig, TopologyContext, Tuple } from '../../topology-api';
import type { KeyValueLike } from './state-access';
import type { StatefulBoltLike } from './stateful-bolt-executor';

/** What the windowing executor (worker/windowing/) offers a checkpoint. */
export interface SnapshottableWindows extends IBolt {
  readonly user: object;
  snapshot(): unknown;
  restore(snapshot: unknown): void;
}

export function isSnapshottableWindows(bolt: unknown): bolt is SnapshottableWindows {
  const b = bolt as Partial<SnapshottableWindows> | null;
  return typeof b === 'object' && b !== null && typeof b.snapshot === 'function' && typeof b.restore === 'function' && typeof b.user === 'object';
}

/** The key under which a stateful windowed bolt's windows live in its state. */
export const WINDOWS_KEY = '__windows';

interface StatefulHooks {
  initState(state: unknown): void;
  prePrepare?(txid: number): unknown;
  preCommit?(txid: number): unknown;
  preRollback?(): void;
}

/**
 * A stateful windowed bolt as a stateful bolt (Storm's StatefulWindowedBoltExecutor): the window
 * manager's snapshot is put in the bolt's state at every barrier, before the user's prePrepare,
 * so it is committed with it; `initState` first restores the windows, and after a rollback the
 * windows go back to the restored checkpoint's (or to empty, before the first).
 */
export class StatefulWindowsAdapter implements StatefulBoltLike {
  private state: KeyValueLike | null = null;
  private empty: unknown = null;

  constructor(private readonly windows: SnapshottableWindows) {}

  private get hooks(): StatefulHooks {
    return this.windows.user as unknown as StatefulHooks;
  }

  prepare(conf: Readonly<TopologyConfig>, context: TopologyContext, collector: OutputCollector): void {
    this.windows.prepare(conf, context, collector);
    this.empty = this.windows.snapshot();
  }

  execute(input: Tuple): MaybePromise {
    return this.windows.execute(input);
  }

  initState(state: unknown): void {
    this.state = state as KeyValueLike;
    this.restoreWindows();
    this.hooks.initState(state);
  }

  /** After a rollback: the windows of the restored checkpoint. */
  rolledBack(): void {
    this.restoreWindows();
  }

  private restoreWindows(): void {
    const saved = this.state?.get(WINDOWS_KEY, null);
    this.windows.restore(saved === null || saved === undefined ? this.empty : saved);
  }

  prePrepare(txid: number): unknown {
    this.state?.put(WINDOWS_KEY, this.windows.snapshot());
    return this.hooks.prePrepare?.(txid);
  }

  preCommit(txid: number): unknown {
    return this.hooks.preCommit?.(txid);
  }

  preRollback(): void {
    this.hooks.preRollback?.();
  }

  cleanup(): void {
    this.windows.cleanup?.();
  }

  declareOutputFields(declarer: OutputFieldsDeclarer): void {
    this.windows.declareOutputFields(declarer);
  }

  getComponentConfiguration(): TopologyConfig | null | undefined {
    return this.windows.getComponentConfiguration?.();
  }
}
