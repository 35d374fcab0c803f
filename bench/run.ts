/**
 * `npm run bench`: runs every scenario in its own process, prints the tables and writes them into
 * docs/benchmarks.md (between the generated-section markers; the rest of the page is kept).
 *
 *   npm run bench                      the whole suite (a few minutes)
 *   npm run bench -- --only const-null only scenarios whose id contains "const-null"
 *   npm run bench -- --no-write        print, leave docs/benchmarks.md alone
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CpuMeter } from './procfs';
import { renderMarkdown, renderText, type Outcome, type RunInfo } from './report';
import type { ScenarioArgs, ScenarioResult } from './scenarios';
import { sleep } from './measure';
import { runChild } from './child';

/** Scenario ids, in the order they run (the latency rates depend on the maximum measured first). */
const PLAN: string[] = [
  'baseline',
  'const-null/in/off',
  'const-null/in/on',
  'const-null/2w/off',
  'const-null/2w/on',
  'const-null/2w/off/batch1',
  'codec',
  'const-id-null/in/off',
  'const-id-null/in/on',
  'const-id-null/2w/off',
  'const-id-null/2w/on',
  'word-count/in/off',
  'word-count/in/on',
  'word-count/2w/on',
  'cluster',
  'latency/max',
  'latency/rates',
  'slow/off',
  'slow/on',
  'async/in/off/100',
  'async/in/off/1000',
  'async/in/on/1000',
  'local-startup',
  'windows/count-agg/in/off',
  'windows/count-agg/in/on',
  'windows/sliding-rss',
  'windows/latency/2w',
  'state/memory',
  'state/sqlite',
  'state/redis',
  'connectors/redis-spout',
  'connectors/redis-sink',
  'connectors/pg-sink',
  'connectors/nats-spout',
  'connectors/nats-sink',
  'connectors/rabbitmq-spout',
  'connectors/rabbitmq-sink',
  'connectors/mqtt-spout',
  'connectors/mqtt-sink',
  'ad-campaigns/off',
  'ad-campaigns/on',
  'baseline/end',
];

const FIXED_RATES = [1000, 10_000, 50_000];
const QUIET_OTHER_CPU_PERCENT = 25;
const QUIET_WAIT_MS = 5_000;
/** A scenario that shared the machine with more than this (percent of a core) is run again... */
const RETRY_OTHER_CPU_PERCENT = 50;
/** ...while the suite has run for less than this. */
const RETRY_UNTIL_MS = 240_000;

/** Other engineers' test runs may share the machine: wait (a bounded time) for a quiet moment. */
async function waitQuiet(): Promise<number> {
  const deadline = performance.now() + QUIET_WAIT_MS;
  for (;;) {
    const meter = new CpuMeter([]);
    await sleep(500);
    const other = meter.otherPercent();
    if (other < QUIET_OTHER_CPU_PERCENT || performance.now() > deadline) return other;
  }
}

/**
 * Runs a scenario; when other processes took more than half a core meanwhile, runs it once more
 * (while the suite is under its time budget) and keeps the run that shared the machine least.
 */
async function runOne(args: ScenarioArgs, outcomes: Outcome[], suiteStart: number): Promise<ScenarioResult | null> {
  let best: Outcome | null = null;
  for (let attempt = 0; attempt < 2; attempt++) {
    const quietBefore = await waitQuiet();
    const t0 = performance.now();
    process.stderr.write(`bench: ${args.id}${args.rate !== undefined ? ` @ ${args.rate}/s` : ''}${attempt > 0 ? ' (again: the machine was busy)' : ''} … `);
    let outcome: Outcome;
    try {
      const result = await runChild(args);
      const other = Number.isNaN(result.otherCpuPercent) ? '' : `, other load ${result.otherCpuPercent.toFixed(0)}%`;
      process.stderr.write(`${((performance.now() - t0) / 1000).toFixed(1)} s${other}\n`);
      outcome = { args, result, quietBefore };
    } catch (err) {
      process.stderr.write(`failed\n${err instanceof Error ? err.message : String(err)}\n`);
      outcome = { args, error: err instanceof Error ? err.message : String(err), quietBefore };
    }
    const load = (o: Outcome | null): number => o?.result?.otherCpuPercent ?? Infinity;
    if (best === null || (outcome.result && !(load(outcome) >= load(best)))) best = outcome;
    const busy = !(load(best) <= RETRY_OTHER_CPU_PERCENT); // NaN (not measured) never retries
    if (!busy || Number.isNaN(best.result?.otherCpuPercent) || performance.now() - suiteStart > RETRY_UNTIL_MS) break;
  }
  outcomes.push(best!);
  return best!.result ?? null;
}

/** CPU pressure (Linux PSI): share of the last 60 s in which some runnable task waited for a CPU. */
function cpuPressure(): number {
  try {
    const m = /some avg10=[\d.]+ avg60=([\d.]+)/.exec(fs.readFileSync('/proc/pressure/cpu', 'utf8'));
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}

function machine(): RunInfo['machine'] {
  const cpus = os.cpus();
  return { cores: cpus.length, cpuModel: cpus[0]?.model ?? 'unknown', node: process.version, os: `${os.type()} ${os.release()}`, memGB: os.totalmem() / 2 ** 30 };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const only = argv.includes('--only') ? argv[argv.indexOf('--only') + 1] : null;
  const write = !argv.includes('--no-write') && only === null;
  const started = new Date();
  const t0 = performance.now();
  const loadBefore = os.loadavg();
  const pressureBefore = cpuPressure();
  const outcomes: Outcome[] = [];
  for (const id of PLAN) {
    if (only !== null && !id.includes(only)) continue;
    if (id === 'latency/rates') {
      const max = outcomes.find((o) => o.args.id === 'latency' && o.args.rate === 0)?.result?.values.sentencesPerSec;
      const half = max !== undefined && max > 0 ? Math.round(max / 2 / 1000) * 1000 : 0;
      const rates = [...FIXED_RATES, half].filter((r) => r > 0).sort((a, b) => a - b);
      for (const rate of rates) await runOne({ id: 'latency', rate, half: rate === half }, outcomes, t0);
      continue;
    }
    if (id === 'latency/max') {
      await runOne({ id: 'latency', rate: 0 }, outcomes, t0);
      continue;
    }
    await runOne({ id }, outcomes, t0);
  }
  const info: RunInfo = {
    date: started.toISOString(),
    durationSecs: (performance.now() - t0) / 1000,
    machine: machine(),
    loadBefore,
    loadAfter: os.loadavg(),
    pressureBefore,
    pressureAfter: cpuPressure(),
  };
  process.stdout.write(renderText(outcomes, info));
  if (write) {
    const file = path.join(repoRoot(), 'docs', 'benchmarks.md');
    const md = renderMarkdown(outcomes, info, fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : null);
    fs.writeFileSync(file, md);
    process.stdout.write(`\nwrote ${path.relative(process.cwd(), file)}\n`);
  }
  if (outcomes.some((o) => o.error !== undefined)) process.exitCode = 1;
}

function repoRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  return dir;
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
