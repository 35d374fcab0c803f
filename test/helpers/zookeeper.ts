/**
 * A throwaway ZooKeeper server for test/cluster: one JVM per call, its own temp data dir, an
 * ephemeral port on 127.0.0.1, a named and bounded readiness wait, and stop-by-PID.
 *
 * Needs Debian's `zookeeper` package (scripts/ensure-packages.sh) and a `java` on PATH. Measured
 * here: the server answers `ruok` after ~0.3 s and uses ~60 MB.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const JAVA_DIR = '/usr/share/java';
const ZOOKEEPER_JAR = path.join(JAVA_DIR, 'zookeeper.jar');
/** Binds slf4j to a no-op logger: the server prints nothing. */
const SLF4J_NOP_JAR = path.join(JAVA_DIR, 'slf4j-nop.jar');
const HOST = '127.0.0.1';
const READY_TIMEOUT_MS = 15_000;
const READY_POLL_MS = 50;
const STOP_GRACE_MS = 5_000;
const OUTPUT_TAIL_CHARS = 4_000;
const PAUSE_TIMEOUT_MS = 2_000;

export interface ZooKeeperServer {
  /** `127.0.0.1:<port>`, for node-zookeeper-client. */
  readonly connectString: string;
  readonly port: number;
  /** PID of the current JVM (changes on restart). */
  readonly pid: number;
  readonly dataDir: string;
  /** SIGTERM, then SIGKILL after 5 s; removes the temp dir. Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL now, keeping the data dir (restart() brings it back). */
  kill9(): void;
  /** Stops the JVM if running and starts a new one on the same port and data dir. */
  restart(): Promise<void>;
  /**
   * Freezes the server (SIGSTOP): connections stay open but nothing is answered, a hung server.
   * Resolves once every JVM thread is stopped (kill() returns before they all are).
   */
  pause(): Promise<void>;
  /** Thaws a paused server (SIGCONT). */
  resume(): void;
}

export interface StartZooKeeperOptions {
  tickTimeMs?: number;
  /** Bounds the `ruok` → `imok` wait. */
  readyTimeoutMs?: number;
}

/** True when the ZooKeeper jar and a JVM are on this machine. */
export function zookeeperAvailable(): boolean {
  if (!existsSync(ZOOKEEPER_JAR)) return false;
  const java = spawnSync('java', ['-version'], { stdio: 'ignore', timeout: 10_000 });
  return java.status === 0;
}

/** Starts a standalone server and resolves once it answers `ruok` with `imok`. */
export async function startZooKeeper(options: StartZooKeeperOptions = {}): Promise<ZooKeeperServer> {
  if (!existsSync(ZOOKEEPER_JAR)) {
    throw new Error(`${ZOOKEEPER_JAR} is missing: run scripts/ensure-packages.sh`);
  }
  const tickTimeMs = options.tickTimeMs ?? 500;
  const readyTimeoutMs = options.readyTimeoutMs ?? READY_TIMEOUT_MS;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'squall-zk-'));
  const dataDir = path.join(dir, 'data');
  const port = await freePort();
  const configFile = path.join(dir, 'zoo.cfg');
  writeFileSync(configFile, zooCfg({ tickTimeMs, dataDir, port }));
  const server = new Server(dir, dataDir, configFile, port, readyTimeoutMs);
  try {
    await server.start();
  } catch (err) {
    await server.stop();
    throw err;
  }
  return server;
}

function zooCfg(o: { tickTimeMs: number; dataDir: string; port: number }): string {
  return [
    `tickTime=${o.tickTimeMs}`,
    `dataDir=${o.dataDir}`,
    `clientPort=${o.port}`,
    `clientPortAddress=${HOST}`,
    // Sessions of 1-10 s (the server clamps requests into [min, max]).
    'minSessionTimeout=1000',
    'maxSessionTimeout=10000',
    // Without this the server also binds :8080 for its admin HTTP API.
    'admin.enableServer=false',
    '4lw.commands.whitelist=ruok,srvr',
    // Test data need no fsync per transaction, nor 64 MB preallocated logs.
    'forceSync=no',
    'preAllocSize=1024',
    '',
  ].join('\n');
}

class Server implements ZooKeeperServer {
  readonly connectString: string;
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private output = '';
  private removed = false;

  constructor(
    private readonly dir: string,
    readonly dataDir: string,
    private readonly configFile: string,
    readonly port: number,
    private readonly readyTimeoutMs: number,
  ) {
    this.connectString = `${HOST}:${port}`;
  }

  get pid(): number {
    return this.child?.pid ?? -1;
  }

  async start(): Promise<void> {
    const child = spawn(
      'java',
      ['-Xmx256m', '-cp', `${ZOOKEEPER_JAR}:${SLF4J_NOP_JAR}`, 'org.apache.zookeeper.server.ZooKeeperServerMain', this.configFile],
      { cwd: this.dir, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child = child;
    liveChildren.add(child);
    const keep = (chunk: Buffer): void => {
      this.output = (this.output + chunk.toString('utf8')).slice(-OUTPUT_TAIL_CHARS);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    let exitCode: string | null = null;
    this.exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        exitCode = signal ?? String(code);
        liveChildren.delete(child);
        resolve();
      });
      child.once('error', (err) => {
        exitCode = `spawn error: ${err.message}`;
        liveChildren.delete(child);
        resolve();
      });
    });
    await waitForImok(this.port, this.readyTimeoutMs, () => exitCode, () => this.output);
  }

  async stop(): Promise<void> {
    await this.stopProcess();
    if (!this.removed) {
      this.removed = true;
      rmSync(this.dir, { recursive: true, force: true });
    }
  }

  kill9(): void {
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }

  async pause(): Promise<void> {
    const pid = this.pid;
    if (pid <= 0) throw new Error(`ZooKeeper on ${this.connectString} is not running`);
    process.kill(pid, 'SIGSTOP');
    const deadline = Date.now() + PAUSE_TIMEOUT_MS;
    while (!allThreadsStopped(pid)) {
      if (Date.now() >= deadline) throw new Error(`ZooKeeper pid ${pid}: threads not all stopped within ${PAUSE_TIMEOUT_MS} ms of SIGSTOP`);
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }

  resume(): void {
    if (this.pid > 0) process.kill(this.pid, 'SIGCONT');
  }

  async restart(): Promise<void> {
    if (this.removed) throw new Error(`ZooKeeper on ${this.connectString} was stopped for good`);
    await this.stopProcess();
    await this.start();
  }

  private async stopProcess(): Promise<void> {
    const child = this.child;
    if (!child) return;
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const forced = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await this.exited;
      clearTimeout(forced);
    } else {
      await this.exited;
    }
    child.stdout?.destroy();
    child.stderr?.destroy();
  }
}

/** Every thread of the process is in state T (stopped), per /proc/<pid>/task/<tid>/stat. */
function allThreadsStopped(pid: number): boolean {
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    } catch (err) {
      // A thread that exited between the listing and the read is not running either.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    // Format: "tid (comm) S ...": the state follows the last ')'.
    if (stat.charAt(stat.lastIndexOf(')') + 2) !== 'T') return false;
  }
  return true;
}

/** JVMs not yet exited: killed if the test process exits without stopping them. */
const liveChildren = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of liveChildren) child.kill('SIGKILL');
});

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

async function waitForImok(port: number, timeoutMs: number, exitCode: () => string | null, output: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastProblem = 'no answer yet';
  for (;;) {
    const code = exitCode();
    if (code !== null) {
      throw new Error(`ZooKeeper on ${HOST}:${port} exited (${code}) before answering ruok; output: ${output() || '(none)'}`);
    }
    try {
      const answer = await fourLetterWord(port, 'ruok', Math.max(1, Math.min(1_000, deadline - Date.now())));
      if (answer === 'imok') return;
      lastProblem = `answered ${JSON.stringify(answer)}`;
    } catch (err) {
      lastProblem = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() >= deadline) {
      throw new Error(`ZooKeeper on ${HOST}:${port} did not answer ruok with imok within ${timeoutMs} ms (last: ${lastProblem}); output: ${output() || '(none)'}`);
    }
    await new Promise((resolve) => setTimeout(resolve, READY_POLL_MS));
  }
}

/** Sends a four-letter command and resolves with the whole answer (the server closes after it). */
export function fourLetterWord(port: number, word: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: HOST, port });
    let answer = '';
    const timer = setTimeout(() => socket.destroy(new Error(`no answer to ${word} within ${timeoutMs} ms`)), timeoutMs);
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.end(word));
    socket.on('data', (chunk: string) => {
      answer += chunk;
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('close', (hadError) => {
      clearTimeout(timer);
      if (!hadError) resolve(answer.trim());
    });
  });
}

interface RawZkClient {
  connect(): void;
  close(): void;
  once(event: 'connected' | 'disconnected' | 'expired', listener: () => void): void;
  connectionManager: { state: number; socket?: { destroy(): void }; on(event: 'state', listener: (state: number) => void): void };
}

/** node-zookeeper-client's ConnectionManager states. */
const CM_CONNECTED = 2;
const CM_CLOSED = -2;

const EXPIRE_ATTEMPTS_MAX = 10;

/**
 * Expires a live session from outside, the way Curator's KillSession did: a second client joins
 * the session with its id and password, then closes it, and the server ends the session (deleting
 * its ephemerals). Joining drops the owner's connection and the owner reconnects at once, so it
 * can take the session back before the close lands: we repeat until joining is refused as
 * expired, which proves the session is gone. Takes a few ms.
 */
export async function expireZkSession(connectString: string, session: { id: Buffer; password: Buffer }, timeoutMs = 5_000): Promise<void> {
  const zookeeper = require('node-zookeeper-client') as {
    createClient(cs: string, options: { sessionTimeout: number; sessionId: Buffer; sessionPassword: Buffer; spinDelay: number }): RawZkClient;
  };
  for (let attempt = 0; attempt < EXPIRE_ATTEMPTS_MAX; attempt++) {
    const intruder = zookeeper.createClient(connectString, { sessionTimeout: 10_000, sessionId: session.id, sessionPassword: session.password, spinDelay: 50 });
    const outcome = firstEvent(intruder, ['connected', 'expired'], timeoutMs);
    intruder.connect();
    let joined: string;
    try {
      joined = await outcome;
    } catch (err) {
      intruder.close();
      throw new Error(`session expiry: could not join the session (${err instanceof Error ? err.message : String(err)})`);
    }
    // Expired: the library has closed the client itself.
    if (joined === 'expired') return;
    await closeRaw(intruder, timeoutMs);
  }
  throw new Error(`session expiry: the owner kept taking the session back (${EXPIRE_ATTEMPTS_MAX} attempts)`);
}

/** Closes a client (sending CLOSE_SESSION if still connected) and waits until it has stopped. */
async function closeRaw(client: RawZkClient, timeoutMs: number): Promise<void> {
  const cm = client.connectionManager;
  if (cm.state === CM_CLOSED) return;
  let timer: NodeJS.Timeout | undefined;
  const closed = new Promise<void>((resolve, reject) => {
    cm.on('state', (state) => {
      if (state === CM_CLOSED) resolve();
    });
    timer = setTimeout(() => reject(new Error(`session expiry: the joining client did not close within ${timeoutMs} ms`)), timeoutMs);
  });
  const wasConnected = cm.state === CM_CONNECTED;
  client.close();
  if (!wasConnected) cm.socket?.destroy();
  await closed.finally(() => clearTimeout(timer));
}

function firstEvent<E extends 'connected' | 'disconnected' | 'expired'>(client: RawZkClient, events: E[], timeoutMs: number): Promise<E> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    new Promise<E>((resolve) => {
      for (const event of events) client.once(event, () => resolve(event));
    }),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no ${events.join('/')} within ${timeoutMs} ms`)), timeoutMs);
    }),
  ]).finally(() => clearTimeout(timer));
}
