import { Config, type TopologyConfig } from '../config';
import type { IComponent, OutputCollector, OutputFieldsDeclarer, TopologyContext } from '../components';
import { squallError } from '../errors';
import type { Tuple } from '../tuple';
import type { Aggregate } from './aggregate';
import { isCount, isDuration, type Count, type Duration, type WindowLength } from './lengths';
import type { TupleWindow, WindowInfo } from './window';

/** Storm's `TimestampExtractor`: the event time (ms) of a tuple. */
export interface TimestampExtractor {
  extractTimestamp(tuple: Tuple): number;
}

/** The one field late tuples carry on the late tuple stream (Storm's name). */
export const LATE_TUPLE_FIELD = 'late_tuple';

/** Marks windowed bolts so the builder and the worker recognise them across bundle copies. */
export const WINDOWED_BOLT_MARK = 'squall.windowedBolt';

/**
 * Storm's `IWindowedBolt`: a bolt that gets windows of tuples. Outputs emitted from `execute` are
 * anchored to every tuple of the window; each tuple is acked when it leaves the last window that
 * holds it. With `withAggregate`, `executeAggregate` gets one result per key and window instead.
 */
export interface IWindowedBolt extends IComponent {
  readonly [WINDOWED_BOLT_MARK]: true;
  prepare?(conf: Readonly<TopologyConfig>, context: TopologyContext, collector: OutputCollector): void;
  execute(window: TupleWindow): void;
  /** Incremental aggregation: called once per key of each fired window with the aggregate's result. */
  executeAggregate?(key: unknown, result: unknown, window: WindowInfo): void;
  cleanup?(): void;
  getTimestampExtractor?(): TimestampExtractor | null;
  getAggregate?(): Aggregate | null;
}

export function isWindowedBolt(bolt: unknown): bolt is IWindowedBolt {
  return typeof bolt === 'object' && bolt !== null && (bolt as Record<string, unknown>)[WINDOWED_BOLT_MARK] === true;
}

function lengthKeys(which: 'length' | 'slide'): [string, string] {
  return which === 'length'
    ? [Config.TOPOLOGY_BOLTS_WINDOW_LENGTH_COUNT, Config.TOPOLOGY_BOLTS_WINDOW_LENGTH_DURATION_MS]
    : [Config.TOPOLOGY_BOLTS_SLIDING_INTERVAL_COUNT, Config.TOPOLOGY_BOLTS_SLIDING_INTERVAL_DURATION_MS];
}

/**
 * Storm's `BaseWindowedBolt`. The builders write Storm's configuration keys into the component
 * configuration (`getComponentConfiguration()`), where Nimbus validates them at submission; the
 * timestamp extractor and the aggregate are code, and stay on the instance.
 *
 * ```ts
 * class Sum extends BaseWindowedBolt {
 *   execute(window: TupleWindow) { ... }
 * }
 * builder.setBolt('sum', new Sum().withWindow(Duration.seconds(60), Duration.seconds(1)).withTimestampField('ts'))
 * ```
 */
export abstract class BaseWindowedBolt implements IWindowedBolt {
  readonly [WINDOWED_BOLT_MARK] = true as const;
  protected windowConfiguration: TopologyConfig = {};
  protected timestampExtractor: TimestampExtractor | null = null;
  protected aggregate: Aggregate | null = null;

  /** Like `IBolt.prepare`; emits through `collector` from `execute` are anchored to the window's tuples. */
  prepare(_conf: Readonly<TopologyConfig>, _context: TopologyContext, _collector: OutputCollector): void {}

  /** Called with each window (not used with `withAggregate`). */
  execute(_window: TupleWindow): void {
    throw squallError('ERR_WINDOW_INVALID', 'a windowed bolt must override execute(window), or set withAggregate and override executeAggregate');
  }

  declareOutputFields(_declarer: OutputFieldsDeclarer): void {}
  cleanup(): void {}

  getComponentConfiguration(): TopologyConfig {
    return this.windowConfiguration;
  }

  getTimestampExtractor(): TimestampExtractor | null {
    return this.timestampExtractor;
  }

  getAggregate(): Aggregate | null {
    return this.aggregate;
  }

  private setLength(which: 'length' | 'slide', value: WindowLength): void {
    const [countKey, msKey] = lengthKeys(which);
    delete this.windowConfiguration[countKey];
    delete this.windowConfiguration[msKey];
    if (isCount(value)) this.windowConfiguration[countKey] = value.value;
    else if (isDuration(value)) this.windowConfiguration[msKey] = value.value;
    else throw squallError('ERR_CONFIG_INVALID', `a window ${which} must be Count.of(n) or a Duration (got ${String(value)})`);
  }

  /**
   * A sliding window of `length` that slides by `slide` (each a `Count` or a `Duration`); without
   * `slide` it slides on every tuple, as in Storm.
   */
  withWindow(length: WindowLength, slide?: WindowLength): this {
    delete this.windowConfiguration[Config.TOPOLOGY_BOLTS_WINDOW_SESSION_GAP_MS];
    this.setLength('length', length);
    this.setLength('slide', slide ?? ({ kind: 'count', value: 1 } as Count));
    return this;
  }

  /** Windows of `length` that do not overlap (the slide is the length). */
  withTumblingWindow(length: WindowLength): this {
    return this.withWindow(length, length);
  }

  /**
   * Session windows (beyond Storm): a window closes after `gap` with no tuple, and two sessions
   * merge when a tuple bridges them. Per key with `withKeyField`.
   */
  withSessionWindow(gap: Duration): this {
    if (!isDuration(gap)) throw squallError('ERR_CONFIG_INVALID', 'a session gap must be a Duration');
    for (const k of [...lengthKeys('length'), ...lengthKeys('slide')]) delete this.windowConfiguration[k];
    this.windowConfiguration[Config.TOPOLOGY_BOLTS_WINDOW_SESSION_GAP_MS] = gap.value;
    return this;
  }

  /** Event time: each tuple's timestamp (ms) is in this field. */
  withTimestampField(fieldName: string): this {
    this.windowConfiguration[Config.TOPOLOGY_BOLTS_TUPLE_TIMESTAMP_FIELD_NAME] = fieldName;
    delete this.windowConfiguration[Config.TOPOLOGY_BOLTS_TUPLE_TIMESTAMP_EXTRACTOR];
    this.timestampExtractor = null;
    return this;
  }

  /** Event time: each tuple's timestamp (ms) is what `extractor` returns. */
  withTimestampExtractor(extractor: TimestampExtractor | ((tuple: Tuple) => number)): this {
    this.timestampExtractor = typeof extractor === 'function' ? { extractTimestamp: extractor } : extractor;
    delete this.windowConfiguration[Config.TOPOLOGY_BOLTS_TUPLE_TIMESTAMP_FIELD_NAME];
    this.windowConfiguration[Config.TOPOLOGY_BOLTS_TUPLE_TIMESTAMP_EXTRACTOR] = true;
    return this;
  }

  /** Event time: the most a tuple's timestamp may lag behind the newest one seen (out-of-orderness). */
  withLag(lag: Duration): this {
    this.windowConfiguration[Config.TOPOLOGY_BOLTS_TUPLE_TIMESTAMP_MAX_LAG_MS] = lag.value;
    return this;
  }

  /** Event time: how often upstream tasks send progress markers (which tell idle inputs apart). */
  withWatermarkInterval(interval: Duration): this {
    this.windowConfiguration[Config.TOPOLOGY_BOLTS_WATERMARK_EVENT_INTERVAL_MS] = interval.value;
    return this;
  }

  /** Event time: an input task with no data for `timeout` stops holding windows back (0: never). */
  withIdleness(timeout: Duration): this {
    this.windowConfiguration[Config.TOPOLOGY_BOLTS_WATERMARK_IDLE_TIMEOUT_MS] = timeout.value;
    return this;
  }

  /** Late tuples are emitted on `streamId` (one field, `late_tuple`: the tuple's values) instead of being dropped. */
  withLateTupleStream(streamId: string): this {
    this.windowConfiguration[Config.TOPOLOGY_BOLTS_LATE_TUPLE_STREAM] = streamId;
    return this;
  }

  /** Event time: a fired window still takes late tuples for this long, and fires again (as an update). */
  withAllowedLateness(lateness: Duration): this {
    this.windowConfiguration[Config.TOPOLOGY_BOLTS_WINDOW_ALLOWED_LATENESS_MS] = lateness.value;
    return this;
  }

  /** Windows per value of this field (Flink's keyed windows): per-key counts, sessions and results. */
  withKeyField(fieldName: string): this {
    this.windowConfiguration[Config.TOPOLOGY_BOLTS_WINDOW_KEY_FIELD] = fieldName;
    return this;
  }

  /**
   * Incremental aggregation: keep one accumulator per key and window instead of the tuples, and
   * call `executeAggregate(key, result, window)` when a window fires.
   */
  withAggregate(aggregate: Aggregate<any, any>): this {
    this.aggregate = aggregate as Aggregate;
    return this;
  }

  /** The most tuples one task holds (buffered windows, out-of-order tuples); past it new ones fail. */
  withMaxBufferedTuples(n: number): this {
    this.windowConfiguration[Config.TOPOLOGY_BOLTS_WINDOW_MAX_BUFFERED_TUPLES] = n;
    return this;
  }
}

/**
 * What `TopologyBuilder.setBolt` makes of a windowed bolt: a rich bolt that declares its outputs
 * (plus the late tuple stream) and configuration. The worker replaces it with its windowing
 * executor (`worker/windowing/`), as Storm wraps an `IWindowedBolt` in `WindowedBoltExecutor`.
 */
export class WindowedBoltHolder {
  readonly [WINDOWED_BOLT_MARK] = 'holder';
  constructor(readonly bolt: IWindowedBolt) {}

  prepare(): void {
    throw squallError('ERR_INTERNAL', 'a windowed bolt ran outside the windowing runtime');
  }
  execute(): void {
    throw squallError('ERR_INTERNAL', 'a windowed bolt ran outside the windowing runtime');
  }

  declareOutputFields(declarer: OutputFieldsDeclarer): void {
    this.bolt.declareOutputFields(declarer);
    const late = this.getComponentConfiguration()?.[Config.TOPOLOGY_BOLTS_LATE_TUPLE_STREAM];
    if (typeof late === 'string') declarer.declareStream(late, [LATE_TUPLE_FIELD]);
  }

  getComponentConfiguration(): TopologyConfig | null | undefined {
    return this.bolt.getComponentConfiguration?.();
  }
}

export function isWindowedBoltHolder(bolt: unknown): bolt is WindowedBoltHolder {
  return typeof bolt === 'object' && bolt !== null && (bolt as Record<string, unknown>)[WINDOWED_BOLT_MARK] === 'holder';
}
