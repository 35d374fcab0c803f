/**
 * The windowing benchmarks (docs/windowing.md):
 * - `windows/count-agg/in/{off,on}`: a keyed tumbling count window (100,000 tuples) with incremental
 *   aggregation (a sum) over 10,000 keys, in one process, and the same aggregation as a hand-written
 *   loop in the same run;
 * - `windows/sliding-rss`: a sliding 60 s / 1 s event-time window with incremental aggregation over
 *   100,000 keys, every key in every second (event time runs ahead of the wall clock), RSS sampled
 *   over a long run;
 * - `windows/latency/2w`: a wall-clock event spout and a keyed 1 s event-time window (100 ms lag)
 *   in two worker processes: window end → result emitted.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Histogram } from '../../common/histogram';
import { InProcessRun } from '../inprocess';
import { measureWindows, medians, rate, sleep, TIMING, workerFigures, type ScenarioResult, type Snapshot } from '../measure';
import { CpuMeter, memory } from '../procfs';
import { benchEntry, WorkerPair } from '../worker-pair';
import { BENCH_EVENT_STEP_US, BENCH_KEYS, BENCH_LATENCY_FILE, BENCH_RATE, BENCH_WINDOW_COUNT, handWrittenWindowedSum, windowTopology } from './components';

export const COUNT_WINDOW = 100_000;
export const COUNT_KEYS = 10_000;
export const SLIDING_KEYS = 100_000;
export const LATENCY_LAG_MS = 100;

function windowFigures(snap: Snapshot): Record<string, number> {
  const out: Record<string, number> = {};
  for (const w of snap) {
    for (const s of w.stats) {
      if (s.windows === undefined) continue;
      out.openWindows = (out.openWindows ?? 0) + s.windows.open;
      out.buffered = (out.buffered ?? 0) + s.windows.buffered;
      out.late = (out.late ?? 0) + s.windows.late;
    }
  }
  return out;
}

/** Keyed tumbling count windows with a sum over 10,000 keys, and the hand-written loop after it. */
export async function countAggregation(acking: boolean): Promise<ScenarioResult> {
  const base = { [BENCH_KEYS]: COUNT_KEYS, [BENCH_WINDOW_COUNT]: COUNT_WINDOW };
  // a count window holds its tuples un-acked until it fires: the spout must be allowed that many
  const config = acking ? { ...base, 'topology.acker.executors': 1, 'topology.max.spout.pending': 2 * COUNT_WINDOW + 10_000 } : { ...base, 'topology.acker.executors': 0 };
  const run = InProcessRun.start(windowTopology('count-agg', config), config);
  let result: ScenarioResult;
  try {
    const figures = { rate: (a: Snapshot, b: Snapshot) => rate(a, b, 'window', 'executed') } as Record<string, (a: Snapshot, b: Snapshot) => number>;
    if (acking) figures.ackedRate = (a, b) => rate(a, b, '*spouts', 'acked');
    const m = await measureWindows(run, figures);
    const values = { ...medians(m.samples), ...windowFigures(m.last) };
    result = { values, samples: m.samples, workers: workerFigures(run.pids(), ['this process'], ['all'], m.cpu), otherCpuPercent: m.otherCpuPercent, checks: [] };
  } finally {
    await run.close();
  }
  // the physical limit, in the same process and run: the same aggregation as one loop
  handWrittenWindowedSum(TIMING.warmupMs, COUNT_KEYS, COUNT_WINDOW);
  const loops: number[] = [];
  for (let i = 0; i < TIMING.windows; i++) loops.push(handWrittenWindowedSum(TIMING.windowMs, COUNT_KEYS, COUNT_WINDOW));
  result.samples.loop = loops;
  result.values.loop = medians({ loop: loops }).loop;
  result.values.ratio = result.values.rate / result.values.loop;
  return result;
}

const SLIDING_RUN_MS = 40_000;

/**
 * A sliding 60 s / 1 s event-time window over 100,000 keys, each key in every second: event time
 * advances 10 µs per tuple, so the window slides many times a wall second and a long run in event
 * time takes seconds. RSS is sampled every 200 ms: bounded state is RSS flat from the second
 * quarter of the run to the last.
 */
export async function slidingMemory(): Promise<ScenarioResult> {
  const config = { 'topology.acker.executors': 0, [BENCH_KEYS]: SLIDING_KEYS, [BENCH_EVENT_STEP_US]: 1_000_000 / SLIDING_KEYS };
  const run = InProcessRun.start(windowTopology('sliding-event', config), config);
  try {
    const rss: number[] = [];
    const sampler = setInterval(() => rss.push(memory(process.pid).rssBytes / 2 ** 20), 200);
    const meter = new CpuMeter([process.pid]);
    const a = await run.snapshot();
    await sleep(SLIDING_RUN_MS);
    const b = await run.snapshot();
    clearInterval(sampler);
    const q = (from: number, to: number): number => Math.max(...rss.slice(Math.floor(rss.length * from), Math.ceil(rss.length * to)));
    const growth = q(0.75, 1) - q(0.25, 0.5);
    const tuples = rate(a, b, 'window', 'executed');
    const windowStats = b[0].stats.find((s) => s.component === 'window')?.windows;
    const eventSecsPerSec = tuples / SLIDING_KEYS; // each tuple is 1e6 / SLIDING_KEYS µs of event time
    const workers = workerFigures(run.pids(), ['this process'], ['all'], meter.percents());
    const values = {
      rate: tuples,
      eventSecsPerSec,
      eventSecs: (eventSecsPerSec * SLIDING_RUN_MS) / 1000,
      peakRssMB: Math.max(...rss),
      rssGrowthMB: growth,
      buffered: windowStats?.buffered ?? NaN,
      openWindows: windowStats?.open ?? NaN,
    };
    const flat = growth < 0.1 * values.peakRssMB;
    return {
      values,
      samples: { rss },
      workers,
      otherCpuPercent: meter.otherPercent(),
      checks: [{ what: 'RSS flat: growth from the 2nd to the 4th quarter < 10% of the peak', ok: flat, detail: `${growth.toFixed(0)} MB of ${values.peakRssMB.toFixed(0)} MB` }],
    };
  } finally {
    await run.close();
  }
}

/** Window end → result emitted, across two worker processes (the spout in one, the window in the other). */
export async function resultLatency(): Promise<ScenarioResult> {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'squall-bench-')), 'latency.json');
  const config = { 'topology.acker.executors': 0, [BENCH_RATE]: 50_000, [BENCH_KEYS]: 100, [BENCH_LATENCY_FILE]: file };
  const pair = await WorkerPair.start({ entry: benchEntry('window-latency'), config });
  const read = (): Histogram => (fs.existsSync(file) ? Histogram.fromSparse(JSON.parse(fs.readFileSync(file, 'utf8')) as number[]) : new Histogram());
  try {
    await sleep(TIMING.warmupMs + 1000);
    const meter = new CpuMeter(pair.pids());
    const a = await pair.snapshot();
    const before = read();
    await sleep(TIMING.windows * TIMING.windowMs);
    const b = await pair.snapshot();
    const h = read();
    for (let i = 0; i < h.counts.length; i++) h.counts[i] -= before.counts[i];
    h.total -= before.total;
    const values = {
      rate: rate(a, b, 'window', 'executed'),
      results: h.total,
      p50Ms: h.percentileMs(50),
      p99Ms: h.percentileMs(99),
      p999Ms: h.percentileMs(99.9),
      lagMs: LATENCY_LAG_MS,
    };
    const workers = workerFigures(
      pair.pids(),
      pair.workers.map((w) => w.key),
      pair.workers.map((w) => w.components.filter((c) => !c.startsWith('__')).join(', ')),
      meter.percents(),
    );
    const split = pair.workers.every((w) => w.components.filter((c) => !c.startsWith('__')).length === 1);
    return {
      values,
      samples: {},
      workers,
      otherCpuPercent: meter.otherPercent(),
      checks: [{ what: 'the spout and the window in different worker processes', ok: split, detail: workers.map((w) => w.components).join(' / ') }],
    };
  } finally {
    await pair.close();
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  }
}
