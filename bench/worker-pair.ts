/**
 * A lean two-process harness: this process plays both supervisors. It builds the bench bundle,
 * places the topology with Nimbus's own scheduler onto two slots of two "supervisors", forks two
 * real worker processes (`worker/main.js`, as the supervisor's ProcessLauncher does) and reads
 * their heartbeats over IPC.
 *
 * Why not always the dev cluster: heartbeats carry each executor's full stats, including the
 * complete-latency histogram, which Nimbus's REST API summarises to a mean; and the harness
 * samples every 200 ms instead of the supervisors' 1 s. Everything tuples touch is the same: the
 * bundle, the worker process, its runtime, the websocket links with their handshake, batching and
 * backpressure. The word count figure on a real Nimbus + two supervisors is taken separately
 * (bench/cluster.ts).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as net from 'node:net';
import * as path from 'node:path';
import { resolveTopologyConfig, type TopologyConfig, type TopologyDefinition } from '../topology-api';
import type { Assignment } from '../common/cluster-state/types';
import type { WorkerHeartbeat, WorkerStartSpec, WorkerToSupervisor } from '../common/protocol/ipc';
import { computeLayout, initialExecutors } from '../common/topology-layout';
import { resolveTopologyExport } from '../common/topology-module';
import { buildBundle } from '../cli/bundle';
import { schedule } from '../nimbus/scheduler';
import type { Snapshot } from './measure';

export interface PairOptions {
  /** Bundle entry: a compiled file of bench/entries/. */
  entry: string;
  config: TopologyConfig;
  heartbeatMs?: number;
  /** Node options of the worker processes (e.g. --cpu-prof). */
  execArgv?: string[];
  /** Wait for the workers' 'ready' this long (ms). */
  readyTimeoutMs?: number;
}

interface PairWorker {
  key: string;
  child: ChildProcess;
  pid: number;
  components: string[];
  beats: Array<{ beat: WorkerHeartbeat; atMs: number }>;
  ready: boolean;
  exited: boolean;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

export function benchEntry(name: string): string {
  return path.join(__dirname, 'entries', `${name}.js`);
}

export class WorkerPair {
  readonly workers: PairWorker[] = [];
  private waiters: Array<() => void> = [];
  private constructor(readonly topologyId: string) {}

  static async start(opts: PairOptions): Promise<WorkerPair> {
    const bundle = await buildBundle(opts.entry);
    const loaded = await resolveTopologyExport(require(bundle.file), opts.entry);
    const definition = loaded.topology.definition as TopologyDefinition;
    const topologyId = `bench-${bundle.sha256.slice(0, 8)}`;
    const config = resolveTopologyConfig(loaded.config, opts.config, { 'topology.workers': 2, 'topology.name': 'bench' });
    const componentExecutors = initialExecutors(definition, config);
    const layout = computeLayout(definition, config, componentExecutors);
    const ports = [await freePort(), await freePort()];
    const supervisors = [
      { id: 'bench-a', host: '127.0.0.1', ports: [ports[0]] },
      { id: 'bench-b', host: '127.0.0.1', ports: [ports[1]] },
    ];
    const assignment: Assignment = schedule({
      topologies: [{ id: topologyId, numWorkers: 2, executors: layout.executors.map((e) => ({ start: e.start, end: e.end })) }],
      supervisors,
      existing: new Map(),
      aliveWorkers: new Map(),
      nowMs: Date.now(),
    }).get(topologyId)!;
    const pair = new WorkerPair(topologyId);
    const linkSecret = randomBytes(32).toString('hex');
    const mainPath = path.join(__dirname, '..', 'worker', 'main.js');
    for (const sup of supervisors) {
      const port = sup.ports[0];
      const mine = assignment.executors.filter((e) => e.node === sup.id && e.port === port);
      if (mine.length === 0) continue;
      const spec: WorkerStartSpec = {
        topologyId,
        supervisorId: sup.id,
        host: '127.0.0.1',
        port,
        bundlePath: bundle.file,
        bundleHash: bundle.sha256,
        definition,
        config: { ...config },
        componentExecutors,
        linkSecret,
        assignment,
        active: true,
        logLevel: 'error',
        heartbeatMs: opts.heartbeatMs ?? 200,
        frameMaxBytes: 16 << 20,
      };
      const child = fork(mainPath, [], { execArgv: opts.execArgv ?? [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'json' });
      const w: PairWorker = {
        key: `${sup.id}:${port}`,
        child,
        pid: child.pid ?? 0,
        components: [...new Set(mine.map((e) => layout.taskComponent[e.start]))],
        beats: [],
        ready: false,
        exited: false,
      };
      child.on('message', (m: WorkerToSupervisor) => pair.onMessage(w, m));
      child.on('exit', () => {
        w.exited = true;
        pair.notify();
      });
      child.send({ type: 'start', spec });
      pair.workers.push(w);
    }
    await pair.until(() => pair.workers.every((w) => w.ready && w.beats.length > 0), opts.readyTimeoutMs ?? 15_000, 'workers ready');
    return pair;
  }

  private onMessage(w: PairWorker, m: WorkerToSupervisor): void {
    if (m.type === 'ready') w.ready = true;
    else if (m.type === 'heartbeat') {
      w.beats.push({ beat: m.beat, atMs: performance.now() });
      if (w.beats.length > 4) w.beats.shift();
    } else if (m.type === 'fatal') w.exited = true;
    else if (m.type === 'error') process.stderr.write(`bench worker ${w.key}: ${m.error.error}\n`);
    this.notify();
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const f of waiters) f();
  }

  private async until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (!cond()) {
      if (this.workers.some((w) => w.exited)) throw new Error(`a bench worker exited while waiting for ${what}`);
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** The next heartbeat of every worker after now: a snapshot of cumulative stats. */
  async snapshot(): Promise<Snapshot> {
    const seen = this.workers.map((w) => w.beats[w.beats.length - 1]);
    await this.until(() => this.workers.every((w, i) => w.beats[w.beats.length - 1] !== seen[i]), 5000, 'heartbeats');
    return this.workers.map((w) => {
      const b = w.beats[w.beats.length - 1];
      return { worker: w.key, atMs: b.beat.timeMs, stats: b.beat.executors };
    });
  }

  pids(): number[] {
    return this.workers.map((w) => w.pid);
  }

  /** Topology status, as the supervisor relays it: spouts stop (INACTIVE) or resume (ACTIVE). */
  setActive(active: boolean): void {
    for (const w of this.workers) w.child.send({ type: 'status', status: active ? 'ACTIVE' : 'INACTIVE' });
  }

  /** Stops both workers (shutdown, then SIGKILL after 5 s). */
  async close(): Promise<void> {
    for (const w of this.workers) if (!w.exited && w.child.connected) w.child.send({ type: 'shutdown' });
    const deadline = setTimeout(() => {
      for (const w of this.workers) if (!w.exited) w.child.kill('SIGKILL');
    }, 5000);
    await Promise.all(this.workers.map((w) => (w.exited ? undefined : new Promise<void>((r) => w.child.once('exit', () => r())))));
    clearTimeout(deadline);
  }
}
