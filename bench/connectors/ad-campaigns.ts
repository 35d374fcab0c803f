/**
 * The Yahoo Streaming Benchmark on this machine (`npm run bench -- --only ad-campaigns`):
 * examples/ad-campaigns in this process (one worker), the generator and latency probe in another
 * (ad-generator.ts), a throwaway redis-server in a third — all on the same cores.
 *
 * 1. Ceiling: the raw client's XADD (pipelined) and XREADGROUP + XACK rates of event JSON.
 * 2. Maximum sustainable rate: fixed rates up a ladder; a rate is sustained when the generator
 *    achieves it, the consumer group ends less than a second behind, and every window's result
 *    arrives (its count equal to the views written, checked); the first rate that fails ends it.
 * 3. Window latency (window end → count in Redis) p50/p99 at the maximum and at half of it.
 */
import { fork } from 'node:child_process';
import type Redis from 'ioredis';
import * as path from 'node:path';
import { buildAdCampaigns } from '../../examples/ad-campaigns/topology';
import { adCatalog, EventMaker } from '../../examples/ad-campaigns/events';
import { ADS_KEY } from '../../examples/ad-campaigns/components';
import type { TopologyConfig } from '../../topology-api';
import { InProcessRun } from '../inprocess';
import { CpuMeter } from '../procfs';
import { startRedis, type RedisServer } from '../servers/redis';
import type { GeneratorArgs, GeneratorReport } from './ad-generator';
import { benchRedis, fillStream, rawRedisRead, rawRedisWrite, rawRespWrite, type ConnectorBenchResult as ScenarioResult } from './raw';

const WINDOW_MS = 10_000;
// SQUALL_AD_LADDER=5000,10000 SQUALL_AD_TRIAL_MS=12000 shorten a run (a smoke test of the scenario)
const TRIAL_MS = Number(process.env.SQUALL_AD_TRIAL_MS ?? 22_000);
const LATENCY_MS = Number(process.env.SQUALL_AD_LATENCY_MS ?? 42_000);
// steps of 50k from 100k up: the first one missed ends the ladder (acking off reached 350k, on 150k)
const LADDER = (process.env.SQUALL_AD_LADDER ?? '50000,100000,150000,200000,250000,300000,350000,400000,450000').split(',').map(Number);

function runGenerator(args: GeneratorArgs): Promise<GeneratorReport> {
  return new Promise((resolve, reject) => {
    const child = fork(path.join(__dirname, 'ad-generator.js'), [JSON.stringify(args)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let answered = false;
    child.on('message', (m: { ok: boolean; report?: GeneratorReport; error?: string }) => {
      answered = true;
      if (m.ok) resolve(m.report!);
      else reject(new Error(m.error));
    });
    child.on('exit', (code) => {
      if (!answered) reject(new Error(`the generator exited with ${code}`));
    });
  });
}

function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}

interface Trial {
  rate: number;
  report: GeneratorReport;
  sustained: boolean;
  why: string;
  /** Windows wholly inside the run whose count matched the views written. */
  windowsChecked: number;
  windowsWrong: number;
  p50: number;
  p99: number;
  cpu: number;
}

async function trial(server: RedisServer, redis: Redis, rate: number, ms: number, acking: boolean, n: number): Promise<Trial> {
  const stream = `ad-events-${n}`;
  const resultStream = `ad-windows-${n}`;
  const config: TopologyConfig = acking
    ? // windows ack their tuples when they fire: a window and its lag's worth of events in flight
      { 'topology.max.spout.pending': Math.max(50_000, Math.ceil(rate * 12)), 'topology.message.timeout.secs': 60 }
    : // no acker; the spout reads with XREADGROUP NOACK (Redis's at-most-once)
      { 'topology.processing.guarantee': 'at-most-once' };
  const run = InProcessRun.startBuilder(buildAdCampaigns({ url: server.url, stream, rate: 0, resultStream, windowMs: WINDOW_MS }), config);
  const meter = new CpuMeter([process.pid]);
  let report: GeneratorReport;
  try {
    // the spout creates its group at '$': give it a moment before the first event
    await new Promise((r) => setTimeout(r, 500));
    report = await runGenerator({ url: server.url, stream, resultStream, rate, durationMs: ms, windowMs: WINDOW_MS, drainMs: WINDOW_MS + 3000 });
  } finally {
    await run.close();
    // each trial's stream holds up to 2M entries: left behind they grew Redis past 3 GB by the
    // last trials (UNLINK frees them in Redis's background thread)
    await redis.unlink(stream, resultStream).catch(() => undefined);
  }
  const cpu = meter.percents()[0];
  const full = Object.keys(report.expected).filter((k) => {
    const start = Number(k.split('|')[1]);
    // a window fires when an event at least the lag past its end arrives (the watermark follows
    // event time): one that ended within the last events' lag never fires, so a window counts
    // only if it ended a second before the last event (a full bench once failed on exactly that)
    return start >= report.firstEventMs && start + WINDOW_MS + 1000 <= report.lastEventMs;
  });
  const wrong = full.filter((k) => report.counted[k] !== report.expected[k]);
  const lat = report.latencies.filter((l) => l.windowEnd > report.firstEventMs + WINDOW_MS).map((l) => l.ms);
  const why: string[] = [];
  if (report.achievedRate < rate * 0.97) why.push(`generator reached ${Math.round(report.achievedRate)}/s`);
  if (!(report.lagAtEnd < rate)) why.push(`consumer ${report.lagAtEnd} entries behind at the end`);
  if (full.length === 0) why.push('no complete window');
  if (wrong.length > 0) {
    const w = wrong[0];
    why.push(`${wrong.length}/${full.length} window counts wrong (e.g. ${w}: ${report.expected[w]} views written, counted ${report.counted[w] ?? 'nothing'})`);
  }
  return { rate, report, sustained: why.length === 0, why: why.join('; ') || 'sustained', windowsChecked: full.length, windowsWrong: wrong.length, p50: percentile(lat, 50), p99: percentile(lat, 99), cpu };
}

function recordLatency(values: Record<string, number>, checks: ScenarioResult['checks'], label: 'full' | 'half', t: Trial): void {
  values[`${label}Rate`] = t.rate;
  values[`${label}P50Ms`] = t.p50;
  values[`${label}P99Ms`] = t.p99;
  values[`${label}Cpu`] = t.cpu;
  checks.push({ what: `window counts at ${t.rate}/s`, ok: t.windowsWrong === 0 && t.windowsChecked > 0, detail: `${t.windowsChecked - t.windowsWrong}/${t.windowsChecked} windows exact` });
}

export async function adCampaignsScenario(acking: boolean): Promise<ScenarioResult> {
  const server = await startRedis();
  const redis = benchRedis(server.url);
  const checks: ScenarioResult['checks'] = [];
  try {
    const catalog = adCatalog();
    await redis.hset(ADS_KEY, catalog.campaignOf);
    const maker = new EventMaker(catalog, 3);
    const now = Date.now();
    const rawWrite = await rawRedisWrite(redis, 'raw-events', () => maker.next(now), 3000);
    await redis.del('raw-events');
    const rawRespWriteRate = await rawRespWrite(server.url, 'raw-events', () => maker.next(now), 3000);
    await redis.del('raw-events');
    await fillStream(server.url, 'raw-read', 1_000_000, () => maker.next(now));
    const rawRead = await rawRedisRead(redis, 'raw-read', 'raw', 3000);
    await redis.del('raw-read');

    const values: Record<string, number> = { rawWrite, rawRespWrite: rawRespWriteRate, rawRead };
    const trials: Trial[] = [];
    let n = 0;
    for (const rate of LADDER) {
      const t = await trial(server, redis, rate, TRIAL_MS, acking, n++);
      trials.push(t);
      process.stderr.write(`\n  ad-campaigns ${acking ? 'acking' : 'no acking'} @ ${rate}/s: ${t.why} (p99 ${t.p99} ms, cpu ${t.cpu.toFixed(0)}%)`);
      if (!t.sustained) break;
    }
    // the longer latency run at the highest rate that passed must hold too; a rate at the edge can
    // pass 22 s and not 42 s (the run fills Redis's memory and the machine's cores for longer):
    // then the next rate down is tried, and the one that holds is the maximum
    const passed = trials.filter((t) => t.sustained).reverse();
    let max = 0;
    for (const candidate of passed.slice(0, 3)) {
      const t = await trial(server, redis, candidate.rate, LATENCY_MS, acking, n++);
      process.stderr.write(`\n  ad-campaigns latency @ ${candidate.rate}/s: p50 ${t.p50} ms, p99 ${t.p99} ms (${t.why})`);
      if (!t.sustained) {
        checks.push({ what: `${candidate.rate}/s for ${LATENCY_MS / 1000} s`, ok: false, detail: t.why });
        continue;
      }
      max = candidate.rate;
      recordLatency(values, checks, 'full', t);
      break;
    }
    values.maxSustained = max;
    values.firstFailed = trials.find((t) => !t.sustained)?.rate ?? NaN;
    if (max > 0) {
      const half = Math.round(max / 2);
      const t = await trial(server, redis, half, LATENCY_MS, acking, n++);
      process.stderr.write(`\n  ad-campaigns latency @ ${half}/s: p50 ${t.p50} ms, p99 ${t.p99} ms (${t.why})`);
      recordLatency(values, checks, 'half', t);
    }
    for (const t of trials) checks.push({ what: `${t.rate}/s`, ok: t.sustained, detail: `${t.why}; p50 ${t.p50} ms, p99 ${t.p99} ms` });
    process.stderr.write('\n');
    // the generator and Redis are this scenario's own processes: "other load" is not measured here
    return { values, samples: {}, workers: [], otherCpuPercent: NaN, checks };
  } finally {
    redis.disconnect();
    await server.stop();
  }
}
