/**
 * A REST fixture of a large cluster for the UI's scale test: Nimbus's real REST app and UI assets
 * over a fake Nimbus answering with 100 topologies, the first of which has a bolt of 1,000
 * executors on 100 workers. Counters grow on every read, so each refresh has new figures.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ManualClock } from '../../common/clock';
import { resolveDaemonConfig } from '../../common/config';
import { squallError } from '../../common/errors';
import { silentLogger } from '../../common/logging';
import { STATS_WINDOWS, type ComponentPage, type ExecutorEntry, type TopologyPage, type TopologySummaryEntry, type WorkerEntry } from '../../common/protocol/rest';
import { buildNimbusApp, type NimbusApi } from '../../nimbus/rest';
import { loadUiAssets } from '../../nimbus/ui-assets';

export const TOPOLOGIES = 100;
export const WIDE_EXECUTORS = 1000;
const WORKERS = 100;

const pct = (prefix: 'completeLatency' | 'executeLatency', base: number) => ({
  [`${prefix}P50`]: base.toFixed(3),
  [`${prefix}P90`]: (base * 2).toFixed(3),
  [`${prefix}P99`]: (base * 4).toFixed(3),
  [`${prefix}P999`]: (base * 8).toFixed(3),
});
const COMPLETE = pct('completeLatency', 2) as { completeLatencyP50: string; completeLatencyP90: string; completeLatencyP99: string; completeLatencyP999: string };
const EXECUTE = pct('executeLatency', 0.25) as { executeLatencyP50: string; executeLatencyP90: string; executeLatencyP99: string; executeLatencyP999: string };

function summaryOf(i: number): TopologySummaryEntry {
  const id = `topo-${String(i).padStart(3, '0')}-1-1700000000`;
  return { id, encodedId: id, name: `topo-${String(i).padStart(3, '0')}`, status: i % 10 === 9 ? 'INACTIVE' : 'ACTIVE', uptime: '1h 0m 0s', uptimeSeconds: 3600 + i, tasksTotal: i === 0 ? 1102 : 12, workersTotal: i === 0 ? WORKERS : 2, executorsTotal: i === 0 ? 1102 : 10, owner: 'fixture' };
}

/** Even executors are windowed and checkpointed (the panels for those appear), none async. */
function executor(n: number, tick: number): ExecutorEntry {
  const id = `[${n + 2}-${n + 2}]`;
  const worker = n % WORKERS;
  const extras = n % 2 === 0 ? { windows: { open: 2, buffered: 100 + n, watermarkMs: 1700000000000 + tick * 1000, late: n % 5, lateDropped: 0 }, checkpoint: { txid: tick, durationMs: 12, sizeBytes: 4096 * n, alignmentMs: 3, heldTuples: 0, failed: 0 } } : {};
  return {
    ...extras,
    id,
    encodedId: encodeURIComponent(id),
    host: `10.0.${Math.floor(worker / 4)}.${worker % 4}`,
    port: 6700 + (worker % 4),
    supervisorId: `sup-${Math.floor(worker / 4)}`,
    uptime: '1h 0m 0s',
    uptimeSeconds: 3600,
    emitted: 1000 * (n + 1) + tick,
    transferred: 1000 * (n + 1) + tick,
    acked: 1000 * (n + 1) + tick,
    failed: n % 7,
    executed: 1000 * (n + 1) + tick,
    executeLatency: ((n % 13) / 10).toFixed(3),
    processLatency: ((n % 17) / 10).toFixed(3),
    completeLatency: '0.000',
    capacity: ((n % 100) / 100).toFixed(3),
    ...COMPLETE,
    ...EXECUTE,
    backpressureMs: n % 3,
    metrics: [],
  };
}

/** The fake Nimbus: every read is a larger `tick`. */
export function fixtureNimbus(): NimbusApi {
  let tick = 0;
  const topologies = Array.from({ length: TOPOLOGIES }, (_, i) => summaryOf(i));
  const find = (idOrName: string): TopologySummaryEntry => {
    const t = topologies.find((x) => x.id === idOrName || x.name === idOrName);
    if (!t) throw squallError('ERR_TOPOLOGY_NOT_FOUND', idOrName);
    return t;
  };
  const workers = (): WorkerEntry[] =>
    Array.from({ length: WORKERS }, (_, w) => ({
      supervisorId: `sup-${Math.floor(w / 4)}`,
      host: `10.0.${Math.floor(w / 4)}.${w % 4}`,
      port: 6700 + (w % 4),
      uptime: '1h 0m 0s',
      uptimeSeconds: 3600,
      executorsTotal: 11,
      componentNumTasks: { wide: 10, source: 1 },
      pid: 10000 + w,
      rssBytes: 80 << 20,
      state: 'running',
    }));
  const api = {
    clusterSummary: async () => ({ squallVersion: 'fixture', nimbusUptime: '1h 0m 0s', nimbusUptimeSeconds: 3600 + ++tick, supervisors: 25, topologies: TOPOLOGIES, slotsTotal: 100, slotsUsed: 100, slotsFree: 0, executorsTotal: 2092, tasksTotal: 2290 }),
    clusterConfiguration: () => ({ 'nimbus.port': 6627 }),
    supervisorSummary: async () =>
      Array.from({ length: 25 }, (_, s) => ({ id: `sup-${s}`, host: `10.0.${s}.0`, uptime: '1h 0m 0s', uptimeSeconds: 3600, slotsTotal: 4, slotsUsed: 4, slotsFree: 0, usedPorts: [6700, 6701, 6702, 6703], version: 'fixture' })),
    nimbusSummary: () => [{ host: '127.0.0.1', port: 6627, status: 'Leader', nimbusUpTime: '1h 0m 0s', nimbusUpTimeSeconds: 3600, version: 'fixture' }],
    topologySummary: async () => topologies.map((t) => ({ ...t, uptimeSeconds: t.uptimeSeconds + ++tick })),
    topologyPage: async (idOrName: string): Promise<TopologyPage> => {
      const t = find(idOrName);
      tick++;
      const n = 1000 * 1000 + tick;
      return {
        ...t,
        msgTimeout: 30,
        bundleHash: 'ab'.repeat(32),
        window: ':all-time',
        windowPretty: 'All time',
        topologyStats: STATS_WINDOWS.map((w) => ({ window: w.window, windowPretty: w.windowPretty, emitted: 2 * n, transferred: 2 * n, completeLatency: '3.000', ...COMPLETE, acked: n, failed: 0 })),
        spouts: [{ spoutId: 'source', encodedSpoutId: 'source', executors: 100, tasks: 100, emitted: n, transferred: n, acked: n, failed: 0, completeLatency: '3.000', ...COMPLETE, lastError: '', errorHost: '', errorPort: null, errorTime: null, errorLapsedSecs: null }],
        bolts: [
          {
            boltId: 'wide',
            encodedBoltId: 'wide',
            executors: WIDE_EXECUTORS,
            tasks: WIDE_EXECUTORS,
            emitted: n,
            transferred: n,
            executed: n,
            acked: n,
            failed: 0,
            executeLatency: '0.500',
            ...EXECUTE,
            processLatency: '0.600',
            capacity: '0.990',
            backpressureMs: 0,
            lastError: '',
            errorHost: '',
            errorPort: null,
            errorTime: null,
            errorLapsedSecs: null,
          },
        ],
        workers: t.id === topologies[0].id ? workers() : workers().slice(0, 2),
        configuration: { 'topology.workers': t.workersTotal },
        workerErrors: [],
      };
    },
    componentPage: async (idOrName: string, component: string): Promise<ComponentPage> => {
      const t = find(idOrName);
      if (component !== 'wide') throw squallError('ERR_COMPONENT_NOT_FOUND', component);
      tick++;
      const executorStats = Array.from({ length: WIDE_EXECUTORS }, (_, n) => executor(n, tick));
      const percentiles = { p50: 0.25, p90: 0.5, p99: 1, p999: 2 };
      return {
        id: 'wide',
        encodedId: 'wide',
        window: ':all-time',
        windowPretty: 'All time',
        metrics: [{ name: 'items.seen', type: 'counter', count: tick }],
        latencyDistribution: { kind: 'execute', count: 1000, buckets: [{ upperMs: 0.25, count: 500 }, { upperMs: 0.5, count: 400 }, { upperMs: 2, count: 100 }] },
        name: t.name,
        topologyId: t.id,
        componentType: 'bolt',
        executors: WIDE_EXECUTORS,
        tasks: WIDE_EXECUTORS,
        summary: {
          componentId: 'wide',
          type: 'bolt',
          executors: WIDE_EXECUTORS,
          tasks: WIDE_EXECUTORS,
          emitted: tick,
          transferred: tick,
          acked: tick,
          failed: 0,
          executed: tick,
          executeLatency: 0.5,
          processLatency: 0.6,
          completeLatency: 0,
          capacity: 0.99,
          completeLatencyPercentiles: { p50: 0, p90: 0, p99: 0, p999: 0 },
          executeLatencyPercentiles: percentiles,
          backpressureMs: 0,
          lastError: '',
          errorHost: '',
          errorPort: null,
          errorTime: null,
        },
        executorStats,
        componentErrors: [],
        inputStats: [{ component: 'source', stream: 'default', grouping: 'shuffle', executed: tick, acked: tick, failed: 0 }],
        outputStats: [{ stream: 'default', fields: ['x'], direct: false, emitted: tick, transferred: tick }],
      };
    },
    visualization: (idOrName: string) => {
      find(idOrName);
      return {
        rateWindowSecs: 60,
        components: {
          source: { type: 'spout', parallelism: 100, inputs: [], emittedPerSec: 12000, streams: { default: 12000 }, capacity: '0.000', latency: '3.000' },
          wide: { type: 'bolt', parallelism: WIDE_EXECUTORS, inputs: [{ component: 'source', stream: 'default', grouping: 'shuffle', tuplesPerSec: 12000 }], emittedPerSec: 0, streams: {}, capacity: '0.990', latency: '0.500' },
        },
      };
    },
  };
  return api as unknown as NimbusApi;
}

/** Serves the fixture with the built UI on 127.0.0.1, port 0. */
export async function startFixtureServer(): Promise<{ url: string; close(): Promise<void> }> {
  const app = buildNimbusApp({ nimbus: fixtureNimbus(), config: resolveDaemonConfig({}), logger: silentLogger(), clock: new ManualClock(), ui: loadUiAssets() });
  const server: Server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
