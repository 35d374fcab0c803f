/** Runs a benchmark topology on one in-process WorkerRuntime and measures its sink's rate. */
import { resolveTopologyConfig, type TopologyConfig } from '../topology-api';
import { SystemClock } from '../common/clock';
import { silentLogger } from '../common/logging';
import { completeLatencyHistogram } from '../common/stats-summary';
import { WorkerRuntime } from '../worker/runtime';
import { benchTopology, type BenchTopology, type BenchTopologyOptions } from './components';

export interface RateResult {
  /** Tuples/s executed by the measured component. */
  rate: number;
  /** Spout tuples acked per second. */
  ackedRate: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  cpuPercent: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function executedOf(rt: WorkerRuntime, component: string): number {
  let n = 0;
  for (const s of rt.stats()) if (s.component === component) for (const k in s.executed) n += s.executed[k];
  return n;
}

function ackedOf(rt: WorkerRuntime): number {
  let n = 0;
  for (const s of rt.stats()) if (s.kind === 'spout') for (const k in s.acked) n += s.acked[k];
  return n;
}

export async function runInProcess(
  name: BenchTopology,
  opts: BenchTopologyOptions,
  measured: string,
  timing: { warmupMs: number; measureMs: number },
  extraConf: TopologyConfig = {},
): Promise<RateResult> {
  const topo = benchTopology(name, opts).createTopology();
  const config = resolveTopologyConfig({ 'topology.acker.executors': opts.acking ? 1 : 0, 'topology.max.spout.pending': opts.acking ? 5000 : null, ...extraConf });
  const rt = new WorkerRuntime({ topologyId: 'bench', definition: topo.definition, factories: topo.factories, config, clock: new SystemClock(), logger: silentLogger(), seed: 1 });
  rt.start();
  await sleep(timing.warmupMs);
  const before = executedOf(rt, measured);
  const ackedBefore = ackedOf(rt);
  const histBefore = completeLatencyHistogram(rt.stats());
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await sleep(timing.measureMs);
  const secs = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const stats = rt.stats();
  const after = executedOf(rt, measured);
  const acked = ackedOf(rt);
  rt.close();
  const hist = completeLatencyHistogram(stats);
  // latency percentiles over the measured window only: subtract the warm-up's buckets
  for (let i = 0; i < hist.counts.length; i++) hist.counts[i] -= histBefore.counts[i];
  hist.total -= histBefore.total;
  return {
    rate: (after - before) / secs,
    ackedRate: (acked - ackedBefore) / secs,
    p50Ms: hist.percentileMs(50),
    p99Ms: hist.percentileMs(99),
    p999Ms: hist.percentileMs(99.9),
    cpuPercent: ((cpu.user + cpu.system) / 1000 / (secs * 1000)) * 100,
  };
}
