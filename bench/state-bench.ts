/**
 * State and checkpoint benchmarks (docs/benchmarks.md, "State and checkpoints"), each on one
 * WorkerRuntime (one core, no links), so the ratios isolate what state costs:
 *
 * 1. word count, the same topology with a plain `Map` count and with a stateful count
 *    (KeyValueState, checkpoint every 1 s), under at-least-once (acker on both) and exactly-once
 *    (against the plain one without acking): each run in a fresh process, the pairs alternated,
 *    the ratio the median of the per-round ratios;
 * 2. one checkpoint of 1,000,000 keys through the configured provider: prepareCommit to durable,
 *    commit, and the bytes it reports;
 * 3. exactly-once end-to-end latency into a two-phase-commit sink (input time → the commit that
 *    makes it visible), p50/p99, at 1 s checkpoints.
 *
 *   node scripts/build.js && flock /tmp/squall-heavy.lock node dist/bench/state-bench.js [--provider memory|sqlite|redis] [--no-write]
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFile } from 'node:child_process';
import { parseArgs } from 'node:util';
import {
  BaseBasicBolt,
  BaseStatefulBolt,
  SentenceGeneratorSpout,
  TopologyBuilder,
  TwoPhaseCommitSinkBolt,
  GeneratorSpout,
  resolveTopologyConfig,
  type BasicOutputCollector,
  type KeyValueState,
  type OutputCollector,
  type OutputFieldsDeclarer,
  type TopologyConfig,
  type TopologyContext,
  type Tuple,
} from '../topology-api';
import { SystemClock } from '../common/clock';
import { Histogram } from '../common/histogram';
import { silentLogger } from '../common/logging';
import { WorkerRuntime } from '../worker/runtime';
import { createStateProvider } from '../worker/state/provider';
import { whenSettled } from '../worker/checkpoint/state-access';
import { median, rate, sleep, type Snapshot } from './measure';

const WARMUP_MS = 2000;
const WINDOW_MS = 3000;
const ROUNDS = 5;

class Split extends BaseBasicBolt {
  execute(t: Tuple, c: BasicOutputCollector): void {
    const s = t.getString(0);
    let from = 0;
    for (let i = 0; i <= s.length; i++) {
      if (i === s.length || s.charCodeAt(i) === 32) {
        if (i > from) c.emit([s.slice(from, i)]);
        from = i + 1;
      }
    }
  }
  declareOutputFields(d: OutputFieldsDeclarer): void {
    d.declare(['word']);
  }
}

class PlainCount extends BaseBasicBolt {
  private readonly counts = new Map<string, number>();
  execute(t: Tuple): void {
    const w = t.getString(0);
    this.counts.set(w, (this.counts.get(w) ?? 0) + 1);
  }
}

class StatefulCount extends BaseStatefulBolt<KeyValueState<string, number>> {
  private counts!: KeyValueState<string, number>;
  private collector!: OutputCollector;
  prepare(_c: Readonly<TopologyConfig>, _x: TopologyContext, collector: OutputCollector): void {
    this.collector = collector;
  }
  initState(state: KeyValueState<string, number>): void {
    this.counts = state;
  }
  execute(t: Tuple): void {
    const w = t.getString(0);
    this.counts.put(w, this.counts.get(w, 0) + 1);
    this.collector.ack(t);
  }
}

function wordCount(stateful: boolean): TopologyBuilder {
  const b = new TopologyBuilder();
  b.setSpout('sentences', () => new SentenceGeneratorSpout(), 1);
  b.setBolt('split', () => new Split(), 1).shuffleGrouping('sentences');
  b.setBolt('count', () => (stateful ? new StatefulCount() : new PlainCount()), 1).fieldsGrouping('split', ['word']);
  return b;
}

/** Where the embedded (SQLite) provider keeps this run's files; removed at exit. */
const STATE_DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'squall-state-bench-'));
process.on('exit', () => fs.rmSync(STATE_DIR, { recursive: true, force: true }));

/** A WorkerRuntime with the configured state provider, as a worker process opens it (worker/worker.ts). */
function runtime(b: TopologyBuilder, config: TopologyConfig): WorkerRuntime {
  const topo = b.createTopology();
  const name = `bench-state-${process.pid}-${Math.random().toString(36).slice(2)}`;
  const rt = new WorkerRuntime({
    topologyId: `bench-${Math.random().toString(36).slice(2)}`,
    definition: topo.definition,
    factories: topo.factories,
    config: resolveTopologyConfig(topo.config, { 'topology.name': name }, config),
    clock: new SystemClock(),
    logger: silentLogger(),
    seed: 1,
    stateEnv: { topology: name, dir: STATE_DIR },
  });
  rt.start();
  return rt;
}

const snap = (rt: WorkerRuntime): Snapshot => [{ worker: 'in', atMs: performance.now(), stats: rt.stats() }];

/** count's executed rate over one window after a warm-up. */
async function measure(b: TopologyBuilder, config: TopologyConfig): Promise<{ rate: number; checkpoint: ReturnType<WorkerRuntime['stats']>[number]['checkpoint'] }> {
  const rt = runtime(b, config);
  try {
    await sleep(WARMUP_MS);
    const a = snap(rt);
    await sleep(WINDOW_MS);
    const z = snap(rt);
    return { rate: rate(a, z, 'count', 'executed'), checkpoint: z[0].stats.find((s) => s.component === '__checkpointspout')?.checkpoint };
  } finally {
    rt.close();
  }
}

const STATE = (provider: string): TopologyConfig => ({ 'topology.state.checkpoint.interval.ms': 1000, 'topology.state.provider': provider });

/** The four runs: each pair is a stateful topology and the plain one it is compared with. */
const VARIANTS: Record<string, (provider: string) => [TopologyBuilder, TopologyConfig]> = {
  'plain, acking': () => [wordCount(false), { 'topology.processing.guarantee': 'at-least-once' }],
  'stateful, at-least-once': (p) => [wordCount(true), { 'topology.processing.guarantee': 'at-least-once', ...STATE(p) }],
  'plain, no acking': () => [wordCount(false), { 'topology.processing.guarantee': 'at-most-once' }],
  'stateful, exactly-once': (p) => [wordCount(true), { 'topology.processing.guarantee': 'exactly-once', ...STATE(p) }],
};
const PAIRS: [plain: string, stateful: string][] = [
  ['plain, acking', 'stateful, at-least-once'],
  ['plain, no acking', 'stateful, exactly-once'],
];

/** One variant in a fresh process (`--variant`), as `npm run bench` runs each scenario. */
function measureInChild(variant: string, provider: string): Promise<{ rate: number; checkpointMs: number | null }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [__filename, '--variant', variant, '--provider', provider], { timeout: 60_000 }, (err, stdout) => {
      if (err) reject(err);
      else resolve(JSON.parse(stdout.trim().split('\n').at(-1)!) as { rate: number; checkpointMs: number | null });
    });
  });
}

/**
 * Each pair alternates AB, BA over the rounds, every run in a fresh process; the ratio is the
 * median of the per-round ratios (drift and other load on this shared machine fall on both sides,
 * as in bench/ab.ts), the rates the medians per variant.
 */
async function throughputRatios(provider: string): Promise<Record<string, number>> {
  const rates: Record<string, number[]> = {};
  const ratios: number[][] = PAIRS.map(() => []);
  const checkpointMs: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (let p = 0; p < PAIRS.length; p++) {
      const order = round % 2 === 0 ? PAIRS[p] : [PAIRS[p][1], PAIRS[p][0]];
      const got: Record<string, number> = {};
      for (const name of order) {
        const r = await measureInChild(name, provider);
        got[name] = r.rate;
        (rates[name] ??= []).push(r.rate);
        if (r.checkpointMs !== null) checkpointMs.push(r.checkpointMs);
        process.stdout.write(`  round ${round + 1} ${name}: ${Math.round(r.rate).toLocaleString('en-US')} words/s\n`);
      }
      ratios[p].push(got[PAIRS[p][1]] / got[PAIRS[p][0]]);
    }
  }
  const m = Object.fromEntries(Object.entries(rates).map(([k, v]) => [k, median(v)]));
  return {
    plainAcking: m['plain, acking'],
    statefulAtLeastOnce: m['stateful, at-least-once'],
    ratioAtLeastOnce: median(ratios[0]),
    plainNoAcking: m['plain, no acking'],
    statefulExactlyOnce: m['stateful, exactly-once'],
    ratioExactlyOnce: median(ratios[1]),
    checkpointMs: median(checkpointMs),
  };
}

/** One checkpoint of `keys` keys through the provider (as a stateful task's state). */
async function bigCheckpoint(provider: string, keys: number): Promise<Record<string, number>> {
  const name = `bench-1m-${process.pid}`;
  const conf = resolveTopologyConfig({ 'topology.name': name, 'topology.state.provider': provider });
  const source = createStateProvider(conf, { topology: name, dir: STATE_DIR });
  try {
    const state = await whenSettled(source.open({ namespace: 'bench/count/0' })) as { put(k: unknown, v: unknown): void; prepareCommit(t: number): unknown; commit(t: number): unknown; checkpointStats?: () => { sizeBytes: number } };
    for (let i = 0; i < keys; i++) state.put(`key-${i}`, i);
    const t0 = performance.now();
    const prepared = state.prepareCommit(1);
    const captureMs = performance.now() - t0;
    await whenSettled(prepared);
    const prepareMs = performance.now() - t0;
    const t1 = performance.now();
    await whenSettled(state.commit(1));
    const commitMs = performance.now() - t1;
    return { keys, captureMs, prepareMs, commitMs, sizeBytes: state.checkpointStats?.().sizeBytes ?? NaN };
  } finally {
    await whenSettled(source.close?.());
  }
}

/** Input time → visible (its transaction committed), per tuple. */
const e2e = new Histogram();

class TimedSink extends TwoPhaseCommitSinkBolt<{ times: number[] }> {
  beginTransaction(): { times: number[] } {
    return { times: [] };
  }
  invoke(txn: { times: number[] }, t: Tuple): void {
    txn.times.push(t.getDouble(0));
  }
  preCommit(): void {}
  commit(txn: { times: number[] }): void {
    const now = Date.now();
    for (const ts of txn.times) e2e.recordMs(now - ts);
    txn.times.length = 0;
  }
  abort(): void {}
}

async function endToEnd(provider: string, ratePerSec: number): Promise<Record<string, number>> {
  const b = new TopologyBuilder();
  b.setSpout('events', () => new GeneratorSpout({ fields: ['ts'], generate: () => [Date.now()], ratePerSec }), 1);
  b.setBolt('sink', () => new TimedSink(), 1).shuffleGrouping('events');
  const rt = runtime(b, { 'topology.processing.guarantee': 'exactly-once', 'topology.state.checkpoint.interval.ms': 1000, 'topology.state.provider': provider });
  try {
    await sleep(3000);
    e2e.reset();
    await sleep(10_000);
    return { ratePerSec, samples: e2e.total, p50Ms: e2e.percentileMs(50), p99Ms: e2e.percentileMs(99), maxMs: e2e.percentileMs(100) };
  } finally {
    rt.close();
  }
}

function section(r: { ratios: Record<string, number>; big: Record<string, number>; latency: Record<string, number>; provider: string }): string {
  const n = (x: number): string => Math.round(x).toLocaleString('en-US');
  const pct = (x: number): string => `${(x * 100).toFixed(1)} %`;
  return [
    `Measured ${new Date().toISOString().slice(0, 10)} on ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'cpu'}), provider \`${r.provider}\` (\`node dist/bench/state-bench.js\`). Throughput: each run a fresh process (one WorkerRuntime, one core), ${WARMUP_MS / 1000} s warm-up then ${WINDOW_MS / 1000} s; each stateful topology alternated with its plain one over ${ROUNDS} rounds (AB, BA, ...); the rates are medians per row, the ratio the median of the ${ROUNDS} per-round ratios.`,
    '',
    '| word count, one process, checkpoint every 1 s | words/s (median) | stateful ÷ plain (median of rounds) |',
    '| --- | --- | --- |',
    `| plain count, acker on | ${n(r.ratios.plainAcking)} | |`,
    `| stateful count, at-least-once | ${n(r.ratios.statefulAtLeastOnce)} | ${pct(r.ratios.ratioAtLeastOnce)} |`,
    `| plain count, no acking | ${n(r.ratios.plainNoAcking)} | |`,
    `| stateful count, exactly-once | ${n(r.ratios.statefulExactlyOnce)} | ${pct(r.ratios.ratioExactlyOnce)} |`,
    '',
    `A checkpoint of the running word count took ${r.ratios.checkpointMs.toFixed(1)} ms (trigger → decision durable, median).`,
    '',
    `One checkpoint of ${n(r.big.keys)} keys: captured in ${r.big.captureMs.toFixed(0)} ms (the task is blocked only this long), durable after ${r.big.prepareMs.toFixed(0)} ms, committed in ${r.big.commitMs.toFixed(0)} ms, ${Number.isNaN(r.big.sizeBytes) ? 'size not reported' : `${(r.big.sizeBytes / 2 ** 20).toFixed(1)} MiB`}.`,
    '',
    `Exactly-once end to end into a two-phase-commit sink at ${n(r.latency.ratePerSec)} tuples/s, 1 s checkpoints: p50 ${r.latency.p50Ms.toFixed(0)} ms, p99 ${r.latency.p99Ms.toFixed(0)} ms, max ${r.latency.maxMs.toFixed(0)} ms over ${n(r.latency.samples)} tuples. Output waits for the checkpoint that commits it, so the latency is bounded by the interval plus the checkpoint's duration (docs/state.md, "Sinks").`,
  ].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { provider: { type: 'string', default: 'memory' }, 'no-write': { type: 'boolean', default: false }, keys: { type: 'string', default: '1000000' }, variant: { type: 'string' } } });
  const provider = values.provider as string;
  if (values.variant !== undefined) {
    const make = VARIANTS[values.variant];
    if (make === undefined) throw new Error(`no variant ${values.variant}: ${Object.keys(VARIANTS).join(', ')}`);
    const r = await measure(...make(provider));
    process.stdout.write(`${JSON.stringify({ rate: r.rate, checkpointMs: r.checkpoint?.durationMs ?? null })}\n`);
    return;
  }
  process.stdout.write(`state benchmarks, provider ${provider}\nthroughput (alternating, ${ROUNDS} rounds):\n`);
  const ratios = await throughputRatios(provider);
  process.stdout.write(`checkpoint of ${values.keys} keys\n`);
  const big = await bigCheckpoint(provider, Number(values.keys));
  process.stdout.write('exactly-once end-to-end latency\n');
  const latency = await endToEnd(provider, 5000);
  const text = section({ ratios, big, latency, provider });
  process.stdout.write(`\n${text}\n`);
  if (values['no-write']) return;
  const file = path.join(__dirname, '..', '..', 'docs', 'benchmarks.md');
  const doc = fs.readFileSync(file, 'utf8');
  const start = '<!-- state-bench:start -->';
  const end = '<!-- state-bench:end -->';
  const block = `${start}\n${text}\n${end}`;
  const next = doc.includes(start) ? doc.slice(0, doc.indexOf(start)) + block + doc.slice(doc.indexOf(end) + end.length) : `${doc.trimEnd()}\n\n## State and checkpoints\n\n${block}\n`;
  fs.writeFileSync(file, next);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`state-bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
