/**
 * A real Squall cluster for test/cluster: a throwaway ZooKeeper, `squall nimbus` and N
 * `squall supervisor` child processes started from bin/squall.js with one shared JSON config file,
 * every port an ephemeral one on 127.0.0.1, and the CLI run as child processes too.
 *
 * Everything a test waits for is a named, bounded condition (`waitFor`). Daemon output goes to
 * files in the temp dir (`logTails()` on failure); `stop()` stops every process by PID (SIGTERM,
 * then SIGKILL after a bound), then proves that no worker process is left and removes the temp dir.
 *
 * Needs the built CLI (`node scripts/build.js`, which `npm test` runs first) and ZooKeeper
 * (scripts/ensure-packages.sh).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ClusterSummary, SupervisorSummaryEntry, TopologyPage, TopologySummaryEntry } from '../../common/protocol/rest';
import { freePort, startZooKeeper, type ZooKeeperServer } from './zookeeper';
import { isProcessAlive, isWorkerProcess, workerChildren } from './cluster-processes';

export const ROOT = path.resolve(__dirname, '../..');
export const SQUALL_BIN = path.join(ROOT, 'bin', 'squall.js');
const CLI_MAIN = path.join(ROOT, 'dist', 'cli', 'main.js');
export const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'cluster');

/**
 * Short timeouts so failures are detected in seconds (the suite must stay small), but none shorter
 * than what a busy machine legitimately takes: a worker process starting (node, its bundle, its
 * links) took 4.2 s with two CPU-bound jobs beside the suite on 2 cores, so Nimbus's task timeout
 * (which a worker restarting in its own slot must beat) is 10 s, not the 4 s that moved such
 * workers to other slots under load. Hung workers are the supervisor's to find (3 s).
 */
export const FAST_DAEMON_CONFIG: Readonly<Record<string, unknown>> = {
  'storm.zookeeper.session.timeout': 3000,
  'storm.zookeeper.connection.timeout': 5000,
  'nimbus.monitor.freq.secs': 1,
  'nimbus.task.timeout.secs': 10,
  'nimbus.task.launch.secs': 20,
  'supervisor.heartbeat.frequency.secs': 1,
  'supervisor.monitor.frequency.secs': 1,
  'supervisor.worker.timeout.secs': 3,
  'supervisor.worker.start.timeout.secs': 20,
  'supervisor.worker.shutdown.sleep.secs': 1,
  'supervisor.worker.restart.backoff.max.secs': 2,
  'worker.heartbeat.frequency.secs': 1,
  'squall.log.level': 'info',
};

const STOP_GRACE_MS = 8_000;
const CLI_TIMEOUT_MS = 30_000;
const READY_TIMEOUT_MS = 20_000;
const ZOOKEEPER_READY_TIMEOUT_MS = 15_000;
const WORKERS_RUNNING_TIMEOUT_MS = 20_000;

// ---- time budgets ----------------------------------------------------------------------------
//
// Every wait in the process-level suites is a named, bounded `waitFor`, so on a slow machine the
// step that is slow says so. Jest's hook and test timeouts are only backstops behind them, for
// something that hangs outside any wait: each must exceed the sum of the named waits it covers, or
// on a loaded machine jest's anonymous "Exceeded timeout of 60000 ms for a hook" fires first and
// hides which step was slow (the groupings suite's beforeAll did exactly that: its 60 s covered
// waits bounded at 145 s). Suites build their backstops with `backstopMs(...)` from these bounds.

/** The waits of Cluster.start: ZooKeeper, Nimbus, then the supervisors (started together). */
export const CLUSTER_START_BOUND_MS = ZOOKEEPER_READY_TIMEOUT_MS + 2 * READY_TIMEOUT_MS;
/** A `squall submit` (one CLI run) and its workers running. */
export const SUBMIT_BOUND_MS = CLI_TIMEOUT_MS + WORKERS_RUNNING_TIMEOUT_MS;
/** Cluster.stop: each daemon's SIGTERM grace (at most, one at a time) and ZooKeeper's. */
export const CLUSTER_STOP_BOUND_MS = 4 * STOP_GRACE_MS + 5_000;
const BACKSTOP_MARGIN_MS = 15_000;

/** A jest timeout for a hook or test whose named waits are bounded by `waitsMs`. */
export function backstopMs(...waitsMs: number[]): number {
  return waitsMs.reduce((a, b) => a + b, 0) + BACKSTOP_MARGIN_MS;
}
const POLL_MS = 100;
const LOG_TAIL_CHARS = 6_000;
/** How often the background scan records the worker processes each supervisor has started. */
const WORKER_SCAN_MS = 200;

export interface ClusterOptions {
  /** Names the temp dir and the ZooKeeper root (one per test file). */
  name: string;
  supervisors: number;
  slotsPerSupervisor: number;
  /** Extra daemon configuration for the shared config file. */
  config?: Record<string, unknown>;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** One daemon child process (`squall nimbus` or `squall supervisor`). */
export class DaemonProcess {
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  readonly exited: Promise<void>;

  constructor(
    readonly label: string,
    readonly child: ChildProcess,
    readonly logFile: string,
  ) {
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        resolve();
      });
      child.once('error', () => {
        this.exitInfo ??= { code: null, signal: null };
        resolve();
      });
    });
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error(`${this.label} has no pid (spawn failed)`);
    return this.child.pid;
  }

  get running(): boolean {
    return this.exitInfo === null;
  }

  describeExit(): string {
    return this.exitInfo ? `exited (code ${this.exitInfo.code}, signal ${this.exitInfo.signal})` : 'running';
  }

  kill9(): void {
    if (this.running) this.child.kill('SIGKILL');
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. */
  async stop(graceMs = STOP_GRACE_MS): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const forced = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(forced);
  }
}

/** Polls `check` until it returns a value other than undefined/false; named and bounded. */
export async function waitFor<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs: number, pollMs = POLL_MS): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  let lastError: unknown = null;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
      lastError = null;
    } catch (err) {
      lastError = err;
    }
    if (performance.now() > deadline) {
      const last = lastError ? ` (last error: ${lastError instanceof Error ? lastError.message : String(lastError)})` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last}`);
    }
    await sleep(pollMs);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export class Cluster {
  readonly dir: string;
  readonly configFile: string;
  /** Fixture output, one sub-directory per topology name. */
  readonly outDir: string;
  readonly zkRoot: string;
  nimbus: DaemonProcess | null = null;
  readonly supervisors = new Map<string, DaemonProcess>();
  /** Every worker PID seen (REST or the process table), checked at stop(). */
  readonly workerPidsSeen = new Set<number>();
  private readonly slotPorts = new Map<string, number[]>();
  private readonly daemonsEver: DaemonProcess[] = [];
  private scanTimer: NodeJS.Timeout | null = null;
  private failed = false;
  private stopped = false;

  private constructor(
    readonly options: ClusterOptions,
    readonly zk: ZooKeeperServer,
    readonly nimbusPort: number,
    dir: string,
  ) {
    this.dir = dir;
    this.configFile = path.join(dir, 'squall.json');
    this.outDir = path.join(dir, 'out');
    this.zkRoot = `/squall-test-${options.name}-${process.pid}`;
    fs.mkdirSync(this.outDir, { recursive: true });
  }

  /** ZooKeeper, the config file, Nimbus and the supervisors (`sup-1`, `sup-2`, ...), all ready. */
  static async start(options: ClusterOptions): Promise<Cluster> {
    if (!fs.existsSync(CLI_MAIN)) throw new Error(`${CLI_MAIN} is missing: run \`node scripts/build.js\` first (npm test does)`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `squall-cluster-${options.name}-`));
    const zk = await startZooKeeper({ readyTimeoutMs: ZOOKEEPER_READY_TIMEOUT_MS });
    const cluster = new Cluster(options, zk, await freePort(), dir);
    try {
      cluster.writeConfig();
      cluster.scanTimer = setInterval(() => cluster.scanWorkers(), WORKER_SCAN_MS);
      await cluster.startNimbus();
      // Ports free a moment ago, all distinct (the kernel may hand out a port just closed again).
      const taken = new Set([zk.port, cluster.nimbusPort]);
      for (let i = 1; i <= options.supervisors; i++) {
        const ports: number[] = [];
        while (ports.length < options.slotsPerSupervisor) {
          const port = await freePort();
          if (!taken.has(port)) ports.push(port);
          taken.add(port);
        }
        cluster.slotPorts.set(`sup-${i}`, ports);
      }
      await Promise.all([...cluster.slotPorts.keys()].map((id) => cluster.startSupervisor(id)));
    } catch (err) {
      cluster.markFailed();
      await cluster.stop().catch(() => undefined);
      throw new Error(`${err instanceof Error ? err.message : String(err)}\n${cluster.logTails()}`);
    }
    return cluster;
  }

  /** `127.0.0.1:<port>` for `--nimbus`. */
  get nimbusAddress(): string {
    return `127.0.0.1:${this.nimbusPort}`;
  }

  get url(): string {
    return `http://${this.nimbusAddress}`;
  }

  supervisorIds(): string[] {
    return [...this.slotPorts.keys()];
  }

  private writeConfig(): void {
    const conf = {
      'storm.zookeeper.servers': [this.zk.connectString],
      'storm.zookeeper.root': this.zkRoot,
      'nimbus.host': '127.0.0.1',
      'nimbus.port': this.nimbusPort,
      'storm.local.dir': path.join(this.dir, 'nimbus'),
      ...FAST_DAEMON_CONFIG,
      ...this.options.config,
    };
    fs.writeFileSync(this.configFile, JSON.stringify(conf, null, 2) + '\n');
  }

  private spawnDaemon(label: string, args: string[]): DaemonProcess {
    const logFile = path.join(this.dir, `${label}.log`);
    const fd = fs.openSync(logFile, 'a');
    const child = spawn(process.execPath, [SQUALL_BIN, ...args], { cwd: ROOT, stdio: ['ignore', fd, fd], env: daemonEnv() });
    fs.closeSync(fd);
    const daemon = new DaemonProcess(label, child, logFile);
    this.daemonsEver.push(daemon);
    return daemon;
  }

  // ---- Nimbus ----

  /** Starts Nimbus (same port, config and local dir every time) and waits for its REST API. */
  async startNimbus(): Promise<void> {
    if (this.nimbus?.running) throw new Error('nimbus is already running');
    const nimbus = this.spawnDaemon('nimbus', ['nimbus', '--config', this.configFile]);
    this.nimbus = nimbus;
    await waitFor(
      'nimbus REST to answer GET /api/v1/nimbus/summary',
      async () => {
        if (!nimbus.running) throw new Error(`nimbus ${nimbus.describeExit()}`);
        const res = await fetch(`${this.url}/api/v1/nimbus/summary`, { signal: AbortSignal.timeout(2000) });
        return res.ok;
      },
      READY_TIMEOUT_MS,
    ).catch((err: Error) => {
      if (!nimbus.running) throw new Error(`nimbus ${nimbus.describeExit()} before its REST API answered`);
      throw err;
    });
  }

  /** kill -9 Nimbus (its ZooKeeper session lingers until it times out, as after a crash). */
  async killNimbus(): Promise<void> {
    const nimbus = this.nimbus;
    if (!nimbus) return;
    nimbus.kill9();
    await nimbus.exited;
  }

  // ---- supervisors ----

  /** Starts supervisor `id` (its slot ports and local dir are kept across restarts) and waits until Nimbus lists it. */
  async startSupervisor(id: string): Promise<void> {
    const ports = this.slotPorts.get(id);
    if (!ports) throw new Error(`unknown supervisor ${id}`);
    if (this.supervisors.get(id)?.running) throw new Error(`supervisor ${id} is already running`);
    const sup = this.spawnDaemon(id, [
      'supervisor',
      '--config',
      this.configFile,
      '-c',
      `supervisor.id=${id}`,
      '-c',
      `storm.local.dir=${path.join(this.dir, id)}`,
      '-c',
      `supervisor.slots.ports=${JSON.stringify(ports)}`,
    ]);
    this.supervisors.set(id, sup);
    await waitFor(
      `supervisor ${id} to be listed by GET /api/v1/supervisor/summary`,
      async () => {
        if (!sup.running) throw new Error(`supervisor ${id} ${sup.describeExit()}`);
        return (await this.supervisorSummary()).some((s) => s.id === id);
      },
      READY_TIMEOUT_MS,
    );
  }

  /** PIDs of the worker processes supervisor `id` has running now (its children). */
  workersOf(id: string): number[] {
    const sup = this.supervisors.get(id);
    if (!sup?.running) return [];
    const pids = workerChildren(sup.pid);
    for (const pid of pids) this.workerPidsSeen.add(pid);
    return pids;
  }

  /**
   * Stops supervisor `id`. 'SIGTERM': it stops its workers and leaves. 'SIGKILL': what losing the
   * machine looks like: the supervisor and all its workers are killed at the same moment.
   */
  async stopSupervisor(id: string, how: 'SIGTERM' | 'SIGKILL'): Promise<number[]> {
    const sup = this.supervisors.get(id);
    if (!sup) throw new Error(`unknown supervisor ${id}`);
    const workers = this.workersOf(id);
    if (how === 'SIGTERM') {
      await sup.stop();
    } else {
      sup.kill9();
      for (const pid of workers) kill9(pid);
      await sup.exited;
    }
    await waitFor(`the workers of supervisor ${id} (${workers.join(', ')}) to exit`, () => workers.every((p) => !isProcessAlive(p)), 10_000);
    return workers;
  }

  /** kill -9 one worker process. */
  killWorker9(pid: number): void {
    this.workerPidsSeen.add(pid);
    kill9(pid);
  }

  private scanWorkers(): void {
    for (const id of this.supervisors.keys()) {
      try {
        this.workersOf(id);
      } catch {
        // a process that exits while /proc is read: the next scan sees the rest
      }
    }
  }

  // ---- CLI ----

  /** Runs `node bin/squall.js <args>` to completion (bounded) and returns its exit code and output. */
  cli(args: string[], timeoutMs = CLI_TIMEOUT_MS): Promise<CliResult> {
    return runSquall(args, path.join(this.dir, 'cli.log'), timeoutMs);
  }

  /** Runs a CLI command against this Nimbus and insists on exit code 0. */
  async cliOk(args: string[]): Promise<string> {
    const res = await this.cli([...args, '--nimbus', this.nimbusAddress]);
    if (res.code !== 0) throw new Error(`squall ${args.join(' ')} exited ${res.code}\nstdout: ${res.stdout}\nstderr: ${res.stderr}`);
    return res.stdout;
  }

  /**
   * `squall submit <fixture> --name <name> -c topology.*=...` with the fixture's user config
   * (`test.output.dir` = `outputDirOf(name)`, plus `user`). The user keys go in through a small
   * entry module's `export const config`, as users' own modules do, because `squall submit -c`
   * refuses keys outside topology.* (see the failing test in test/cluster/lifecycle.test.ts).
   * Returns the topology id.
   */
  async submit(fixture: string, name: string, topologyConfig: Record<string, unknown>, user: Record<string, unknown> = {}): Promise<string> {
    const out = this.outputDirOf(name);
    fs.mkdirSync(out, { recursive: true });
    const entryDir = path.join(this.dir, 'entries');
    fs.mkdirSync(entryDir, { recursive: true });
    const entry = path.join(entryDir, `${name}.ts`);
    const target = path.join(FIXTURES, fixture).replace(/\.ts$/, '');
    const config = { 'test.output.dir': out, ...user };
    fs.writeFileSync(entry, `export { default } from ${JSON.stringify(target)};\nexport const config = ${JSON.stringify(config, null, 2)};\n`);
    const flags = Object.entries(topologyConfig).flatMap(([k, v]) => ['-c', `${k}=${JSON.stringify(v)}`]);
    const stdout = await this.cliOk(['submit', entry, '--name', name, ...flags]);
    const m = /^submitted "([^"]+)" as (\S+) \(ACTIVE;/m.exec(stdout);
    if (!m || m[1] !== name) throw new Error(`unexpected submit output: ${stdout}`);
    return m[2];
  }

  /** Where the fixture components of topology `name` write what they see. */
  outputDirOf(name: string): string {
    return path.join(this.outDir, name);
  }

  // ---- REST ----

  async get<T>(route: string): Promise<T> {
    const res = await fetch(`${this.url}/api/v1${route}`, { signal: AbortSignal.timeout(5000) });
    const text = await res.text();
    if (!res.ok) throw new Error(`GET ${route} answered ${res.status}: ${text}`);
    return JSON.parse(text) as T;
  }

  clusterSummary(): Promise<ClusterSummary> {
    return this.get('/cluster/summary');
  }

  async supervisorSummary(): Promise<SupervisorSummaryEntry[]> {
    return (await this.get<{ supervisors: SupervisorSummaryEntry[] }>('/supervisor/summary')).supervisors;
  }

  async topologies(): Promise<TopologySummaryEntry[]> {
    return (await this.get<{ topologies: TopologySummaryEntry[] }>('/topology/summary')).topologies;
  }

  /** The topology page; every worker PID in it is remembered for the final leftover check. */
  async topology(idOrName: string): Promise<TopologyPage> {
    const page = await this.get<TopologyPage>(`/topology/${encodeURIComponent(idOrName)}`);
    for (const w of page.workers) if (w.pid) this.workerPidsSeen.add(w.pid);
    return page;
  }

  /** Waits until every assigned worker of the topology is running (heartbeating) with a PID. */
  async waitForWorkersRunning(idOrName: string, count: number, timeoutMs = WORKERS_RUNNING_TIMEOUT_MS): Promise<TopologyPage> {
    return waitFor(
      `${count} running workers of ${idOrName}`,
      async () => {
        const page = await this.topology(idOrName);
        return page.workers.length === count && page.workers.every((w) => w.state === 'running' && w.pid) ? page : false;
      },
      timeoutMs,
    );
  }

  /** `kill -w 0`, then waits until Nimbus has removed it and its workers are gone. */
  async killTopology(name: string, timeoutMs = 20_000): Promise<void> {
    const pids = (await this.topology(name)).workers.map((w) => w.pid).filter((p): p is number => !!p);
    await this.cliOk(['kill', name, '-w', '0']);
    await waitFor(`topology ${name} to be removed`, async () => !(await this.topologies()).some((t) => t.name === name), timeoutMs);
    await waitFor(`the workers of ${name} (${pids.join(', ')}) to exit`, () => pids.every((p) => !isProcessAlive(p)), timeoutMs);
  }

  // ---- failure reporting and cleanup ----

  markFailed(): void {
    this.failed = true;
  }

  /**
   * Runs a test body; on failure appends the tails of every daemon log to the error (and keeps the
   * temp dir for a post-mortem).
   */
  async run(body: () => Promise<void>): Promise<void> {
    try {
      await body();
    } catch (err) {
      this.markFailed();
      const e = err instanceof Error ? err : new Error(String(err));
      e.message += `\n\n--- cluster logs (${this.dir}) ---\n${this.logTails()}`;
      throw e;
    }
  }

  logTails(): string {
    const files = [...this.daemonsEver.map((d) => d.logFile), path.join(this.dir, 'cli.log'), ...this.workerLogFiles()];
    return [...new Set(files)]
      .filter((f) => fs.existsSync(f))
      .map((f) => {
        const text = fs.readFileSync(f, 'utf8');
        return `== ${path.relative(this.dir, f)} (last ${Math.min(text.length, LOG_TAIL_CHARS)} of ${text.length} chars)\n${text.slice(-LOG_TAIL_CHARS)}`;
      })
      .join('\n');
  }

  /** Workers write their output to log files under their supervisor's dir (docs/ui.md). */
  private workerLogFiles(): string[] {
    return [...this.slotPorts.keys()].flatMap((id) => workerLogFiles(path.join(this.dir, id, 'logs')));
  }

  /**
   * Stops the supervisors (they stop their workers), then Nimbus, then ZooKeeper, each by PID
   * (SIGTERM, SIGKILL after a bound); then checks that no worker process is left (any found is
   * killed and reported as an error) and removes the temp dir unless a test failed. Idempotent.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const problems: string[] = [];
    this.scanWorkers();
    if (this.scanTimer) clearInterval(this.scanTimer);
    const stopping = [...this.supervisors.values()].map(async (s) => {
      await s.stop();
    });
    await Promise.all(stopping);
    if (this.nimbus) await this.nimbus.stop();
    for (const d of this.daemonsEver) if (d.running) problems.push(`${d.label} (pid ${d.child.pid}) still running`);
    const deadline = performance.now() + 5_000;
    let left = [...this.workerPidsSeen].filter(isWorkerProcess);
    while (left.length > 0 && performance.now() < deadline) {
      await sleep(100);
      left = left.filter(isWorkerProcess);
    }
    if (left.length > 0) {
      for (const pid of left) kill9(pid);
      problems.push(`worker processes left after their supervisors stopped: ${left.join(', ')}`);
    }
    await this.zk.stop();
    if (problems.length > 0) this.failed = true;
    if (this.failed) process.stderr.write(`cluster test dir kept for inspection: ${this.dir}\n`);
    else fs.rmSync(this.dir, { recursive: true, force: true });
    if (problems.length > 0) throw new Error(`cluster cleanup: ${problems.join('; ')}\n${this.logTails()}`);
  }
}

/**
 * Runs `node bin/squall.js <args>` to completion (killed after `timeoutMs`), appending the command
 * and its output to `logFile`.
 */
export function runSquall(args: string[], logFile: string, timeoutMs = CLI_TIMEOUT_MS): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SQUALL_BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`squall ${args.join(' ')} did not finish within ${timeoutMs} ms; stdout: ${stdout}; stderr: ${stderr}`));
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      fs.appendFileSync(logFile, `$ squall ${args.join(' ')}\n[exit ${code}]\n${stdout}${stderr}\n`);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The environment of a daemon as an operator would start it: not silenced by jest's variables. */
function daemonEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.JEST_WORKER_ID;
  delete env.LOG_LEVEL;
  return env;
}

function kill9(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/** Every worker log file (current and rotated) under a supervisor's logs root. */
export function workerLogFiles(root: string): string[] {
  if (!fs.existsSync(root)) return [];
  const out: string[] = [];
  for (const topology of fs.readdirSync(root)) {
    for (const port of fs.readdirSync(path.join(root, topology))) {
      const dir = path.join(root, topology, port);
      for (const f of fs.readdirSync(dir)) if (f.startsWith('worker.log')) out.push(path.join(dir, f));
    }
  }
  return out;
}
