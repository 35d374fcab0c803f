/**
 * Nimbus's `GET /metrics` in Prometheus's text exposition format (docs/metrics.md). Counters and
 * gauges are built with prom-client in a registry made per scrape from Nimbus's current figures
 * (all time, the same numbers the REST pages show), merged with a long-lived registry of Nimbus's
 * own process metrics; latency and user-metric histograms are re-bucketed from the exact
 * log-linear histograms into fixed `le` buckets and written as histogram families (prom-client
 * can only build histograms by observing values one by one).
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { ExecutorStats } from '../common/cluster-state/types';
import { bucketUpperUs } from '../common/histogram';

export interface MetricsInput {
  cluster: { supervisors: number; slotsTotal: number; slotsUsed: number; slotsFree: number; topologies: number; executorsTotal: number; tasksTotal: number };
  topologies: Array<{
    id: string;
    name: string;
    status: string;
    uptimeSecs: number;
    workers: number;
    executors: ExecutorStats[];
    workerFacts: Array<{ node: string; port: number; rssBytes: number; uptimeSecs: number; restarts: number }>;
  }>;
  supervisors: Array<{ id: string; rssBytes: number; cpuSecs: number; uptimeSecs: number }>;
}

/** Latency buckets (seconds), Prometheus's defaults extended below 5 ms: tuples are fast. */
const LATENCY_LE_SECS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** User histograms are in their own unit: decades. */
const USER_LE = [0.001, 0.01, 0.1, 1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000, 1_000_000_000];

const isSystemStream = (k: string): boolean => k.startsWith('__');

function sum(counts: Record<string, number>, skipSystem = false): number {
  let n = 0;
  for (const k in counts) if (!skipSystem || !isSystemStream(k)) n += counts[k];
  return n;
}

/** Nimbus's process metrics (prom-client's defaults), registered once per Nimbus. */
export function processRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'squall_nimbus_' });
  return registry;
}

export async function renderMetrics(input: MetricsInput, processMetrics: Registry): Promise<string> {
  const reg = new Registry();
  const gauge = (name: string, help: string, labelNames: string[] = []) => new Gauge({ name, help, labelNames, registers: [reg] });
  const counter = (name: string, help: string, labelNames: string[]) => new Counter({ name, help, labelNames, registers: [reg] });

  const c = input.cluster;
  gauge('squall_supervisors', 'Supervisors registered').set(c.supervisors);
  gauge('squall_slots_total', 'Worker slots over every supervisor').set(c.slotsTotal);
  gauge('squall_slots_used', 'Worker slots assigned').set(c.slotsUsed);
  gauge('squall_slots_free', 'Worker slots free').set(c.slotsFree);
  gauge('squall_topologies', 'Topologies (killed ones until removed)').set(c.topologies);
  gauge('squall_executors', 'Executors over every topology').set(c.executorsTotal);
  gauge('squall_tasks', 'Tasks over every topology').set(c.tasksTotal);

  const topo = ['topology', 'topology_id'];
  const exec = [...topo, 'component', 'executor'];
  const topoWorkers = gauge('squall_topology_workers', 'Workers assigned to a topology', topo);
  const topoStatus = gauge('squall_topology_status', 'A topology\'s status (1 for the current one)', [...topo, 'status']);
  const topoUptime = gauge('squall_topology_uptime_seconds', 'Time since submission', topo);
  const emitted = counter('squall_emitted_total', 'Tuples emitted (system streams excluded), all workers ever', exec);
  const transferred = counter('squall_transferred_total', 'Tuples transferred (system streams excluded)', exec);
  const executed = counter('squall_executed_total', 'Tuples executed (bolts)', exec);
  const acked = counter('squall_acked_total', 'Tuples acked', exec);
  const failed = counter('squall_failed_total', 'Tuples failed', exec);
  const busy = counter('squall_busy_seconds_total', 'Time executing (bolts: execute; spouts: nextTuple, ack, fail)', exec);
  const backpressure = counter('squall_backpressure_seconds_total', 'Time parked because a queue the executor feeds was full', exec);
  const capacity = gauge('squall_capacity', 'Busy share of the last second (Storm capacity)', exec);
  const restarts = counter('squall_worker_restarts_total', 'Worker restarts Nimbus has seen on a slot', [...topo, 'node', 'port']);
  const workerRss = gauge('squall_worker_resident_memory_bytes', 'Worker resident memory', [...topo, 'node', 'port']);
  const workerUptime = gauge('squall_worker_uptime_seconds', 'Worker uptime', [...topo, 'node', 'port']);
  const userCounter = counter('squall_user_counter_total', 'User counters (context.registerCounter)', [...exec, 'metric']);
  const userMeter = counter('squall_user_meter_total', 'User meters (context.registerMeter)', [...exec, 'metric']);
  const userGauge = gauge('squall_user_gauge', 'User gauges (context.registerGauge), per task', [...exec, 'task', 'metric']);
  const supRss = gauge('squall_supervisor_resident_memory_bytes', 'Supervisor process resident memory', ['supervisor']);
  const supCpu = counter('squall_supervisor_cpu_seconds_total', 'Supervisor process CPU time', ['supervisor']);
  const supUptime = gauge('squall_supervisor_uptime_seconds', 'Supervisor process uptime', ['supervisor']);

  const histograms: string[] = [];
  const complete = new HistogramFamily('squall_complete_latency_seconds', 'Spout tuple tree completion latency', LATENCY_LE_SECS, 1e-6);
  const execute = new HistogramFamily('squall_execute_latency_seconds', 'Bolt execute latency (per-batch means)', LATENCY_LE_SECS, 1e-6);
  const user = new HistogramFamily('squall_user_histogram', 'User histograms (context.registerHistogram), in their own unit', USER_LE, 1);

  for (const t of input.topologies) {
    const tl = { topology: t.name, topology_id: t.id };
    topoWorkers.set(tl, t.workers);
    topoStatus.set({ ...tl, status: t.status }, 1);
    topoUptime.set(tl, t.uptimeSecs);
    for (const w of t.workerFacts) {
      const wl = { ...tl, node: w.node, port: String(w.port) };
      restarts.inc(wl, w.restarts);
      workerRss.set(wl, w.rssBytes);
      workerUptime.set(wl, w.uptimeSecs);
    }
    for (const s of t.executors) {
      const l = { ...tl, component: s.component, executor: `${s.start}-${s.end}` };
      emitted.inc(l, sum(s.emitted, true));
      transferred.inc(l, sum(s.transferred, true));
      executed.inc(l, sum(s.executed));
      acked.inc(l, sum(s.acked));
      failed.inc(l, sum(s.failed));
      busy.inc(l, s.executeMsTotal / 1000);
      backpressure.inc(l, (s.backpressureMs ?? 0) / 1000);
      capacity.set(l, s.capacity);
      if (s.kind === 'spout') complete.add(l, s.completeHistogram ?? [], s.completeMsTotal / 1000);
      else if (s.executeHistogram) execute.add(l, s.executeHistogram, null);
      for (const [name, m] of Object.entries(s.metrics ?? {})) {
        const ml = { ...l, metric: name };
        if (m.type === 'counter') userCounter.inc(ml, m.count);
        else if (m.type === 'meter') userMeter.inc(ml, m.count);
        else if (m.type === 'gauge') for (const [task, v] of Object.entries(m.values)) userGauge.set({ ...ml, task }, v);
        else user.add(ml, m.hist, m.sum);
      }
    }
  }
  for (const s of input.supervisors) {
    supRss.set({ supervisor: s.id }, s.rssBytes);
    supCpu.inc({ supervisor: s.id }, s.cpuSecs);
    supUptime.set({ supervisor: s.id }, s.uptimeSecs);
  }
  histograms.push(complete.render(), execute.render(), user.render());
  const text = await Registry.merge([processMetrics, reg]).metrics();
  return text + histograms.filter((h) => h !== '').join('');
}

/** One histogram family written by hand: `le` buckets cumulative, then `_sum` and `_count`. */
class HistogramFamily {
  private readonly series: string[] = [];

  constructor(
    private readonly name: string,
    private readonly help: string,
    private readonly le: readonly number[],
    /** Unit of a sparse bucket's upper bound (µs) in this family's unit. */
    private readonly scale: number,
  ) {}

  /** `sparse`: [bucket, count] pairs (common/histogram.ts); `total` the sum, or null to estimate it. */
  add(labels: Record<string, string>, sparse: readonly number[], total: number | null): void {
    const counts = new Array<number>(this.le.length + 1).fill(0);
    let n = 0;
    let estimate = 0;
    for (let i = 0; i + 1 < sparse.length; i += 2) {
      const upper = bucketUpperUs(sparse[i]) * this.scale;
      const k = this.le.findIndex((le) => upper <= le);
      counts[k < 0 ? this.le.length : k] += sparse[i + 1];
      n += sparse[i + 1];
      estimate += upper * sparse[i + 1];
    }
    const label = (extra: Record<string, string> = {}): string =>
      Object.entries({ ...labels, ...extra })
        .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
        .join(',');
    let cumulative = 0;
    this.le.forEach((le, i) => {
      cumulative += counts[i];
      this.series.push(`${this.name}_bucket{${label({ le: String(le) })}} ${cumulative}`);
    });
    this.series.push(`${this.name}_bucket{${label({ le: '+Inf' })}} ${n}`);
    this.series.push(`${this.name}_sum{${label()}} ${total ?? estimate}`);
    this.series.push(`${this.name}_count{${label()}} ${n}`);
  }

  render(): string {
    if (this.series.length === 0) return '';
    return `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} histogram\n${this.series.join('\n')}\n\n`;
  }
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}
