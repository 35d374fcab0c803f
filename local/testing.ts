import {
  BaseRichSpout,
  DEFAULT_STREAM_ID,
  type TopologyBuilder,
  squallError,
  type IBolt,
  type ISpout,
  type OutputCollector,
  type OutputFieldsDeclarer,
  type SpoutOutputCollector,
  type StormTopology,
  type TopologyConfig,
  type TopologyContext,
  type Tuple,
} from '../topology-api';
import { LocalCluster, toStormTopology } from './local-cluster';
import type { TopologyInfo } from './topology-info';

/** Mocked spout data: spout id → tuples for its default stream, or stream id → tuples. */
export type MockedSources = Record<string, unknown[][] | Record<string, unknown[][]>>;

export interface CompleteTopologyOptions {
  mockedSources?: MockedSources;
  config?: TopologyConfig;
  /** Real-time bound on the run (default 10 s); past it, ERR_TIMEOUT. */
  timeoutMs?: number;
  /** Run in this cluster (left running) instead of a fresh one (closed afterwards). */
  cluster?: LocalCluster;
  name?: string;
}

export interface CompleteTopologyResult {
  /** Every tuple each component emitted, by stream, in emit order. */
  emitted: Record<string, Record<string, unknown[][]>>;
  /** Storm's `Testing.readTuples`. */
  readTuples(component: string, stream?: string): unknown[][];
  info: TopologyInfo;
}

/** Emits fixed tuples, each with a message id, spread over the spout's tasks (Storm's FixedTupleSpout). */
class FixedTupleSpout extends BaseRichSpout {
  private collector!: SpoutOutputCollector;
  private queue: Array<[string, unknown[]]> = [];
  private next = 0;
  acked = 0;

  constructor(private readonly data: Record<string, unknown[][]>) {
    super();
  }
  open(_conf: Readonly<TopologyConfig>, context: TopologyContext, collector: SpoutOutputCollector): void {
    this.collector = collector;
    const tasks = context.getComponentTasks(context.getThisComponentId()).length;
    const index = context.getThisTaskIndex();
    let i = 0;
    for (const [stream, tuples] of Object.entries(this.data)) {
      for (const values of tuples) {
        if (i % tasks === index) this.queue.push([stream, values]);
        i++;
      }
    }
  }
  nextTuple(): void {
    if (this.next >= this.queue.length) return;
    const [stream, values] = this.queue[this.next];
    this.collector.emit(values, `${this.next}`, stream);
    this.next++;
  }
  declareOutputFields(_declarer: OutputFieldsDeclarer): void {
    // the definition keeps the real spout's declarations
  }
}

type Record_ = (component: string, stream: string, values: unknown[]) => void;

function recordingSpout(inner: ISpout, component: string, record: Record_): ISpout {
  return {
    open: (conf, context, collector) =>
      inner.open(conf, context, {
        emit: (values, messageId, streamId) => {
          const sent = collector.emit(values, messageId, streamId);
          record(component, streamId ?? DEFAULT_STREAM_ID, values);
          return sent;
        },
        emitDirect: (taskId, values, messageId, streamId) => {
          collector.emitDirect(taskId, values, messageId, streamId);
          record(component, streamId ?? DEFAULT_STREAM_ID, values);
        },
        reportError: (e) => collector.reportError(e),
        getPendingCount: () => collector.getPendingCount(),
      }),
    nextTuple: () => inner.nextTuple(),
    ack: (id) => inner.ack?.(id),
    fail: (id) => inner.fail?.(id),
    activate: () => inner.activate?.(),
    deactivate: () => inner.deactivate?.(),
    close: () => inner.close?.(),
    declareOutputFields: (d) => inner.declareOutputFields(d),
  };
}

function recordingBolt(inner: IBolt, component: string, record: Record_): IBolt {
  return {
    prepare: (conf, context, collector) => {
      const wrapped: OutputCollector = {
        emit: (values, anchors, streamId) => {
          const sent = collector.emit(values, anchors, streamId);
          record(component, streamId ?? DEFAULT_STREAM_ID, values);
          return sent;
        },
        emitDirect: (taskId, values, anchors, streamId) => {
          collector.emitDirect(taskId, values, anchors, streamId);
          record(component, streamId ?? DEFAULT_STREAM_ID, values);
        },
        ack: (t: Tuple) => collector.ack(t),
        fail: (t: Tuple) => collector.fail(t),
        resetTimeout: (t: Tuple) => collector.resetTimeout(t),
        reportError: (e) => collector.reportError(e),
      };
      inner.prepare(conf, context, wrapped);
    },
    execute: (t) => inner.execute(t),
    cleanup: () => inner.cleanup?.(),
    declareOutputFields: (d) => inner.declareOutputFields(d),
  };
}

const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 2));

/**
 * Storm's `Testing.completeTopology`: runs a topology in a LocalCluster with mocked spout data
 * until every spout tuple is acked or failed and nothing is left to do, and returns every tuple
 * each component emitted. Spouts without mocked data run as written and must run dry.
 */
export async function completeTopology(topology: StormTopology | TopologyBuilder, options: CompleteTopologyOptions = {}): Promise<CompleteTopologyResult> {
  const built = toStormTopology(topology);
  const emitted: Record<string, Record<string, unknown[][]>> = {};
  const record: Record_ = (component, stream, values) => {
    ((emitted[component] ??= {})[stream] ??= []).push([...values]);
  };
  const mocked = options.mockedSources ?? {};
  for (const id of Object.keys(mocked)) {
    if (!built.definition.spouts[id]) throw squallError('ERR_COMPONENT_NOT_FOUND', `mocked source "${id}" is not a spout of this topology`);
  }
  const spouts: Record<string, () => ISpout> = {};
  for (const [id, make] of Object.entries(built.factories.spouts)) {
    const data = mocked[id];
    const streams = data === undefined ? null : Array.isArray(data) ? { [DEFAULT_STREAM_ID]: data } : data;
    spouts[id] = () => recordingSpout(streams ? new FixedTupleSpout(streams) : make(), id, record);
  }
  const bolts: Record<string, () => IBolt> = {};
  for (const [id, make] of Object.entries(built.factories.bolts)) bolts[id] = () => recordingBolt(make(), id, record);
  const wrapped: StormTopology = { ...built, factories: { ...built.factories, spouts, bolts } };

  const cluster = options.cluster ?? new LocalCluster();
  const name = options.name ?? `complete-${Date.now().toString(36)}`;
  const deadline = performance.now() + (options.timeoutMs ?? 10_000);
  try {
    await cluster.submitTopology(name, options.config ?? {}, wrapped);
    // quiescent twice in a row: a spout may have been between calls the first time
    let quiet = 0;
    while (quiet < 2) {
      if (performance.now() > deadline) throw squallError('ERR_TIMEOUT', `topology did not complete within ${options.timeoutMs ?? 10_000} ms`);
      await tick();
      quiet = (await cluster.isQuiescent(name)) ? quiet + 1 : 0;
    }
    const info = await cluster.getTopologyInfo(name);
    await cluster.killTopology(name, { waitSecs: 0 });
    return {
      emitted,
      info,
      readTuples: (component, stream = DEFAULT_STREAM_ID) => emitted[component]?.[stream] ?? [],
    };
  } finally {
    if (!options.cluster) await cluster.close();
  }
}
