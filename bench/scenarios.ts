/**
 * The benchmark scenarios. Each runs in its own child process (bench/scenario-main.ts) and
 * returns figures: medians over consecutive measurement windows after a warm-up, per-window
 * samples, CPU and memory of every worker, and how busy the rest of the machine was meanwhile.
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import type { TopologyConfig } from '../topology-api';
import { handWrittenAsync, handWrittenWordCount } from './baseline';
import { codecFigures } from './codec';
import { RestSampler, startBenchCluster, submitAndWaitFirstAck, workerPids } from './cluster';
import { BENCH_IO_MS, BENCH_RATE, BENCH_SLOW_US, MAX_SPOUT_PENDING, type BenchTopology } from './components';
import { InProcessRun } from './inprocess';
import { stateFigures } from './state';
import { latencyBetween, measureWindows, median, medians, rate, sleep, TIMING, total, workerFigures, type Figure, type Measured, type ScenarioArgs, type ScenarioResult, type Snapshot, type Source, type WorkerFigures } from './measure';
import { CpuMeter, memory } from './procfs';

export type { ScenarioArgs, ScenarioResult, WorkerFigures } from './measure';
import { WorkerPair, benchEntry } from './worker-pair';
import { countAggregation, resultLatency, slidingMemory } from './windows/scenarios';
import { adCampaignsScenario } from './connectors/ad-campaigns';
import { connectorScenario } from './connectors/scenarios';

function ackingConfig(acking: boolean): TopologyConfig {
  return acking ? { 'topology.acker.executors': null, 'topology.max.spout.pending': MAX_SPOUT_PENDING } : { 'topology.acker.executors': 0 };
}

function wholeRunLatency(m: Measured): Record<string, number> {
  const l = latencyBetween(m.first, m.last);
  return { p50AllMs: l.p50Ms, p99AllMs: l.p99Ms, p999AllMs: l.p999Ms, latencySamples: l.count };
}

// ---- throughput -------------------------------------------------------------------------------

/** The component whose executed tuples measure a topology's throughput. */
const SINK: Record<BenchTopology, string> = { 'const-null': 'sink', 'const-id-null': 'sink', 'word-count': 'count', slow: 'sink', async: 'sink' };

async function throughput(name: BenchTopology, where: 'in' | '2w', acking: boolean, extra: TopologyConfig = {}): Promise<ScenarioResult> {
  const config = { ...ackingConfig(acking), ...extra };
  const src: Source & { names: string[]; components: string[] } =
    where === 'in'
      ? Object.assign(InProcessRun.start(name, config), { names: ['this process'], components: ['all'] })
      : await WorkerPair.start({ entry: benchEntry(name), config }).then((p) =>
          Object.assign(p, { names: p.workers.map((w) => w.key), components: p.workers.map((w) => w.components.filter((c) => !c.startsWith('__')).join(', ')) }),
        );
  try {
    const figures: Record<string, Figure> = { rate: (a, b) => rate(a, b, SINK[name], 'executed') };
    if (acking) {
      figures.ackedRate = (a, b) => rate(a, b, '*spouts', 'acked');
      figures.p50Ms = (a, b) => latencyBetween(a, b).p50Ms;
      figures.p99Ms = (a, b) => latencyBetween(a, b).p99Ms;
      figures.p999Ms = (a, b) => latencyBetween(a, b).p999Ms;
    }
    const m = await measureWindows(src, figures);
    const values = medians(m.samples);
    // the same percentiles over every tuple of the five windows together, for the tail's record
    if (acking) Object.assign(values, wholeRunLatency(m));
    return { values, samples: m.samples, workers: workerFigures(src.pids(), src.names, src.components, m.cpu), otherCpuPercent: m.otherCpuPercent, checks: [] };
  } finally {
    await src.close();
  }
}

/** Word count at a fixed sentence rate (0: as fast as it goes) on two workers, acking on. */
async function latency(rateLimit: number): Promise<ScenarioResult> {
  const r = await throughput('word-count', '2w', true, { [BENCH_RATE]: rateLimit });
  r.values.sentencesPerSec = r.values.ackedRate;
  return r;
}

async function baseline(): Promise<ScenarioResult> {
  handWrittenWordCount(TIMING.warmupMs);
  const meter = new CpuMeter([]);
  const rates: number[] = [];
  for (let i = 0; i < TIMING.windows; i++) rates.push(handWrittenWordCount(TIMING.windowMs));
  return { values: { rate: median(rates) }, samples: { rate: rates }, workers: [], otherCpuPercent: meter.otherPercent(), checks: [] };
}

// ---- async bolt: simulated I/O with an in-flight limit ---------------------------------------

const ASYNC_IO_MS = 1;

/** Sum of one executor-stats number over the executors of `component` in every worker. */
function sumOf(snap: Snapshot, component: string, field: 'executeMsTotal' | 'inflight'): number {
  let n = 0;
  for (const w of snap) for (const s of w.stats) if (s.component === component) n += s[field] ?? 0;
  return n;
}

/**
 * const spout → io (an async basic bolt: awaits a simulated 1 ms I/O call, then emits anchored;
 * one task, `topology.bolt.max.inflight` = `limit`) → null sink, in one process. By Little's law a
 * task with `limit` calls of latency L in flight completes at most limit ÷ L per second: the
 * figures say how close it comes, against the nominal 1 ms and against the latency measured to
 * settlement (Node's timers fire on whole milliseconds, and a loop turn busy with other tuples
 * delays them further).
 */
async function asyncIo(acking: boolean, limit: number): Promise<ScenarioResult> {
  const config = { ...ackingConfig(acking), 'topology.bolt.max.inflight': limit, [BENCH_IO_MS]: ASYNC_IO_MS };
  const src = InProcessRun.start('async', config);
  try {
    const figures: Record<string, Figure> = {
      rate: (a, b) => rate(a, b, 'io', 'executed'),
      completedRate: (a, b) => rate(a, b, 'sink', 'executed'),
      // mean time from dequeue to settlement of the calls that started in the window
      latencyMs: (a, b) => (sumOf(b, 'io', 'executeMsTotal') - sumOf(a, 'io', 'executeMsTotal')) / (total(b, 'io', 'executed') - total(a, 'io', 'executed')),
      inflight: (_a, b) => sumOf(b, 'io', 'inflight'),
    };
    const m = await measureWindows(src, figures);
    const values = medians(m.samples);
    values.limit = limit;
    values.ioMs = ASYNC_IO_MS;
    await src.close();
    // the same I/O pattern without Squall, in this process after the topology: the ceiling of one core
    values.bareRate = await handWrittenAsync(3000, limit, ASYNC_IO_MS);
    return { values, samples: m.samples, workers: workerFigures(src.pids(), ['this process'], ['all'], m.cpu), otherCpuPercent: m.otherCpuPercent, checks: [] };
  } finally {
    await src.close();
  }
}

// ---- word count on a cluster, and submission latency -----------------------------------------

const PROBES = 3;

async function cluster(): Promise<ScenarioResult> {
  const c = await startBenchCluster(2, 2);
  try {
    const entry = benchEntry('word-count');
    const base = { ...ackingConfig(true), 'topology.workers': 2 };
    // first-ack latency: light submissions (1,000 sentences/s), each killed afterwards
    const probes = [];
    for (let i = 0; i < PROBES; i++) {
      const t = await submitAndWaitFirstAck(c, entry, `bench-probe-${i}`, { ...base, [BENCH_RATE]: 1000 });
      probes.push(t);
      await c.client.kill(t.id, 0);
      await waitGone(c, t.id);
    }
    const run = await submitAndWaitFirstAck(c, entry, 'bench-wc', base);
    const sampler = new RestSampler(c.client, run.id, [
      { id: 'spout', kind: 'spout' },
      { id: 'count', kind: 'bolt' },
    ]);
    sampler.start();
    const workers = await workerPids(c.client, run.id);
    const src: Source = { snapshot: () => sampler.snapshot(), pids: () => workers.map((w) => w.pid), close: () => sampler.stop() };
    try {
      const m = await measureWindows(src, { rate: (a, b) => rate(a, b, 'count', 'executed'), ackedRate: (a, b) => rate(a, b, '*spouts', 'acked') }, { warmupMs: 2000, windows: 5, windowMs: 2000 });
      const values = medians(m.samples);
      Object.assign(values, {
        buildMs: median(probes.map((p) => p.buildMs)),
        submitToAckMs: median(probes.map((p) => p.submitToAckMs)),
        submitToRestAckMs: median(probes.map((p) => p.submitToRestAckMs)),
      });
      const samples = { ...m.samples, submitToAckMs: probes.map((p) => p.submitToAckMs), buildMs: probes.map((p) => p.buildMs) };
      const figures = workerFigures(
        workers.map((w) => w.pid),
        workers.map((w) => `slot ${w.port}`),
        workers.map((w) => w.components),
        m.cpu,
      );
      return { values, samples, workers: figures, otherCpuPercent: m.otherCpuPercent, checks: [] };
    } finally {
      await src.close();
    }
  } finally {
    await c.close();
  }
}

async function waitGone(c: { client: { topologies(): Promise<{ topologies: Array<{ id: string }> }> } }, id: string): Promise<void> {
  const deadline = performance.now() + 20_000;
  while ((await c.client.topologies()).topologies.some((t) => t.id === id)) {
    if (performance.now() > deadline) throw new Error(`${id} was not removed`);
    await sleep(50);
  }
}

// ---- memory under a slow bolt -----------------------------------------------------------------

const SLOW_RUN_MS = 8000;

/**
 * An unthrottled const spout into a bolt burning 50 µs per tuple, on two workers, with no
 * max.spout.pending: only backpressure bounds what is in flight. RSS of both workers is sampled
 * every 100 ms; then the spout is deactivated and the topology drained, and every tuple must be
 * accounted for.
 */
async function slow(acking: boolean): Promise<ScenarioResult> {
  const config = { ...ackingConfig(acking), 'topology.max.spout.pending': null, [BENCH_SLOW_US]: 50 };
  const pair = await WorkerPair.start({ entry: benchEntry('slow'), config });
  try {
    const pids = pair.pids();
    const rssSeries: number[][] = pids.map(() => []);
    const sampler = setInterval(() => pids.forEach((p, i) => rssSeries[i].push(memory(p).rssBytes / 2 ** 20)), 100);
    const meter = new CpuMeter(pids);
    const a = await pair.snapshot();
    await sleep(SLOW_RUN_MS);
    const b = await pair.snapshot();
    clearInterval(sampler);
    const cpu = meter.percents();
    const otherCpuPercent = meter.otherPercent();
    const sinkRate = rate(a, b, 'sink', 'executed');
    pair.setActive(false);
    const drained = await drain(pair, acking);
    const emitted = total(drained, 'spout', 'emitted');
    const executed = total(drained, 'sink', 'executed');
    const acked = total(drained, '*spouts', 'acked');
    const failed = total(drained, '*spouts', 'failed');
    const checks = acking
      ? [{ what: 'acked == emitted, failed == 0 once drained', ok: acked === emitted && failed === 0, detail: `emitted ${emitted}, acked ${acked}, failed ${failed}` }]
      : [{ what: 'executed at the sink == emitted once drained', ok: executed === emitted, detail: `emitted ${emitted}, executed ${executed}` }];
    const workers = workerFigures(
      pids,
      pair.workers.map((w) => w.key),
      pair.workers.map((w) => w.components.filter((c) => !c.startsWith('__')).join(', ')),
      cpu,
    );
    // bounded, not just small: RSS in the last quarter of the run vs the second quarter
    const q = (s: number[], from: number, to: number): number => Math.max(...s.slice(Math.floor(s.length * from), Math.ceil(s.length * to)));
    const growth = Math.max(...rssSeries.map((s) => q(s, 0.75, 1) - q(s, 0.25, 0.5)));
    return {
      values: { rate: sinkRate, peakRssMB: Math.max(...workers.map((w) => w.peakRssMB)), rssGrowthMB: growth, emitted },
      samples: {},
      workers,
      otherCpuPercent,
      checks,
    };
  } finally {
    await pair.close();
  }
}

/** Waits until counts stop moving and every emitted tuple is accounted for (at most 60 s). */
async function drain(pair: WorkerPair, acking: boolean): Promise<Snapshot> {
  const deadline = performance.now() + 60_000;
  for (;;) {
    const s = await pair.snapshot();
    const emitted = total(s, 'spout', 'emitted');
    const done = acking ? total(s, '*spouts', 'acked') + total(s, '*spouts', 'failed') : total(s, 'sink', 'executed');
    if (done >= emitted || performance.now() > deadline) {
      await sleep(500); // emits still in flight when the spout stopped would show up by now
      return pair.snapshot();
    }
    await sleep(100);
  }
}

// ---- startup of `squall local` ------------------------------------------------------------------

function repoRoot(): string {
  let dir = __dirname;
  while (!require('node:fs').existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  return dir;
}

/** Time from starting `squall local examples/word-count/topology.ts` to its first progress line. */
function localFirstLine(): Promise<number> {
  const cli = path.join(__dirname, '..', 'cli', 'main.js');
  const example = path.join(repoRoot(), 'examples', 'word-count', 'topology.ts');
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [cli, 'local', example, '--duration', '3'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let done = false;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (!done && /^\[\s*\d+s\]/m.test(out)) {
        done = true;
        resolve(performance.now() - t0);
        child.kill('SIGINT');
      }
    });
    child.on('exit', () => {
      if (!done) reject(new Error(`squall local printed no progress line:\n${out}`));
    });
  });
}

async function localStartup(): Promise<ScenarioResult> {
  const times: number[] = [];
  for (let i = 0; i < 3; i++) times.push(await localFirstLine());
  // other load is not measured here: the CLI's processes, what is being timed, would count as other
  return { values: { firstLineMs: median(times) }, samples: { firstLineMs: times }, workers: [], otherCpuPercent: NaN, checks: [] };
}

// ---- the table ------------------------------------------------------------------------------------

export async function runScenario(args: ScenarioArgs): Promise<ScenarioResult> {
  const [kind, a, b, variant] = args.id.split('/');
  switch (kind) {
    case 'baseline':
      return baseline();
    case 'const-null':
    case 'const-id-null':
    case 'word-count':
      // batch1: one tuple per frame, what batching per destination worker buys
      return throughput(kind, a as 'in' | '2w', b === 'on', variant === 'batch1' ? { 'topology.transfer.batch.size': 1 } : {});
    case 'latency':
      return latency(args.rate ?? 0);
    case 'cluster':
      return cluster();
    case 'slow':
      return slow(a === 'on');
    case 'async':
      // async/in/<acking>/<limit>
      return asyncIo(b === 'on', Number(variant));
    case 'local-startup':
      return localStartup();
    case 'windows':
      // windows/count-agg/in/{off,on}, windows/sliding-rss, windows/latency/2w (bench/windows/)
      if (a === 'count-agg') return countAggregation(variant === 'on');
      if (a === 'sliding-rss') return slidingMemory();
      if (a === 'latency') return resultLatency();
      throw new Error(`unknown scenario ${args.id}`);
    case 'state': {
      // checkpoints of 1,000,000 keys per state backend (bench/state.ts)
      const meter = new CpuMeter([]);
      const figures = await stateFigures(a as 'memory' | 'sqlite' | 'redis');
      return { values: { ...figures }, samples: {}, workers: [], otherCpuPercent: meter.otherPercent(), checks: [] };
    }
    case 'connectors':
      return connectorScenario(a);
    case 'ad-campaigns':
      return adCampaignsScenario(a === 'on');
    case 'codec': {
      const meter = new CpuMeter([]);
      const c = codecFigures();
      return { values: { ...c }, samples: {}, workers: [], otherCpuPercent: meter.otherPercent(), checks: [] };
    }
    default:
      throw new Error(`unknown scenario ${args.id}`);
  }
}
