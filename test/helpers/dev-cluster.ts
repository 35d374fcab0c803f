/**
 * `squall dev` as a child process for tests that need a whole running cluster without ZooKeeper:
 * Nimbus and supervisors in one process over the in-memory store, real worker processes. Nimbus
 * listens on an ephemeral port; the slot ports are a run of consecutive free ports below Linux's
 * ephemeral range (so no outgoing socket is handed one meanwhile). Readiness is a named, bounded
 * wait; `stop()` ends the process by PID (SIGTERM, SIGKILL after a bound), checks that no worker
 * it started is left, and removes the temp dir unless the test failed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { TopologyPage, TopologySummaryEntry } from '../../common/protocol/rest';
import { FAST_DAEMON_CONFIG, ROOT, SQUALL_BIN, runSquall, sleep, waitFor, type CliResult } from './cluster-harness';
import { isWorkerProcess } from './cluster-processes';

const READY_TIMEOUT_MS = 20_000;
const STOP_GRACE_MS = 10_000;
const CLI_TIMEOUT_MS = 60_000;
const WORKERS_RUNNING_TIMEOUT_MS = 30_000;
/** Bounds of the named waits here, for tests' jest backstops (`backstopMs`, docs/testing.md). */
export const DEV_START_BOUND_MS = 2 * READY_TIMEOUT_MS;
/** One `squall` CLI run. */
export const DEV_CLI_BOUND_MS = CLI_TIMEOUT_MS;
/** A submit and its workers running. */
export const DEV_SUBMIT_BOUND_MS = CLI_TIMEOUT_MS + WORKERS_RUNNING_TIMEOUT_MS;
/** stop(): the SIGTERM grace and the wait for its workers to go. */
export const DEV_STOP_BOUND_MS = STOP_GRACE_MS + 5_000;
/** One REST read (`get`). */
export const DEV_GET_BOUND_MS = 5_000;
/** Slot ports are taken from here up (Linux hands out ephemeral ports from 32768). */
const SLOT_PORT_LOW = 20_000;
const SLOT_PORT_HIGH = 32_000;

export interface DevClusterOptions {
  name: string;
  supervisors: number;
  slots: number;
  /** Daemon config (`-c key=value` for `squall dev`). */
  config?: Record<string, unknown>;
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** The first of `count` consecutive ports that are free now. */
async function freePortRun(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = SLOT_PORT_LOW + Math.floor(Math.random() * (SLOT_PORT_HIGH - SLOT_PORT_LOW - count));
    let ok = true;
    for (let p = base; p < base + count && ok; p++) ok = await portIsFree(p);
    if (ok) return base;
  }
  throw new Error(`no run of ${count} free ports found between ${SLOT_PORT_LOW} and ${SLOT_PORT_HIGH}`);
}

export class DevClusterProcess {
  readonly dir: string;
  readonly logFile: string;
  url = '';
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private exitInfo: string | null = null;
  private readonly workerPids = new Set<number>();
  private failed = false;

  private constructor(readonly options: DevClusterOptions) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `squall-dev-${options.name}-`));
    this.logFile = path.join(this.dir, 'dev.log');
  }

  static async start(options: DevClusterOptions): Promise<DevClusterProcess> {
    const dev = new DevClusterProcess(options);
    try {
      await dev.launch();
    } catch (err) {
      dev.failed = true;
      await dev.stop().catch(() => undefined);
      throw new Error(`${(err as Error).message}\n${dev.logTail()}`);
    }
    return dev;
  }

  get token(): string | null {
    const t = this.options.config?.['nimbus.auth.token'];
    return typeof t === 'string' ? t : null;
  }

  get address(): string {
    return this.url.replace('http://', '');
  }

  private async launch(): Promise<void> {
    const firstSlot = await freePortRun(this.options.supervisors * this.options.slots);
    const config: Record<string, unknown> = { ...FAST_DAEMON_CONFIG, 'storm.local.dir': path.join(this.dir, 'data'), ...this.options.config };
    const flags = Object.entries(config).flatMap(([k, v]) => ['-c', `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`]);
    const args = [SQUALL_BIN, 'dev', '--port', '0', '--supervisors', String(this.options.supervisors), '--slots', String(this.options.slots), '--slot-port', String(firstSlot), ...flags];
    const out = fs.openSync(this.logFile, 'a');
    const env = { ...process.env };
    delete env.JEST_WORKER_ID;
    delete env.LOG_LEVEL;
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', out], env });
    fs.closeSync(out);
    this.child = child;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitInfo = `exited (code ${code}, signal ${signal})`;
        resolve();
      });
      child.once('error', (err) => {
        this.exitInfo = `could not start: ${err.message}`;
        resolve();
      });
    });
    let stdout = '';
    child.stdout!.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
      fs.appendFileSync(this.logFile, c);
    });
    this.url = await waitFor(
      'squall dev to print its Nimbus URL',
      () => {
        if (this.exitInfo) throw new Error(`squall dev ${this.exitInfo}`);
        return /dev cluster: nimbus at (http:\/\/\S+),/.exec(stdout)?.[1] ?? false;
      },
      READY_TIMEOUT_MS,
    );
    await waitFor(
      `${this.options.supervisors} supervisors listed by Nimbus`,
      async () => (await this.get<{ supervisors: unknown[] }>('/supervisor/summary')).supervisors.length === this.options.supervisors,
      READY_TIMEOUT_MS,
    );
  }

  async get<T>(route: string): Promise<T> {
    const res = await fetch(`${this.url}/api/v1${route}`, { signal: AbortSignal.timeout(DEV_GET_BOUND_MS), headers: this.token ? { Authorization: `Bearer ${this.token}` } : {} });
    const text = await res.text();
    if (!res.ok) throw new Error(`GET ${route} answered ${res.status}: ${text}`);
    return JSON.parse(text) as T;
  }

  async topology(idOrName: string): Promise<TopologyPage> {
    const page = await this.get<TopologyPage>(`/topology/${encodeURIComponent(idOrName)}`);
    for (const w of page.workers) if (w.pid) this.workerPids.add(w.pid);
    return page;
  }

  async topologies(): Promise<TopologySummaryEntry[]> {
    return (await this.get<{ topologies: TopologySummaryEntry[] }>('/topology/summary')).topologies;
  }

  /** Runs `squall <args> --nimbus <this>` (with the token) to completion, bounded. */
  cli(args: string[], timeoutMs = CLI_TIMEOUT_MS): Promise<CliResult> {
    return runSquall([...args, '--nimbus', this.address, ...(this.token ? ['--token', this.token] : [])], path.join(this.dir, 'cli.log'), timeoutMs);
  }

  async cliOk(args: string[]): Promise<string> {
    const res = await this.cli(args);
    if (res.code !== 0) throw new Error(`squall ${args.join(' ')} exited ${res.code}\nstdout: ${res.stdout}\nstderr: ${res.stderr}`);
    return res.stdout;
  }

  /** Submits `entry` (a topology module) as `name` with topology config flags; returns the id. */
  async submit(entry: string, name: string, topologyConfig: Record<string, unknown> = {}): Promise<string> {
    const flags = Object.entries(topologyConfig).flatMap(([k, v]) => ['-c', `${k}=${JSON.stringify(v)}`]);
    const stdout = await this.cliOk(['submit', entry, '--name', name, ...flags]);
    const m = /^submitted "([^"]+)" as (\S+) \(/m.exec(stdout);
    if (!m) throw new Error(`unexpected submit output: ${stdout}`);
    return m[2];
  }

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

  markFailed(): void {
    this.failed = true;
  }

  /** Runs a test body; a failure gets the tail of the cluster's output appended. */
  async run(body: () => Promise<void>): Promise<void> {
    try {
      await body();
    } catch (err) {
      this.failed = true;
      const e = err instanceof Error ? err : new Error(String(err));
      e.message += `\n\n--- squall dev output (${this.dir}) ---\n${this.logTail()}`;
      throw e;
    }
  }

  /** The tail of squall dev's output and of every worker log under its data dir. */
  logTail(chars = 6000): string {
    const files = [this.logFile, ...findFiles(path.join(this.dir, 'data'), 'worker.log')];
    return files
      .map((f) => {
        try {
          return `== ${path.relative(this.dir, f)}\n${fs.readFileSync(f, 'utf8').slice(-chars)}`;
        } catch {
          return `== ${path.relative(this.dir, f)}: (unreadable)`;
        }
      })
      .join('\n');
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (child && this.exitInfo === null) {
      child.kill('SIGTERM');
      const forced = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await this.exited;
      clearTimeout(forced);
    }
    const deadline = performance.now() + 5_000;
    let left = [...this.workerPids].filter(isWorkerProcess);
    while (left.length > 0 && performance.now() < deadline) {
      await sleep(100);
      left = left.filter(isWorkerProcess);
    }
    for (const pid of left) process.kill(pid, 'SIGKILL');
    if (left.length > 0) this.failed = true;
    if (this.failed) process.stderr.write(`dev cluster dir kept for inspection: ${this.dir}\n`);
    else fs.rmSync(this.dir, { recursive: true, force: true });
    if (left.length > 0) throw new Error(`worker processes left after squall dev stopped: ${left.join(', ')}`);
  }
}

function findFiles(dir: string, name: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...findFiles(p, name));
    else if (entry.name === name) out.push(p);
  }
  return out;
}
