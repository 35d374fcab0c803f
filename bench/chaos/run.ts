/**
 * The chaos run: a reliable word count on a local cluster (ZooKeeper, Nimbus, N supervisors, real
 * worker processes) for `--duration` seconds while random workers are killed (kill -9) and
 * random supervisors are killed (kill -9) and started again a few seconds later. Then a calm
 * period, then the input stops and every message ever emitted must be acked (bounded wait).
 *
 *   npm run chaos -- --duration 90 --seed 7 --kill-interval 4
 *   npm run chaos -- --mode state --duration 30     stateful word count, once per guarantee
 *
 * Prints: messages emitted, acked, replayed, lost (must be 0), restarts, worst recovery time,
 * peak RSS per process. Exits 1 when a message was lost, an orphan process was left, or the
 * drain timed out. The spout's ledger (bench/chaos/components.ts) is the evidence:
 * bench/chaos/ledger.ts reads it.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { Random } from '../../common/random';
import { ChaosCluster, waitUntil } from './cluster';
import { LEDGER_DIR_KEY, SPOUT_RATE_KEY, STOP_FILE_KEY } from './components';
import { collectFigures, printFigures, type Fault } from './figures';
import { SpoutLedger } from './ledger';
import { ROOT, isAlive } from './processes';
import { printStateOutcomes, stateChaos } from './state';

interface Options {
  durationSecs: number;
  seed: number;
  killIntervalSecs: number;
  supervisors: number;
  slots: number;
  workers: number;
  rate: number;
  supervisorShare: number;
  calmSecs: number;
  drainSecs: number;
  dir: string | null;
  json: string | null;
  /** `acking` (the reliable word count above) or `state` (bench/chaos/state.ts). */
  mode: 'acking' | 'state';
}

/** Short timeouts, so faults are noticed in seconds (printed with the figures). */
const DAEMON_CONFIG: Record<string, unknown> = {
  'storm.zookeeper.session.timeout': 4000,
  'storm.zookeeper.connection.timeout': 5000,
  'nimbus.monitor.freq.secs': 1,
  'nimbus.task.timeout.secs': 5,
  'nimbus.task.launch.secs': 15,
  'supervisor.heartbeat.frequency.secs': 1,
  'supervisor.monitor.frequency.secs': 1,
  'supervisor.worker.timeout.secs': 4,
  'supervisor.worker.start.timeout.secs': 20,
  'supervisor.worker.shutdown.sleep.secs': 1,
  'supervisor.worker.restart.backoff.max.secs': 4,
  'worker.heartbeat.frequency.secs': 1,
  'squall.log.level': 'info',
};
const MESSAGE_TIMEOUT_SECS = 5;
const NAME = 'chaos';
const SPOUT = 'sentences';
const SPOUT_TASKS = 2;
/** A killed supervisor comes back after this long (uniform). */
const SUPERVISOR_DOWN_MS: [number, number] = [2_000, 8_000];

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '90' },
      seed: { type: 'string', default: String(Date.now() % 100_000) },
      'kill-interval': { type: 'string', default: '4' },
      supervisors: { type: 'string', default: '3' },
      slots: { type: 'string', default: '2' },
      workers: { type: 'string', default: '4' },
      rate: { type: 'string', default: '250' },
      'supervisor-share': { type: 'string', default: '0.25' },
      calm: { type: 'string', default: '15' },
      drain: { type: 'string', default: '60' },
      dir: { type: 'string' },
      json: { type: 'string' },
      mode: { type: 'string', default: 'acking' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(
      'npm run chaos -- [--mode acking|state] [--duration secs] [--seed n] [--kill-interval secs] [--supervisors n] [--slots n] [--workers n]\n' +
        '                 [--rate msgs/s per spout task] [--supervisor-share 0..1] [--calm secs] [--drain secs] [--dir keep/logs/here] [--json figures.json]\n',
    );
    process.exit(0);
  }
  const num = (name: string, v: string | undefined, min: number): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number >= ${min} (got ${v})`);
    return n;
  };
  const o: Options = {
    durationSecs: num('duration', values.duration, 1),
    seed: num('seed', values.seed, 0),
    killIntervalSecs: num('kill-interval', values['kill-interval'], 0.5),
    supervisors: num('supervisors', values.supervisors, 2),
    slots: num('slots', values.slots, 1),
    workers: num('workers', values.workers, 1),
    rate: num('rate', values.rate, 1),
    supervisorShare: num('supervisor-share', values['supervisor-share'], 0),
    calmSecs: num('calm', values.calm, 0),
    drainSecs: num('drain', values.drain, 1),
    dir: values.dir ?? null,
    json: values.json ?? null,
    mode: values.mode === 'state' ? 'state' : 'acking',
  };
  if (values.mode !== 'acking' && values.mode !== 'state') throw new Error(`--mode must be acking or state (got ${values.mode})`);
  // one supervisor may be down at a time: the others must still hold every worker
  if ((o.supervisors - 1) * o.slots < o.workers) throw new Error(`--workers ${o.workers} must fit on ${o.supervisors - 1} supervisors of ${o.slots} slots`);
  return o;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function chaos(cluster: ChaosCluster, o: Options, random: Random, log: (line: string) => void): Promise<Fault[]> {
  const faults: Fault[] = [];
  const down = new Map<string, number>(); // supervisor → when to start it again
  const endMs = Date.now() + o.durationSecs * 1000;
  while (Date.now() < endMs) {
    await sleep(Math.min(endMs - Date.now(), o.killIntervalSecs * 1000 * (0.5 + random.nextFloat())));
    for (const [id, atMs] of down) {
      if (Date.now() < atMs) continue;
      down.delete(id);
      await cluster.restartSupervisor(id);
      log(`supervisor ${id} started again`);
    }
    if (Date.now() >= endMs) break;
    const up = [...cluster.supervisors.entries()].filter(([id, s]) => s.running && !down.has(id));
    if (down.size === 0 && random.nextFloat() < o.supervisorShare) {
      const [id, sup] = up[random.nextInt(up.length)];
      sup.kill9();
      faults.push({ kind: 'supervisor', target: id, atMs: Date.now() });
      down.set(id, Date.now() + SUPERVISOR_DOWN_MS[0] + random.nextFloat() * (SUPERVISOR_DOWN_MS[1] - SUPERVISOR_DOWN_MS[0]));
      log(`kill -9 supervisor ${id} (pid ${sup.pid})`);
      continue;
    }
    const workers = cluster.liveWorkers();
    if (workers.length === 0) continue;
    const victim = workers[random.nextInt(workers.length)];
    try {
      process.kill(victim.pid, 'SIGKILL');
    } catch {
      continue; // exited meanwhile
    }
    faults.push({ kind: 'worker', target: `${victim.supervisor}/${victim.pid}`, atMs: Date.now() });
    log(`kill -9 worker ${victim.pid} of ${victim.supervisor}`);
  }
  for (const id of down.keys()) {
    await cluster.restartSupervisor(id);
    log(`supervisor ${id} started again`);
  }
  return faults;
}

/** Submits the topology and waits for its workers and first acks; returns how many workers run. */
async function startTopology(cluster: ChaosCluster, o: Options, ledger: SpoutLedger, ledgerDir: string, stopFile: string): Promise<number> {
  await cluster.submit(
    path.join(ROOT, 'bench', 'chaos', 'topology.ts'),
    NAME,
    { 'topology.workers': o.workers, 'topology.message.timeout.secs': MESSAGE_TIMEOUT_SECS, 'topology.max.spout.pending': 500 },
    { [LEDGER_DIR_KEY]: ledgerDir, [SPOUT_RATE_KEY]: o.rate, [STOP_FILE_KEY]: stopFile },
  );
  await waitUntil(`${o.workers} running workers`, async () => {
    const page = await cluster.topology(NAME);
    return page.workers.length === o.workers && page.workers.every((w) => w.state === 'running');
  }, 30_000);
  const workers = cluster.liveWorkers().length;
  await waitUntil('the first acks', () => ledger.refresh().acked > 100, 30_000);
  return workers;
}

/** Stops the input (the spout then only replays) and waits, bounded, until every emitted id is acked. */
async function drain(o: Options, ledger: SpoutLedger, stopFile: string): Promise<{ stopMs: number; drainMs: number; drained: boolean }> {
  fs.writeFileSync(stopFile, '');
  const stopMs = Date.now();
  const drained = await waitUntil(
    'every emitted message acked',
    () => ledger.refresh().emitted > 0 && ledger.gaps(SPOUT_TASKS).length === 0 && ledger.unacked().length === 0,
    o.drainSecs * 1000,
    250,
  ).then(
    () => true,
    () => false,
  );
  return { stopMs, drainMs: Date.now() - stopMs, drained };
}

/** `--mode state`: exactly-once must be exact; the other two numbers are reported. */
async function mainState(o: Options): Promise<number> {
  const dir = o.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'squall-chaos-state-'));
  const t0 = Date.now();
  const log = (line: string): void => void process.stdout.write(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${line}\n`);
  log(`seed ${o.seed} (--seed ${o.seed} repeats these faults)`);
  const outcomes = await stateChaos(
    { seed: o.seed, supervisors: o.supervisors, slots: o.slots, workers: o.workers, rate: o.rate, durationSecs: o.durationSecs, killIntervalSecs: o.killIntervalSecs, dir, daemonConfig: DAEMON_CONFIG },
    log,
  );
  process.stdout.write(`\n${printStateOutcomes(outcomes)}\n\n`);
  for (const x of outcomes) {
    const figure = x.guarantee === 'exactly-once' ? `difference ${x.countedTwice + x.lost}` : x.guarantee === 'at-least-once' ? `${x.countedTwice} counted twice` : `${x.lost} lost`;
    process.stdout.write(`${x.guarantee}: ${figure}\n`);
  }
  if (o.json) fs.writeFileSync(o.json, JSON.stringify({ seed: o.seed, outcomes }, null, 2) + '\n');
  const exact = outcomes.find((x) => x.guarantee === 'exactly-once');
  const ok = exact !== undefined && exact.countedTwice === 0 && exact.lost === 0;
  if (ok && !o.dir) fs.rmSync(dir, { recursive: true, force: true });
  else log(`files kept in ${dir}`);
  return ok ? 0 : 1;
}

async function main(): Promise<number> {
  const o = parseOptions();
  if (o.mode === 'state') return mainState(o);
  const random = new Random(o.seed);
  const dir = o.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'squall-chaos-'));
  const ledgerDir = path.join(dir, 'ledger');
  const stopFile = path.join(dir, 'stop-input');
  const t0 = Date.now();
  const log = (line: string): void => void process.stdout.write(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${line}\n`);
  log(`chaos run: ${o.durationSecs} s, seed ${o.seed}, a fault every ~${o.killIntervalSecs} s, ${o.supervisors} supervisors × ${o.slots} slots, ${o.workers} workers, ${o.rate} msgs/s per spout task; files in ${dir}`);

  const cluster = await ChaosCluster.start({ dir, supervisors: o.supervisors, slots: o.slots, daemonConfig: DAEMON_CONFIG });
  // Interrupted: every process of the run is stopped by PID before leaving, files are kept.
  const onSignal = (signal: string): void => {
    log(`${signal}: stopping the cluster; files kept in ${dir}`);
    void cluster.stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const ledger = new SpoutLedger(ledgerDir, SPOUT);
  let ok = false;
  try {
    const initialWorkers = await startTopology(cluster, o, ledger, ledgerDir, stopFile);
    log(`topology running on ${initialWorkers} workers; chaos for ${o.durationSecs} s`);
    const faults = await chaos(cluster, o, random, log);
    log(`chaos over (${faults.length} faults); calm for ${o.calmSecs} s`);
    await sleep(o.calmSecs * 1000);
    log('input stopped; waiting for every emitted message to be acked');
    const drained = await drain(o, ledger, stopFile);
    await cluster.kill(NAME).catch((err: Error) => log(`kill failed: ${err.message}`));
    const summary =
      `${o.durationSecs} s of faults every ~${o.killIntervalSecs} s (seed ${o.seed}), ${o.supervisors} supervisors × ${o.slots} slots, ${o.workers} workers, ` +
      `${o.rate} msgs/s per spout task; ZooKeeper session ${(DAEMON_CONFIG['storm.zookeeper.session.timeout'] as number) / 1000} s, ` +
      `task timeout ${DAEMON_CONFIG['nimbus.task.timeout.secs'] as number} s, worker timeout ${DAEMON_CONFIG['supervisor.worker.timeout.secs'] as number} s, ` +
      `restart backoff cap ${DAEMON_CONFIG['supervisor.worker.restart.backoff.max.secs'] as number} s, message timeout ${MESSAGE_TIMEOUT_SECS} s`;
    const settings = { summary, ...o, daemonConfig: DAEMON_CONFIG, messageTimeoutSecs: MESSAGE_TIMEOUT_SECS };
    const figures = { ...collectFigures({ t0, initialWorkers, faults, settings, ...drained }, ledger, cluster, SPOUT_TASKS), orphans: await cluster.stop() };
    printFigures(figures);
    if (o.json) fs.writeFileSync(o.json, JSON.stringify(figures, null, 2) + '\n');
    ok = figures.drained && figures.messages.lost === 0 && figures.orphans.length === 0 && [...cluster.workersSeen.keys()].every((p) => !isAlive(p));
  } finally {
    await cluster.stop(); // idempotent: after an error, stops everything by PID
  }
  if (ok && !o.dir) fs.rmSync(dir, { recursive: true, force: true });
  else log(`files kept in ${dir}`);
  return ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`chaos: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
