import { resolveTopologyConfig, type ComponentFactories, type TopologyConfig } from '../../../topology-api';
import { SystemClock } from '../../../common/clock';
import { silentLogger } from '../../../common/logging';
import { computeLayout, type ExecutorRange } from '../../../common/topology-layout';
import { ReportBolt, SENTENCES, SentenceSpout } from '../../../examples/word-count/components';
import { buildWordCount } from '../../../examples/word-count/topology';
import { RemoteRouter } from '../../../worker/remote';
import { WorkerRuntime } from '../../../worker/runtime';
import { MemoryHub, MemoryTransport } from '../../../worker/transport/memory-transport';
import type { PeerAddress, Transport } from '../../../worker/transport/types';
import { WsTransport } from '../../../worker/transport/ws-transport';
import { waitFor } from '../../unit/transport/helpers';

// Two WorkerRuntimes in one process, each with its own transport, running word count with its
// executors split in halves: __acker + count in A; report, sentences and split in B. Words go
// B→A (split → count), counts come back A→B (count → report), and the acker traffic crosses both
// ways. Set SQUALL_PRINT_RATE=1 to print the observed rate.

const WORKERS = ['A', 'B'] as const;
type Key = (typeof WORKERS)[number];

function expectedCounts(limit: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i < limit; i++) for (const w of SENTENCES[i % SENTENCES.length].split(' ')) counts.set(w, (counts.get(w) ?? 0) + 1);
  return counts;
}

interface Cluster {
  runtimes: Record<Key, WorkerRuntime>;
  routers: Record<Key, RemoteRouter>;
  transports: Record<Key, Transport>;
  spouts: SentenceSpout[];
  reports: ReportBolt[];
  close(): Promise<void>;
}

async function startCluster(limit: number, extra: TopologyConfig, makeTransport: (key: Key, config: Readonly<TopologyConfig>) => Transport, portOf: (t: Transport) => number): Promise<Cluster> {
  const reports: ReportBolt[] = [];
  const spouts: SentenceSpout[] = [];
  const topology = buildWordCount({ limit, splitters: 2, counters: 2, report: () => (reports.push(new ReportBolt(() => {})), reports[reports.length - 1]) }).createTopology();
  reports.length = 0; // createTopology() made one to declare its outputs; keep only the tasks'
  const config = resolveTopologyConfig(topology.config, { 'topology.workers': 2, 'topology.random.seed': 7 }, extra);
  const factories: ComponentFactories = {
    ...topology.factories,
    spouts: {
      sentences: () => {
        const s = topology.factories.spouts.sentences() as SentenceSpout;
        spouts.push(s);
        return s;
      },
    },
  };
  const layout = computeLayout(topology.definition, config);
  const inA = new Set(['__acker', 'count']);
  const ranges: Record<Key, ExecutorRange[]> = { A: layout.executors.filter((e) => inA.has(e.component)), B: layout.executors.filter((e) => !inA.has(e.component)) };
  const workerOf: string[] = [];
  for (const key of WORKERS) for (const r of ranges[key]) for (let t = r.start; t <= r.end; t++) workerOf[t] = key;

  const runtimes = {} as Record<Key, WorkerRuntime>;
  const routers = {} as Record<Key, RemoteRouter>;
  const transports = {} as Record<Key, Transport>;
  for (const key of WORKERS) {
    const transport = makeTransport(key, config);
    const router = new RemoteRouter({ transport });
    const runtime = new WorkerRuntime({
      topologyId: 'wc-test',
      definition: topology.definition,
      factories,
      config,
      executors: ranges[key],
      clock: new SystemClock(),
      logger: silentLogger(),
      remote: router,
    });
    router.attach(runtime);
    await transport.listen();
    runtimes[key] = runtime;
    routers[key] = router;
    transports[key] = transport;
  }
  const peers = new Map<string, PeerAddress>(WORKERS.map((k) => [k, { host: '127.0.0.1', port: portOf(transports[k]) }]));
  for (const key of WORKERS) routers[key].updateAssignment((task) => workerOf[task], peers);
  for (const key of WORKERS) runtimes[key].start();
  return {
    runtimes,
    routers,
    transports,
    spouts,
    reports,
    async close() {
      for (const key of WORKERS) runtimes[key].close();
      for (const key of WORKERS) routers[key].close();
      await Promise.all(WORKERS.map((k) => transports[k].close()));
    },
  };
}

async function runWordCount(name: string, limit: number, extra: TopologyConfig, make: (key: Key, config: Readonly<TopologyConfig>) => Transport, portOf: (t: Transport) => number) {
  const expected = expectedCounts(limit);
  const words = [...expected.values()].reduce((a, b) => a + b, 0);
  const started = performance.now();
  const c = await startCluster(limit, extra, make, portOf);
  try {
    const tracking = extra['topology.acker.executors'] !== 0;
    const reported = (): number => [...c.reports[0].counts.values()].reduce((a, b) => a + b, 0);
    // on a stall, say where everything stands (queues, links, pending trees)
    const state = (): string => {
      const link = (k: Key) => {
        const s = c.transports[k].stats();
        return { tuplesIn: s.tuplesIn, acksIn: s.acksIn, pausedLinks: s.pausedLinks, outboxes: s.outboxes.map((o) => ({ full: o.full, remoteBackpressure: o.remoteBackpressure, sent: o.tuplesSent })) };
      };
      return JSON.stringify({ reported: reported(), acked: c.spouts[0]?.acked, A: link('A'), B: link('B'), pendingA: c.runtimes.A.pendingCounts(), pendingB: c.runtimes.B.pendingCounts() });
    };
    await waitFor('every word reported', () => c.reports.length === 1 && reported() === words, 20_000).catch((err: Error) => {
      throw new Error(`${err.message}: ${state()}`);
    });
    if (tracking) await waitFor('every sentence acked', () => c.spouts[0].acked === limit, 10_000);
    const ms = performance.now() - started;
    if (process.env.SQUALL_PRINT_RATE) {
      process.stdout.write(`${name}: ${limit} sentences, ${words} words in ${ms.toFixed(0)} ms = ${((words / ms) * 1000).toFixed(0)} words/s\n`);
    }
    expect(c.spouts).toHaveLength(1);
    expect(c.spouts[0].acked).toBe(limit);
    expect(c.spouts[0].failed).toBe(0);
    expect(new Map(c.reports[0].counts)).toEqual(expected);
    // words really crossed the link, both ways
    const sa = c.transports.A.stats();
    const sb = c.transports.B.stats();
    expect(sa.tuplesIn).toBe(words); // split (B) → count (A)
    expect(sb.tuplesIn).toBe(words); // count (A) → report (B)
    expect(sa.refusedIn + sb.refusedIn).toBe(0);
    if (tracking) {
      await waitFor('ledgers empty', () => WORKERS.every((k) => c.runtimes[k].pendingCounts().ackerTrees === 0 && c.runtimes[k].pendingCounts().spoutPending === 0));
      expect(sa.acksIn + sb.acksIn).toBeGreaterThan(0);
    }
  } finally {
    await c.close();
  }
}

const wsTransport = (key: Key, config: Readonly<TopologyConfig>): Transport => new WsTransport({ workerKey: key, topologyId: 'wc-test', secret: 'test-secret', port: 0, config });
const wsPort = (t: Transport): number => (t as WsTransport).port;

describe('word count across two workers', () => {
  test('websockets, acking on: exact counts, every sentence acked', async () => {
    await runWordCount('ws, acking', 3000, {}, wsTransport, wsPort);
  });

  test('websockets, acking off, small inboxes (backpressure across the link)', async () => {
    await runWordCount('ws, no acking', 3000, { 'topology.acker.executors': 0, 'topology.executor.receive.buffer.size': 64, 'topology.transfer.batch.size': 32 }, wsTransport, wsPort);
  });

  test('in-memory twin, acking on', async () => {
    const hub = new MemoryHub();
    await runWordCount('memory, acking', 3000, {}, (key, config) => new MemoryTransport(hub, { workerKey: key, config }), () => 0);
  });

  test('in-memory twin, acking off, small inboxes', async () => {
    const hub = new MemoryHub();
    await runWordCount('memory, no acking', 3000, { 'topology.acker.executors': 0, 'topology.executor.receive.buffer.size': 64, 'topology.transfer.batch.size': 32 }, (key, config) => new MemoryTransport(hub, { workerKey: key, config }), () => 0);
  });

  test('websockets, a larger run for the rate (acking on)', async () => {
    await runWordCount('ws, acking, larger', 30000, {}, wsTransport, wsPort);
  });
});
