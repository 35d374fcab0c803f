/**
 * Figures of a measurement window from two snapshots of cumulative executor stats, one sample per
 * worker. Each worker's counts are divided by that worker's own elapsed time between its two
 * samples (heartbeats of different workers do not arrive together), then summed.
 */
import type { ExecutorStats } from '../common/cluster-state/types';
import { Histogram } from '../common/histogram';
import { CpuMeter, memory } from './procfs';

/** One worker's cumulative stats at `atMs` (ms on that worker's clock). */
export interface WorkerSample {
  worker: string;
  atMs: number;
  stats: readonly ExecutorStats[];
}

export type Snapshot = readonly WorkerSample[];

function sumCounts(counts: Record<string, number>, skipSystem: boolean): number {
  let n = 0;
  for (const k in counts) if (!skipSystem || !k.startsWith('__')) n += counts[k];
  return n;
}

type Field = 'executed' | 'acked' | 'failed' | 'emitted' | 'transferred';

/** Cumulative count of `field` over executors of `component` (all spouts when it is '*spouts'). */
export function countOf(stats: readonly ExecutorStats[], component: string, field: Field): number {
  let n = 0;
  for (const s of stats) {
    if (component === '*spouts' ? s.kind !== 'spout' : s.component !== component) continue;
    // a bolt's executed counts include tick tuples and, for ackers, acker messages: user input only
    n += sumCounts(s[field], s.component !== '__acker');
  }
  return n;
}

/** Total of `field` over every worker of a snapshot. */
export function total(snap: Snapshot, component: string, field: Field): number {
  let n = 0;
  for (const w of snap) n += countOf(w.stats, component, field);
  return n;
}

/** Per-second rate of `field` of `component` between two snapshots of the same workers. */
export function rate(a: Snapshot, b: Snapshot, component: string, field: Field): number {
  let r = 0;
  for (const wb of b) {
    const wa = a.find((w) => w.worker === wb.worker);
    if (wa === undefined || wb.atMs <= wa.atMs) continue;
    r += ((countOf(wb.stats, component, field) - countOf(wa.stats, component, field)) / (wb.atMs - wa.atMs)) * 1000;
  }
  return r;
}

function completeHistogram(snap: Snapshot): Histogram {
  const h = new Histogram();
  for (const w of snap) for (const s of w.stats) if (s.completeHistogram) h.merge(Histogram.fromSparse(s.completeHistogram));
  return h;
}

/** Complete latency percentiles (ms) of the spout tuples acked between two snapshots. */
export function latencyBetween(a: Snapshot, b: Snapshot): { count: number; p50Ms: number; p99Ms: number; p999Ms: number } {
  const before = completeHistogram(a);
  const h = completeHistogram(b);
  // cumulative histograms: the window's is the difference (maxUs stays the run's, an upper bound)
  for (let i = 0; i < h.counts.length; i++) h.counts[i] -= before.counts[i];
  h.total -= before.total;
  return { count: h.total, p50Ms: h.percentileMs(50), p99Ms: h.percentileMs(99), p999Ms: h.percentileMs(99.9) };
}

export function median(xs: readonly number[]): number {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((p, q) => p - q);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ---- scenario results and measurement windows (shared by bench/scenarios.ts and bench/windows/) ---

export interface ScenarioResult {
  /** Medians (rates) or whole-run figures (latency percentiles). */
  values: Record<string, number>;
  /** Per-window samples behind the medians. */
  samples: Record<string, number[]>;
  workers: WorkerFigures[];
  /** Percent of one core used by other processes on the machine during the measurement. */
  otherCpuPercent: number;
  checks: Array<{ what: string; ok: boolean; detail: string }>;
}

export interface ScenarioArgs {
  id: string;
  /** Sentences/s of the latency scenario (0: as fast as it goes). */
  rate?: number;
  /** This rate is half the maximum measured just before. */
  half?: boolean;
}


export interface WorkerFigures {
  name: string;
  components: string;
  cpuPercent: number;
  rssMB: number;
  peakRssMB: number;
}

export interface Timing {
  warmupMs: number;
  windows: number;
  windowMs: number;
}

export const TIMING: Timing = { warmupMs: 2000, windows: 5, windowMs: 1000 };

export interface Source {
  snapshot(): Promise<Snapshot>;
  pids(): number[];
  close(): Promise<void>;
}

/** What a figure is computed from: two snapshots bounding a window. */
export type Figure = (a: Snapshot, b: Snapshot) => number;

export interface Measured {
  samples: Record<string, number[]>;
  first: Snapshot;
  last: Snapshot;
  cpu: number[];
  otherCpuPercent: number;
}

export async function measureWindows(src: Source, figures: Record<string, Figure>, timing: Timing = TIMING): Promise<Measured> {
  await sleep(timing.warmupMs);
  const samples: Record<string, number[]> = {};
  for (const k of Object.keys(figures)) samples[k] = [];
  const meter = new CpuMeter(src.pids());
  const first = await src.snapshot();
  let a = first;
  for (let i = 0; i < timing.windows; i++) {
    await sleep(timing.windowMs);
    const b = await src.snapshot();
    for (const [k, f] of Object.entries(figures)) samples[k].push(f(a, b));
    a = b;
  }
  const cpu = meter.percents();
  return { samples, first, last: a, cpu, otherCpuPercent: meter.otherPercent() };
}

export function medians(samples: Record<string, number[]>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(samples)) out[k] = median(v);
  return out;
}

export function workerFigures(pids: number[], names: string[], components: string[], cpu: number[]): WorkerFigures[] {
  return pids.map((pid, i) => {
    const m = memory(pid);
    return { name: names[i], components: components[i], cpuPercent: cpu[i], rssMB: m.rssBytes / 2 ** 20, peakRssMB: m.peakBytes / 2 ** 20 };
  });
}

