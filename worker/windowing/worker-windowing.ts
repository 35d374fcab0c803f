import {
  WATERMARK_STREAM_ID,
  isWindowedBoltHolder,
  isWindowedConfig,
  windowSpec,
  type IBolt,
  type TopologyConfig,
  type TopologyDefinition,
  type TupleImpl,
} from '../../topology-api';
import type { Clock, TimerHandle } from '../../common/clock';
import type { TopologyLayout } from '../../common/topology-layout';
import type { BoltTask, SpoutTask } from '../tasks';
import { sumWindowStats, type WindowingStats } from '../../common/window-stats';
import { WindowedBoltExecutor } from './executor';

/** What the worker's windowing needs of the runtime. */
export interface WindowingRuntime {
  onSystemStream(streamId: string, handler: (task: BoltTask, tuple: TupleImpl) => void): void;
}

/**
 * A worker's windowing: turns windowed bolts' holders into windowing executors, hands them the
 * `__watermark` tuples that reach them, sends the progress markers of this worker's tasks to the
 * event-time windowed bolts they feed (one timer per marker interval), and reports window stats.
 */
export class WorkerWindowing {
  private readonly executors = new Map<number, WindowedBoltExecutor>();
  private readonly timers: TimerHandle[] = [];

  constructor(
    private readonly clock: Clock,
    private readonly layout: TopologyLayout,
    private readonly definition: TopologyDefinition,
    private readonly config: Readonly<TopologyConfig>,
  ) {}

  private componentConfig(id: string): TopologyConfig {
    return { ...this.config, ...(this.definition.bolts[id]?.config ?? {}) };
  }

  /** The bolt a task runs: the windowing executor for a windowed bolt, `made` for any other. */
  boltFor(task: BoltTask, made: IBolt): IBolt {
    if (!isWindowedBoltHolder(made)) return made;
    const inputs = new Set<number>();
    for (const input of this.definition.bolts[task.component].inputs) for (const t of this.layout.componentTasks[input.component] ?? []) inputs.add(t);
    const ex = new WindowedBoltExecutor(made.bolt, task, { clock: this.clock, streams: this.layout.streams, inputTasks: [...inputs].sort((a, b) => a - b) });
    this.executors.set(task.taskId, ex);
    return ex;
  }

  /** After every task started: watermark tuples to the executors, and this worker's progress markers. */
  start(runtime: WindowingRuntime, spouts: readonly SpoutTask[], bolts: readonly BoltTask[]): void {
    if (this.executors.size > 0) runtime.onSystemStream(WATERMARK_STREAM_ID, (task, tuple) => this.executors.get(task.taskId)?.onSystem(tuple));
    this.startMarkers([...spouts, ...bolts]);
  }

  /**
   * Every task feeding an event-time windowed bolt tells that bolt's tasks, at its watermark
   * interval, that everything it emitted before has been sent (a `__watermark` tuple with a null
   * value, in band behind the data): how the bolt tells an idle input from a slow one.
   */
  private startMarkers(tasks: ReadonlyArray<SpoutTask | BoltTask>): void {
    const intervalOf = new Map<number, number>(); // event-time windowed bolt task → marker interval
    for (const id of Object.keys(this.definition.bolts)) {
      const conf = this.componentConfig(id);
      if (!isWindowedConfig(conf)) continue;
      const spec = windowSpec(conf);
      if (!spec.eventTime) continue;
      for (const t of this.layout.componentTasks[id]) intervalOf.set(t, spec.watermarkIntervalMs);
    }
    if (intervalOf.size === 0) return;
    const byInterval = new Map<number, Array<{ task: SpoutTask | BoltTask; targets: number[] }>>();
    for (const task of tasks) {
      const targets = new Map<number, number[]>();
      for (const d of task.downstreamTasks()) {
        const interval = intervalOf.get(d);
        if (interval === undefined) continue;
        let list = targets.get(interval);
        if (list === undefined) targets.set(interval, (list = []));
        list.push(d);
      }
      for (const [interval, list] of targets) {
        let group = byInterval.get(interval);
        if (group === undefined) byInterval.set(interval, (group = []));
        group.push({ task, targets: list });
      }
    }
    for (const [interval, group] of byInterval) {
      this.timers.push(
        this.clock.setInterval(() => {
          for (const { task, targets } of group) task.emitSystem(WATERMARK_STREAM_ID, [null], targets);
        }, interval),
      );
    }
  }

  /** The windowing executor of a task, if it runs a windowed bolt (checkpoints reach its snapshot/restore here). */
  executor(taskId: number): WindowedBoltExecutor | undefined {
    return this.executors.get(taskId);
  }

  /** Window figures summed over the windowed tasks of tasks [start, end]; the lowest watermark. */
  stats(start: number, end: number): WindowingStats | undefined {
    const list: WindowingStats[] = [];
    for (let t = start; t <= end; t++) {
      const ex = this.executors.get(t);
      if (ex !== undefined) list.push(ex.stats());
    }
    return sumWindowStats(list);
  }

  close(): void {
    for (const t of this.timers) this.clock.clear(t);
    this.timers.length = 0;
  }
}
