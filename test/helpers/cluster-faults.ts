/**
 * Fault injection and measurement for test/cluster/faults-*.test.ts, on top of the cluster harness
 * (cluster-harness.ts), which these helpers only use from outside:
 *
 * - the fault fixtures (test/fixtures/faults) and their ledgers: which message ids were emitted
 *   and acked, when, by which process (bench/chaos/ledger.ts reads them, for the chaos run too);
 * - recovery after a fault: how long until every message emitted before it was acked, and the
 *   longest time without any ack, asserted against bounds derived from the configured timeouts;
 * - an exit probe preloaded into every daemon and worker (test/fixtures/faults/exit-probe.js):
 *   what still held each process's event loop when it exited;
 * - a TCP proxy that can cut the connections through it (RST) and refuse new ones, for a real
 *   socket-level cut of the links between two workers;
 * - strangers at a worker's slot port: raw bytes, and a websocket client that does not know the
 *   topology's link secret;
 * - daemon log records (JSON lines) and daemon exits.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { WebSocket } from 'ws';
import { SpoutLedger, type Recovery } from '../../bench/chaos/ledger';
import { createPackr, createUnpackr, decodeChallenge, encodeAuth, encodeTuples } from '../../worker/transport/codec';
import { CLIENT_LABEL, handshakeMac, newNonce } from '../../worker/transport/handshake';
import { type Cluster, type DaemonProcess, FAST_DAEMON_CONFIG, waitFor, workerLogFiles } from './cluster-harness';
import { isProcessAlive } from './cluster-processes';

/** Fixture paths for `cluster.submit()`, which resolves them under test/fixtures/cluster. */
export const FAULT_FIXTURE = {
  wordCount: '../faults/word-count.ts',
  flaky: '../faults/flaky.ts',
  stuck: '../faults/stuck.ts',
  broken: '../faults/broken.ts',
} as const;

const EXIT_PROBE = path.resolve(__dirname, '../fixtures/faults/exit-probe.js');

// ---- timing --------------------------------------------------------------------------------

const secs = (key: string): number => (FAST_DAEMON_CONFIG[key] as number) * 1000;

/** The daemon timeouts of the test clusters (FAST_DAEMON_CONFIG), in ms. */
export const DAEMON_MS = {
  sessionTimeout: FAST_DAEMON_CONFIG['storm.zookeeper.session.timeout'] as number,
  nimbusMonitor: secs('nimbus.monitor.freq.secs'),
  nimbusTaskTimeout: secs('nimbus.task.timeout.secs'),
  supervisorMonitor: secs('supervisor.monitor.frequency.secs'),
  workerTimeout: secs('supervisor.worker.timeout.secs'),
  shutdownSleep: secs('supervisor.worker.shutdown.sleep.secs'),
  restartBackoffMax: secs('supervisor.worker.restart.backoff.max.secs'),
  workerHeartbeat: secs('worker.heartbeat.frequency.secs'),
} as const;

/** `topology.message.timeout.secs` of the fault topologies. */
export const MESSAGE_TIMEOUT_SECS = 3;
/** An un-acked tuple fails between 1 and 1.5 message timeouts after it was emitted (docs/architecture.md). */
export const TUPLE_FAIL_MAX_MS = 1.5 * MESSAGE_TIMEOUT_SECS * 1000;
/** Worker links reconnect with backoff capped at 5 s (docs/protocol.md, `backoff`). */
export const LINK_BACKOFF_MAX_MS = 5_000;
/** A worker process loading its bundle and reporting ready: ~0.3 s measured, ×5 for a loaded 2-core machine. */
export const WORKER_START_MS = 1_500;

/** The topology config of every fault topology: short message timeout, bounded spout pending. */
export const FAULT_TOPOLOGY_CONFIG = {
  'topology.message.timeout.secs': MESSAGE_TIMEOUT_SECS,
  'topology.max.spout.pending': 200,
} as const;

// ---- ledgers and recovery ------------------------------------------------------------------

/** The ledger of a spout component of topology `name` (files in the harness's output dir). */
export function ledgerOf(cluster: Cluster, name: string, component = 'sentences'): SpoutLedger {
  return new SpoutLedger(cluster.outputDirOf(name), component);
}

/**
 * How long a fault test waits for a recovery before it calls the topology not recovered: a
 * readiness wait, generous on purpose. How fast recovery is belongs to the chaos run and the
 * benchmarks (docs/reliability.md), not to a test: on a loaded 2-core machine every step runs
 * 3-4x slower, and a test that asserted the recovery time failed there although nothing was lost.
 */
export const RECOVERY_WAIT_MS = 60_000;

/**
 * Waits until every message emitted before `faultMs` has been acked and, with `resumed` (an
 * endless, paced input), until the ack rate is back to half what it was before the fault: the
 * topology recovered, losing nothing. `expectedMs` is what the daemon timeouts predict on an idle
 * machine; a slower recovery is reported in the test output, not failed. Returns the figures.
 */
export async function waitRecovered(ledger: SpoutLedger, faultMs: number, expectedMs: number, what: string, options: { resumed?: boolean } = {}): Promise<Recovery> {
  const done = (r: Recovery | null): r is Recovery => r !== null && (!options.resumed || r.resumedMs !== null);
  let last: Recovery | null = null;
  const recovery = await waitFor(
    `${what}: every message emitted before the fault acked${options.resumed ? ', and the ack rate back' : ''}`,
    () => {
      last = ledger.refresh().recovery(faultMs);
      return done(last) ? last : false;
    },
    Math.max(RECOVERY_WAIT_MS, 4 * expectedMs),
  ).catch((err: Error) => {
    throw new Error(`${err.message}: ${last ? 'the ack rate is not back to half its rate before the fault' : describeUnacked(ledger, faultMs)}`);
  });
  const took = Math.max(recovery.recoveredMs, recovery.resumedMs ?? 0);
  if (took > expectedMs) console.log(`${what}: recovered in ${took} ms, slower than the ${expectedMs} ms the timeouts predict on an idle machine (nothing lost)`);
  return recovery;
}

/** One recovery as a phrase for the test output. */
export function describeRecovery(r: Recovery): string {
  const resumed = r.resumedMs === null ? '' : `, ack rate back after ${r.resumedMs} ms`;
  return `every message emitted before the fault acked after ${r.recoveredMs} ms${resumed} (longest time without an ack ${r.stallMs} ms, ${r.inFlight} messages in flight)`;
}

function describeUnacked(ledger: SpoutLedger, faultMs: number): string {
  const missing = ledger.unacked().filter((id) => (ledger.firstEmit.get(id) ?? Infinity) <= faultMs);
  return `${missing.length} messages emitted before the fault are unacked (first: ${missing.slice(0, 10).join(', ')})`;
}

/** Waits until the acked count grows by `more` (processing goes on); returns the time it took. */
export async function waitProgress(ledger: SpoutLedger, more: number, timeoutMs: number, what: string): Promise<number> {
  const start = ledger.refresh().acked;
  const t0 = Date.now();
  await waitFor(`${what}: ${more} more messages acked (from ${start})`, () => ledger.refresh().acked >= start + more, timeoutMs, 50);
  return Date.now() - t0;
}

/** Waits until every id of a finite input of `count` messages is acked. */
export async function waitAllAcked(ledger: SpoutLedger, count: number, timeoutMs: number, what: string): Promise<void> {
  await waitFor(
    `${what}: all ${count} messages acked`,
    () => {
      ledger.refresh();
      return ledger.acked >= count && ledger.missingBelow(count).length === 0;
    },
    timeoutMs,
  ).catch((err: Error) => {
    const missing = ledger.missingBelow(count);
    throw new Error(`${err.message}; ${missing.length} unacked, first: ${missing.slice(0, 20).join(', ')}`);
  });
}

/** One line of figures for the test output. */
export function ledgerReport(what: string, ledger: SpoutLedger, recoveries: readonly Recovery[] = []): string {
  ledger.refresh();
  const rec = recoveries.map(describeRecovery).join('; ');
  return (
    `${what}: ${ledger.emitted} messages, ${ledger.emits} emits = ${ledger.replays} replays ` +
    `(${ledger.fails} fail() calls, spout opened ${ledger.opens} times), ${ledger.acked} acked, ${ledger.duplicateAcks} duplicate acks, ` +
    `${ledger.unacked().length} unacked${rec ? `; recovery: ${rec}` : ''}`
  );
}

// ---- the exit probe -------------------------------------------------------------------------

export interface ExitRecord {
  pid: number;
  ppid: number;
  argv: string[];
  code: number;
  /** True when the process ended by calling process.exit() (deferred two loop turns by the probe). */
  calledExit: boolean;
  /** process.getActiveResourcesInfo() at exit. */
  resources: string[];
  uptimeMs: number;
}

/**
 * Preloads test/fixtures/faults/exit-probe.js into every process the cluster starts (daemons take
 * the test's environment, workers their supervisor's). Install before `Cluster.start`.
 */
export class ExitProbe {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'squall-exit-probe-'));
  private saved: { nodeOptions?: string; dir?: string } | null = null;

  install(): void {
    this.saved = { nodeOptions: process.env.NODE_OPTIONS, dir: process.env.SQUALL_EXIT_PROBE_DIR };
    process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --require ${EXIT_PROBE}`.trim();
    process.env.SQUALL_EXIT_PROBE_DIR = this.dir;
  }

  /** Restores the environment and removes the records. */
  uninstall(): void {
    if (this.saved) {
      restoreEnv('NODE_OPTIONS', this.saved.nodeOptions);
      restoreEnv('SQUALL_EXIT_PROBE_DIR', this.saved.dir);
      this.saved = null;
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  /** The record of a process that has exited (null: none, e.g. it was killed with SIGKILL). */
  record(pid: number): ExitRecord | null {
    try {
      return JSON.parse(fs.readFileSync(path.join(this.dir, `${pid}.json`), 'utf8')) as ExitRecord;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  /** Waits for the record of `pid` (written as it exits). */
  waitRecord(pid: number, timeoutMs = 5_000): Promise<ExitRecord> {
    return waitFor(`the exit record of pid ${pid}`, () => this.record(pid) ?? false, timeoutMs, 50);
  }
}

function restoreEnv(key: string, value: string | undefined): void {
  if (value === undefined) delete process.env[key];
  else process.env[key] = value;
}

/**
 * What a process still held at exit, beyond what a worker may: its IPC channel to the supervisor
 * ('PipeWrap', closed by the supervisor, or already gone when the supervisor died). Anything else
 * (a server, a socket, a timer) was left open.
 */
export function leftOpen(record: ExitRecord): string[] {
  return record.resources.filter((r) => r !== 'PipeWrap');
}

// ---- daemons --------------------------------------------------------------------------------

export interface DaemonExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** From the signal to the exit. */
  exitMs: number;
}

/** SIGTERM to a daemon; waits (bounded) for it to exit and returns how. No SIGKILL follows. */
export async function sigterm(daemon: DaemonProcess, boundMs: number): Promise<DaemonExit> {
  if (!daemon.running) throw new Error(`${daemon.label} is not running (${daemon.describeExit()})`);
  const t0 = performance.now();
  daemon.child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const exited = await Promise.race([
    daemon.exited.then(() => true),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), boundMs);
    }),
  ]);
  clearTimeout(timer);
  if (!exited) throw new Error(`${daemon.label} (pid ${daemon.pid}) did not exit within ${boundMs} ms of SIGTERM`);
  return { code: daemon.child.exitCode, signal: daemon.child.signalCode, exitMs: Math.round(performance.now() - t0) };
}

/** The slot ports a harness supervisor was started with (its `-c supervisor.slots.ports=[...]`). */
export function slotPortsOf(cluster: Cluster, supervisorId: string): number[] {
  const sup = cluster.supervisors.get(supervisorId);
  if (!sup) throw new Error(`unknown supervisor ${supervisorId}`);
  const arg = sup.child.spawnargs.find((a) => a.startsWith('supervisor.slots.ports='));
  if (!arg) throw new Error(`supervisor ${supervisorId} was started without supervisor.slots.ports`);
  return JSON.parse(arg.slice('supervisor.slots.ports='.length)) as number[];
}

/** Waits until none of `pids` is a live process. */
export async function waitGone(pids: readonly number[], timeoutMs: number, what: string): Promise<void> {
  await waitFor(`${what} (pids ${pids.join(', ')}) to exit`, () => pids.every((p) => !isProcessAlive(p)), timeoutMs, 50);
}

/** A daemon log's JSON lines (pino), with the daemon's label; other lines are skipped. */
export interface LogRecord {
  daemon: string;
  time: number;
  level: number;
  msg: string;
  [key: string]: unknown;
}

/**
 * Log records of the daemons from `sinceMs` on; for a supervisor, also its workers', which write
 * their own size-rotated files under the supervisor's dir (`<label>/logs/<topology>/<port>/worker.log*`).
 */
export function logRecords(cluster: Cluster, labels: readonly string[], sinceMs = 0): LogRecord[] {
  const out: LogRecord[] = [];
  for (const label of labels) {
    for (const file of [path.join(cluster.dir, `${label}.log`), ...workerLogFiles(path.join(cluster.dir, label, 'logs'))]) {
      if (!fs.existsSync(file)) continue;
      for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
        if (!line.startsWith('{')) continue;
        let rec: LogRecord;
        try {
          rec = { ...(JSON.parse(line) as LogRecord), daemon: label };
        } catch {
          continue; // a line cut by a kill -9
        }
        if (typeof rec.time === 'number' && rec.time >= sinceMs) out.push(rec);
      }
    }
  }
  return out.sort((a, b) => a.time - b.time);
}

// ---- a TCP proxy that can cut its connections --------------------------------------------------

/**
 * Listens on `listenHost:port` and forwards every connection to `targetHost:targetPort`. `cut()`
 * resets every connection through it (RST both ways, as a failed link or a restarted router does)
 * and resets new ones at once until `restore()`: the workers on either side see their sockets fail
 * and their reconnect attempts refused.
 */
export class TcpProxy {
  private readonly server: net.Server;
  /** Each connection through the proxy: [from the client, to the target]. */
  private readonly pairs = new Set<[net.Socket, net.Socket]>();
  private cutting = false;
  connections = 0;
  refused = 0;

  constructor(
    readonly listenHost: string,
    readonly port: number,
    readonly targetHost: string,
    readonly targetPort: number,
  ) {
    this.server = net.createServer((client) => this.onConnection(client));
  }

  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.port, this.listenHost, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  /** Resets every connection through the proxy and refuses new ones; returns how many were cut. */
  cut(): number {
    this.cutting = true;
    const n = this.pairs.size;
    for (const [client, upstream] of this.pairs) {
      client.resetAndDestroy();
      upstream.resetAndDestroy();
    }
    this.pairs.clear();
    return n;
  }

  restore(): void {
    this.cutting = false;
  }

  /** Connections through the proxy now. */
  get open(): number {
    return this.pairs.size;
  }

  async close(): Promise<void> {
    this.cutting = true;
    for (const [client, upstream] of this.pairs) {
      client.destroy();
      upstream.destroy();
    }
    this.pairs.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private onConnection(client: net.Socket): void {
    if (this.cutting) {
      this.refused++;
      client.resetAndDestroy();
      return;
    }
    this.connections++;
    const upstream = net.connect(this.targetPort, this.targetHost);
    const pair: [net.Socket, net.Socket] = [client, upstream];
    this.pairs.add(pair);
    client.pipe(upstream);
    upstream.pipe(client);
    // An error on one side resets the other (the proxy is a wire, not an endpoint); an orderly end
    // is passed on by pipe().
    const reset = (other: net.Socket) => (): void => {
      if (!other.destroyed) other.resetAndDestroy();
    };
    client.on('error', reset(upstream));
    upstream.on('error', reset(client));
    const closed = (): void => {
      if (client.destroyed && upstream.destroyed) this.pairs.delete(pair);
    };
    client.on('close', closed);
    upstream.on('close', closed);
  }
}

// ---- strangers at a worker's port -----------------------------------------------------------

/** Sends raw bytes to `host:port` and resolves with everything answered until the peer closes. */
export function rawExchange(host: string, port: number, bytes: string | Buffer, timeoutMs = 5_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    let answer = '';
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no close within ${timeoutMs} ms`)));
    socket.setEncoding('latin1');
    socket.on('connect', () => socket.write(bytes));
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('error', reject);
    socket.on('close', (hadError) => {
      if (!hadError) resolve(answer);
    });
  });
}

/**
 * Opens a websocket to a worker's slot port and plays a peer worker that does not know the link
 * secret: answers the CHALLENGE with an AUTH made with `secret`, then sends a TUPLES frame anyway.
 * Resolves with how the worker closed the connection and how many frames it sent (CHALLENGE,
 * and AUTH_OK had it accepted).
 */
export async function strangerHandshake(host: string, port: number, o: { secret: string; topologyId: string; clientId: string }): Promise<{ code: number; reason: string; frames: number }> {
  const ws = new WebSocket(`ws://${host}:${port}/`, { perMessageDeflate: false });
  const frames: Buffer[] = [];
  ws.on('error', () => undefined); // 'close' follows and says how it ended
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  ws.on('message', (data: Buffer) => {
    frames.push(data);
    if (frames.length !== 1) return;
    const challenge = decodeChallenge(createUnpackr(), data);
    const clientNonce = newNonce();
    const fields = { serverNonce: challenge.nonce, clientNonce, serverId: challenge.serverId, clientId: o.clientId, topologyId: o.topologyId };
    const packr = createPackr();
    ws.send(encodeAuth(packr, { clientId: o.clientId, topologyId: o.topologyId, clientNonce, mac: handshakeMac(Buffer.from(o.secret), CLIENT_LABEL, fields) }));
    ws.send(encodeTuples(packr, [1, 1, 0, ['intruder'], 0], []));
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    const result = await Promise.race([
      closed,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`the worker on ${host}:${port} did not close the stranger's connection within 10 s`)), 10_000);
      }),
    ]);
    return { ...result, frames: frames.length };
  } finally {
    clearTimeout(timer);
    ws.terminate();
  }
}
