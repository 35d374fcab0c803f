/**
 * What every connector benchmark shares: the topology under test runs in this process (one
 * WorkerRuntime, as the bench's "in" shapes) against a throwaway server from bench/servers; its
 * acked rate is the median of WINDOWS one-second windows after a warm-up; then the raw client loop
 * (the client library alone, doing the same work) runs for RAW_MS on the same server, and the
 * scenario reports {rate, raw, ratio, cpu}.
 *
 * A spout scenario reads a backlog pre-filled before the topology starts; when the topology or
 * the raw loop reads all of it the figure would be the fill's, not the connector's, so the
 * scenario fails saying so (raise the backlog) instead of reporting it.
 */
import { BaseRichSpout, TopologyBuilder, type IBolt, type ISpout, type OutputFieldsDeclarer, type SpoutOutputCollector, type TopologyConfig, type TopologyContext, type Tuple } from '../../topology-api';
import { NullBolt } from '../components';
import { InProcessRun } from '../inprocess';
import { median, rate, sleep, total, type Snapshot } from '../measure';
import { CpuMeter } from '../procfs';
import type { ManagedServer } from '../servers/managed';
import type { ConnectorBenchResult } from './raw';

const WARMUP_MS = 2000;
const WINDOWS = 5;
const WINDOW_MS = 1000;
export const RAW_MS = 4000;
export const PAYLOAD = JSON.stringify({ id: 0, kind: 'view', at: 1_700_000_000_000, from: '10.0.0.1' });

const MAX_SPOUT_PENDING = 5000;
const ACKING: TopologyConfig = { 'topology.max.spout.pending': MAX_SPOUT_PENDING };
/**
 * What one spout task may hold un-acked at the broker with ACKING: its in-flight limit plus its
 * default prefetch buffer (connectors/core `spoutLimits`). The raw consumers get the same window
 * (AMQP prefetch, MQTT receive maximum, JetStream max_ack_pending).
 */
export const BROKER_WINDOW = MAX_SPOUT_PENDING + Math.min(MAX_SPOUT_PENDING, 1000);

/** Numbered tuples `[id, payload]` with a message id each (acking on). */
class NumberSpout extends BaseRichSpout {
  private collector!: SpoutOutputCollector;
  private n = 0;
  constructor(private readonly keys: number) {
    super();
  }
  open(_c: Readonly<TopologyConfig>, _x: TopologyContext, collector: SpoutOutputCollector): void {
    this.collector = collector;
  }
  nextTuple(): void {
    const n = this.n++;
    this.collector.emit([n % this.keys, PAYLOAD], n);
  }
  declareOutputFields(d: OutputFieldsDeclarer): void {
    d.declare(['id', 'p']);
  }
}

/** The payload field of a NumberSpout tuple: sinks that write one value write this, as the raw loops do. */
export const payloadOf = (t: Tuple): string => t.getString(1);

/** `spout` (a connector) → null bolt. */
export function spoutTopology(spout: () => ISpout): TopologyBuilder {
  const b = new TopologyBuilder();
  b.setSpout('spout', spout, 1);
  b.setBolt('sink', NullBolt, 1).shuffleGrouping('spout');
  return b;
}

/** Numbered tuples (ids modulo `keys`) → `sink` (a connector). */
export function sinkTopology(sink: () => IBolt, keys = 1 << 30): TopologyBuilder {
  const b = new TopologyBuilder();
  b.setSpout('spout', () => new NumberSpout(keys), 1);
  b.setBolt('sink', sink, 1).shuffleGrouping('spout');
  return b;
}

/** One scenario's use of its server, opened once the server is up. */
export interface BenchSession {
  topology: TopologyBuilder;
  /**
   * Spouts: the messages pre-filled for the topology (and, separately, for the raw loop); the
   * scenario fails when the topology acked all of them by the last window.
   */
  backlog?: number;
  /** The raw client loop for `ms`, after the topology is closed: messages/s. */
  raw(ms: number): Promise<number>;
  /** Closes what the session opened (not the server). */
  close(): Promise<void>;
  /** Processes the session started (a load generator) whose CPU is the scenario's, not other load. */
  helperPids?(): number[];
}

/** Starts the server, opens the session, measures the topology, then the raw loop; stops everything. */
export async function connectorBench<S extends ManagedServer>(start: () => Promise<S>, open: (server: S) => Promise<BenchSession>): Promise<ConnectorBenchResult> {
  const server = await start();
  try {
    const session = await open(server);
    try {
      const run = InProcessRun.startBuilder(session.topology, ACKING);
      let m;
      try {
        // the server and the helpers are this scenario's load: counted as other load, they made
        // `npm run bench` re-run every broker scenario as "the machine was busy" (RabbitMQ: 123%)
        m = await measure(run, [server.pid, ...(session.helperPids?.() ?? [])]);
      } finally {
        await run.close();
      }
      if (session.backlog !== undefined && m.acked >= session.backlog) {
        throw new Error(`the topology acked all ${session.backlog} pre-filled messages by the last window: raise the backlog`);
      }
      const raw = await session.raw(RAW_MS);
      return { values: { rate: m.rate, raw, ratio: m.rate / raw, cpu: m.cpu }, samples: { rate: m.samples }, workers: [], otherCpuPercent: m.other, checks: [] };
    } finally {
      await session.close();
    }
  } finally {
    await server.stop();
  }
}

/** The error of a raw loop that read its whole backlog before its time was up. */
export function rawRanOut(backlog: number): Error {
  return new Error(`the raw loop read all ${backlog} pre-filled messages before its ${RAW_MS} ms were up: raise the backlog`);
}

/**
 * Per-second acked rate of the spouts' tuples over WINDOWS windows after a warm-up: the median;
 * and the total acked by then. CPU: this process's; other load: the machine's but for this
 * process and `ours`.
 */
async function measure(run: InProcessRun, ours: number[]): Promise<{ rate: number; samples: number[]; cpu: number; other: number; acked: number }> {
  await sleep(WARMUP_MS);
  const meter = new CpuMeter([process.pid, ...ours]);
  let a: Snapshot = await run.snapshot();
  const samples: number[] = [];
  for (let i = 0; i < WINDOWS; i++) {
    await sleep(WINDOW_MS);
    const b = await run.snapshot();
    samples.push(rate(a, b, '*spouts', 'acked'));
    a = b;
  }
  return { rate: median(samples), samples, cpu: meter.percents()[0], other: meter.otherPercent(), acked: total(a, '*spouts', 'acked') };
}
