import type { MetricRegistrar } from './metrics';
import type { TopologyConfig } from './config';
import { Fields, toFields } from './fields';
import type { Tuple } from './tuple';
import { DEFAULT_STREAM_ID } from './constants';

/** Declares a component's output streams (Storm's `OutputFieldsDeclarer`). */
export interface OutputFieldsDeclarer {
  /** Declares the default stream; `declare(true, fields)` declares it as a direct stream. */
  declare(fields: Fields | readonly string[]): void;
  declare(direct: boolean, fields: Fields | readonly string[]): void;
  declareStream(streamId: string, fields: Fields | readonly string[]): void;
  declareStream(streamId: string, direct: boolean, fields: Fields | readonly string[]): void;
}

export interface StreamDeclaration {
  fields: string[];
  direct: boolean;
}

/** Collects declarations; duplicates are recorded as problems for validation to report. */
export class OutputFieldsGetter implements OutputFieldsDeclarer {
  readonly streams: Record<string, StreamDeclaration> = {};
  readonly problems: string[] = [];

  declare(a: boolean | Fields | readonly string[], b?: Fields | readonly string[]): void {
    if (typeof a === 'boolean') this.declareStream(DEFAULT_STREAM_ID, a, b as Fields | readonly string[]);
    else this.declareStream(DEFAULT_STREAM_ID, false, a);
  }

  declareStream(streamId: string, a: boolean | Fields | readonly string[], b?: Fields | readonly string[]): void {
    const direct = typeof a === 'boolean' ? a : false;
    const fields = typeof a === 'boolean' ? b : a;
    if (typeof streamId !== 'string' || streamId.length === 0) {
      this.problems.push(`stream id must be a non-empty string (got ${JSON.stringify(streamId)})`);
      return;
    }
    if (Object.prototype.hasOwnProperty.call(this.streams, streamId)) {
      this.problems.push(`stream "${streamId}" is declared twice`);
      return;
    }
    if (fields === undefined || fields === null) {
      this.problems.push(`stream "${streamId}" is declared without fields`);
      return;
    }
    this.streams[streamId] = { fields: toFields(fields).toList(), direct };
  }
}

/** What every component may implement (Storm's `IComponent`). */
export interface IComponent {
  declareOutputFields(declarer: OutputFieldsDeclarer): void;
  getComponentConfiguration?(): TopologyConfig | null | undefined;
}

/** What a running task can ask about the topology (Storm's `TopologyContext`). */
/** Storm's TopologyContext, with Storm's metrics v2 registration (`registerCounter`, ...: metrics.ts). */
export interface TopologyContext extends MetricRegistrar {
  /** The topology id (Storm's "storm id"). */
  getStormId(): string;
  getThisComponentId(): string;
  getThisTaskId(): number;
  /** 0-based index of this task among its component's tasks. */
  getThisTaskIndex(): number;
  getThisWorkerPort(): number;
  getThisWorkerTasks(): number[];
  getComponentId(taskId: number): string | undefined;
  getComponentTasks(componentId: string): number[];
  getComponentIds(): string[];
  getThisStreams(): string[];
  getThisOutputFields(streamId?: string): Fields;
  getComponentOutputFields(componentId: string, streamId?: string): Fields;
  /** Inputs of this component: `component:stream` → grouping type. */
  getThisSources(): Record<string, string>;
  /** Subscribers of this component's streams: stream → (component → grouping type). */
  getThisTargets(): Record<string, Record<string, string>>;
  getThisComponentConfig(): Readonly<TopologyConfig>;
}

export interface SpoutOutputCollector {
  /** Emits a tuple; with a message id it is tracked and `ack`/`fail` is later called with that id. Returns the task ids it went to. */
  emit(values: unknown[], messageId?: unknown, streamId?: string): number[];
  emitDirect(taskId: number, values: unknown[], messageId?: unknown, streamId?: string): void;
  reportError(error: unknown): void;
  /** Tracked tuples not yet acked or failed, for this task. */
  getPendingCount(): number;
}

export interface OutputCollector {
  /** Emits a tuple anchored to `anchors` (none: untracked). Returns the task ids it went to. */
  emit(values: unknown[], anchors?: Tuple | readonly Tuple[] | null, streamId?: string): number[];
  emitDirect(taskId: number, values: unknown[], anchors?: Tuple | readonly Tuple[] | null, streamId?: string): void;
  ack(input: Tuple): void;
  fail(input: Tuple): void;
  /** Restarts the message timeout of every spout tuple `input` descends from. */
  resetTimeout(input: Tuple): void;
  reportError(error: unknown): void;
}

export interface BasicOutputCollector {
  /** Emits anchored to the tuple being executed. */
  emit(values: unknown[], streamId?: string): number[];
  emitDirect(taskId: number, values: unknown[], streamId?: string): void;
  resetTimeout(input: Tuple): void;
  reportError(error: unknown): void;
}

/**
 * What a callback that may do asynchronous work returns: nothing (it is done when it returns) or a
 * promise (it is done when the promise settles). See docs/writing-topologies.md, "Asynchronous
 * bolts and spouts".
 */
export type MaybePromise = void | PromiseLike<void>;

export interface ISpout extends IComponent {
  open(conf: Readonly<TopologyConfig>, context: TopologyContext, collector: SpoutOutputCollector): void;
  /** A promise: this task's `nextTuple` is not called again until it settles (a rejection is reported). */
  nextTuple(): MaybePromise;
  close?(): MaybePromise;
  activate?(): MaybePromise;
  deactivate?(): MaybePromise;
  /** A promise is not waited for; a rejection is reported. */
  ack?(msgId: unknown): MaybePromise;
  fail?(msgId: unknown): MaybePromise;
}

export interface IBolt extends IComponent {
  prepare(conf: Readonly<TopologyConfig>, context: TopologyContext, collector: OutputCollector): void;
  /**
   * A promise is the input's processing: it counts against `topology.bolt.max.inflight`, a
   * rejection fails the input and reports the error, and one still pending after
   * `topology.async.timeout.secs` fails the input.
   */
  execute(input: Tuple): MaybePromise;
  cleanup?(): void;
}

export interface IBasicBolt extends IComponent {
  prepare?(conf: Readonly<TopologyConfig>, context: TopologyContext): void;
  /** A promise: every emit until it settles is anchored to `input`, which is acked when it resolves and failed when it rejects. */
  execute(input: Tuple, collector: BasicOutputCollector): MaybePromise;
  cleanup?(): void;
}

/** Storm's `BaseRichSpout`: override what you need. */
export abstract class BaseRichSpout implements ISpout {
  abstract open(conf: Readonly<TopologyConfig>, context: TopologyContext, collector: SpoutOutputCollector): void;
  abstract nextTuple(): MaybePromise;
  abstract declareOutputFields(declarer: OutputFieldsDeclarer): void;
  close(): MaybePromise {}
  activate(): MaybePromise {}
  deactivate(): MaybePromise {}
  ack(_msgId: unknown): MaybePromise {}
  fail(_msgId: unknown): MaybePromise {}
  getComponentConfiguration(): TopologyConfig | null {
    return null;
  }
}

/** Storm's `BaseRichBolt`: you ack or fail every input yourself. */
export abstract class BaseRichBolt implements IBolt {
  abstract prepare(conf: Readonly<TopologyConfig>, context: TopologyContext, collector: OutputCollector): void;
  abstract execute(input: Tuple): MaybePromise;
  declareOutputFields(_declarer: OutputFieldsDeclarer): void {}
  cleanup(): void {}
  getComponentConfiguration(): TopologyConfig | null {
    return null;
  }
}

/** Marks basic bolts so the builder can wrap them (Storm overloads `setBolt` by type instead). */
export const BASIC_BOLT_MARK = 'squall.basicBolt';

/**
 * Storm's `BaseBasicBolt`: emits are anchored to the input, the input is acked after `execute`
 * returns (or the promise it returns resolves), and a thrown `FailedException` (or a rejection with
 * one) fails it instead.
 */
export abstract class BaseBasicBolt implements IBasicBolt {
  readonly [BASIC_BOLT_MARK] = true;
  prepare(_conf: Readonly<TopologyConfig>, _context: TopologyContext): void {}
  abstract execute(input: Tuple, collector: BasicOutputCollector): MaybePromise;
  declareOutputFields(_declarer: OutputFieldsDeclarer): void {}
  cleanup(): void {}
  getComponentConfiguration(): TopologyConfig | null {
    return null;
  }
}

export function isBasicBolt(bolt: unknown): bolt is IBasicBolt {
  return typeof bolt === 'object' && bolt !== null && (bolt as Record<string, unknown>)[BASIC_BOLT_MARK] === true;
}

/** Storm's `CustomStreamGrouping`. */
export interface CustomStreamGrouping {
  prepare(context: TopologyContext, stream: { componentId: string; streamId: string }, targetTasks: number[]): void;
  chooseTasks(taskId: number, values: readonly unknown[]): number[];
}
