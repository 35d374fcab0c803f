/**
 * Throwaway servers for tests and benchmarks (Redis, PostgreSQL, NATS, Mosquitto, RabbitMQ,
 * ZooKeeper): each one a child process on an ephemeral port of 127.0.0.1 with its own temp data
 * directory, a named and bounded readiness wait, and stop by PID (SIGTERM, then SIGKILL after a
 * grace period). It lives under bench/ so that both the built benchmarks (dist/ holds no tests)
 * and the tests import it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export const HOST = '127.0.0.1';
const OUTPUT_TAIL_CHARS = 8_000;
const READY_POLL_MS = 50;
const STOP_GRACE_MS_DEFAULT = 10_000;

/** A running (or stopped, or killed) server process. */
export interface ManagedServer {
  readonly name: string;
  /** The main port (clients connect to `127.0.0.1:<port>`). */
  readonly port: number;
  /** Temp directory holding the data and config; removed by stop(). */
  readonly dir: string;
  /** PID of the current process (changes on restart); -1 when not running. */
  readonly pid: number;
  running(): boolean;
  /** The tail of what the process printed, for error messages. */
  output(): string;
  /** SIGTERM, SIGKILL after the grace period, then removes the temp dir. Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL now, keeping the data (restart() brings it back); resolves once it has exited. */
  kill9(): Promise<void>;
  /** A clean shutdown (SIGTERM, SIGKILL after the grace period) keeping the data: restart() brings it back. */
  shutdown(): Promise<void>;
  /** Stops the process if running (SIGTERM) and starts it again on the same port and data. */
  restart(): Promise<void>;
  /** SIGSTOP: connections stay open, nothing is answered (a hung server). */
  pause(): void;
  /** SIGCONT. */
  resume(): void;
}

export interface ManagedServerSpec {
  name: string;
  port: number;
  dir: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** Run as this user (PostgreSQL refuses to run as root). */
  uid?: number;
  gid?: number;
  /**
   * Resolves when the server answers; rejects (or resolves a string saying why not) while it does
   * not. Called repeatedly until the deadline.
   */
  ready: () => Promise<string | void>;
  readyTimeoutMs: number;
  stopSignal?: NodeJS.Signals;
  stopGraceMs?: number;
  /** Extra cleanup after the process is gone (before the dir is removed). */
  afterStop?: () => Promise<void> | void;
}

/**
 * Process groups not yet gone: killed if the test or bench process exits without stopping them.
 * Each server runs in a process group of its own (spawned detached), so its helper processes
 * (PostgreSQL's backends, Erlang's port programs) are signalled with it and none is orphaned.
 */
const liveGroups = new Set<number>();
process.once('exit', () => {
  for (const pgid of liveGroups) signalGroup(pgid, 'SIGKILL');
});

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/**
 * Whether any process of the group is still running. Read from /proc rather than with
 * kill(-pgid, 0), which also counts zombies: an orphan's zombie stays until PID 1 reaps it, and
 * not every container's PID 1 does.
 */
function groupAlive(pgid: number): boolean {
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ESRCH') continue; // exited meanwhile
      throw err;
    }
    // "pid (comm) S ppid pgrp ...": fields after the last ')'
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(rest[2]) === pgid && rest[0] !== 'Z' && rest[0] !== 'X') return true;
  }
  return false;
}

const GROUP_EXIT_WAIT_MS = 10_000;

/** Starts the server and resolves once `ready` succeeds; on failure the process is stopped. */
export async function startManaged(spec: ManagedServerSpec): Promise<ManagedServer> {
  const server = new Managed(spec);
  try {
    await server.start();
  } catch (err) {
    await server.stop();
    throw err;
  }
  return server;
}

class Managed implements ManagedServer {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private exitCode: string | null = null;
  private tail = '';
  private removed = false;

  constructor(private readonly spec: ManagedServerSpec) {}

  get name(): string {
    return this.spec.name;
  }
  get port(): number {
    return this.spec.port;
  }
  get dir(): string {
    return this.spec.dir;
  }
  get pid(): number {
    return this.running() ? (this.child?.pid ?? -1) : -1;
  }

  running(): boolean {
    const c = this.child;
    return c !== null && c.exitCode === null && c.signalCode === null && this.exitCode === null;
  }

  output(): string {
    return this.tail;
  }

  async start(): Promise<void> {
    if (this.removed) throw new Error(`${this.spec.name} on ${HOST}:${this.spec.port} was stopped for good`);
    const { command, args, env, uid, gid, dir } = this.spec;
    const child = spawn(command, args, { cwd: dir, env: env ?? process.env, uid, gid, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.exitCode = null;
    if (child.pid !== undefined) liveGroups.add(child.pid);
    const keep = (chunk: Buffer): void => {
      this.tail = (this.tail + chunk.toString('utf8')).slice(-OUTPUT_TAIL_CHARS);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitCode = signal ?? String(code);
        resolve();
      });
      child.once('error', (err) => {
        this.exitCode = `spawn error: ${err.message}`;
        resolve();
      });
    });
    await this.waitReady();
  }

  private async waitReady(): Promise<void> {
    const { name, port, readyTimeoutMs } = this.spec;
    const deadline = Date.now() + readyTimeoutMs;
    let last = 'no answer yet';
    for (;;) {
      if (this.exitCode !== null) throw new Error(`${name} on ${HOST}:${port} exited (${this.exitCode}) before it was ready; output: ${this.tail || '(none)'}`);
      try {
        const why = await this.spec.ready();
        if (why === undefined) return;
        last = why;
      } catch (err) {
        last = err instanceof Error ? err.message : String(err);
      }
      if (Date.now() >= deadline) throw new Error(`${name} on ${HOST}:${port} was not ready within ${readyTimeoutMs} ms (last: ${last}); output: ${this.tail || '(none)'}`);
      await delay(READY_POLL_MS);
    }
  }

  async stop(): Promise<void> {
    await this.stopProcess(this.spec.stopSignal ?? 'SIGTERM');
    if (!this.removed) {
      this.removed = true;
      fs.rmSync(this.spec.dir, { recursive: true, force: true });
    }
  }

  async kill9(): Promise<void> {
    await this.stopProcess('SIGKILL');
  }

  async shutdown(): Promise<void> {
    await this.stopProcess(this.spec.stopSignal ?? 'SIGTERM');
  }

  async restart(): Promise<void> {
    await this.stopProcess(this.spec.stopSignal ?? 'SIGTERM');
    await this.start();
  }

  pause(): void {
    if (this.running()) signalGroup(this.child!.pid!, 'SIGSTOP');
  }

  resume(): void {
    if (this.running()) signalGroup(this.child!.pid!, 'SIGCONT');
  }

  /**
   * Signals the server's process group and waits until the whole group is gone (a PostgreSQL
   * backend left behind by a kill -9 keeps the shared memory, and a restart then refuses to start).
   */
  private async stopProcess(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child || child.pid === undefined) return;
    const pgid = child.pid;
    if (this.running()) {
      signalGroup(pgid, 'SIGCONT'); // a paused process cannot act on SIGTERM
      process.kill(pgid, signal);
      const forced = setTimeout(() => signalGroup(pgid, 'SIGKILL'), this.spec.stopGraceMs ?? STOP_GRACE_MS_DEFAULT);
      await this.exited;
      clearTimeout(forced);
    } else await this.exited;
    // The leader is gone; what is left of its group goes now.
    if (groupAlive(pgid)) signalGroup(pgid, signal === 'SIGKILL' ? 'SIGKILL' : 'SIGTERM');
    const deadline = Date.now() + GROUP_EXIT_WAIT_MS;
    while (groupAlive(pgid)) {
      if (Date.now() >= deadline) {
        signalGroup(pgid, 'SIGKILL');
        if (Date.now() >= deadline + 1_000) throw new Error(`${this.spec.name}: processes of group ${pgid} still alive after SIGKILL`);
      }
      await delay(10);
    }
    liveGroups.delete(pgid);
    child.stdout?.destroy();
    child.stderr?.destroy();
    await this.spec.afterStop?.();
  }
}

/** A port that was free a moment ago (bind port 0 on 127.0.0.1, read it, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, HOST, () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => (port > 0 ? resolve(port) : reject(new Error('could not read a free port'))));
    });
  });
}

/** A new temp directory named after the server. */
export function tempDir(name: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `squall-${name}-`));
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Connects to 127.0.0.1:port, optionally writes `send`, and resolves with what the server says
 * until `done(text)` is true or it closes; rejects after `timeoutMs`.
 */
export function tcpExchange(port: number, send: string | Buffer | null, done: (text: string) => boolean, timeoutMs = 1_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: HOST, port });
    let text = '';
    const finish = (err?: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(text);
    };
    const timer = setTimeout(() => finish(new Error(`no complete answer within ${timeoutMs} ms (got ${JSON.stringify(text.slice(0, 200))})`)), timeoutMs);
    socket.on('connect', () => {
      if (send !== null) socket.write(send);
    });
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      if (done(text)) finish();
    });
    socket.on('error', (err) => finish(err));
    socket.on('close', () => finish());
  });
}

/** The uid and gid of a system user, or undefined when there is none. */
export function systemUser(name: string): { uid: number; gid: number } | undefined {
  let passwd: string;
  try {
    passwd = fs.readFileSync('/etc/passwd', 'utf8');
  } catch {
    return undefined;
  }
  for (const line of passwd.split('\n')) {
    const f = line.split(':');
    if (f[0] === name && f.length >= 4) return { uid: Number(f[2]), gid: Number(f[3]) };
  }
  return undefined;
}

/** True when an executable exists at `file`. */
export function executable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
