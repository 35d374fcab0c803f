/**
 * The supervisor's plumbing without processes: in-memory cluster state, a manual clock, and a
 * scripted launcher whose "workers" the test drives message by message.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ClusterState } from '../../../common/cluster-state/cluster-state';
import { MemoryStateServer, type MemoryStateStore } from '../../../common/cluster-state/memory-store';
import type { TopologyRecord } from '../../../common/cluster-state/types';
import { ManualClock } from '../../../common/clock';
import { resolveDaemonConfig } from '../../../common/config';
import { squallError } from '../../../common/errors';
import { silentLogger } from '../../../common/logging';
import type { SupervisorToWorker, WorkerStartSpec } from '../../../common/protocol/ipc';
import { verifyReport, type HeartbeatBatch } from '../../../common/protocol/heartbeats';
import { Random } from '../../../common/random';
import type { BundleProvider } from '../../../supervisor/bundle-cache';
import type { WorkerEvents, WorkerHandle, WorkerLauncher } from '../../../supervisor/launcher';
import { Supervisor } from '../../../supervisor/supervisor';

const HASH = 'cd'.repeat(32);

class FakeWorker implements WorkerHandle {
  readonly sent: SupervisorToWorker[] = [];
  readonly signals: string[] = [];
  exited = false;
  /** Exit (code 0) when sent SIGTERM, as a well-behaved worker does. */
  obeys = true;
  constructor(
    readonly pid: number,
    readonly spec: WorkerStartSpec,
    private readonly events: WorkerEvents,
  ) {}
  send(msg: SupervisorToWorker): void {
    this.sent.push(msg);
  }
  kill(signal: 'SIGTERM' | 'SIGKILL'): void {
    this.signals.push(signal);
    if (this.obeys && !this.exited) queueMicrotask(() => this.exit(signal === 'SIGKILL' ? null : 0, signal === 'SIGKILL' ? 'SIGKILL' : null));
  }
  ready(): void {
    this.events.onMessage({ type: 'ready', pid: this.pid });
  }
  beat(rssBytes = 1): void {
    this.events.onMessage({ type: 'heartbeat', beat: { incarnation: 'i1', timeMs: 0, uptimeSecs: 1, rssBytes, executors: [] } });
  }
  error(component: string, text: string): void {
    this.events.onMessage({ type: 'error', component, error: { error: text, errorTimeMs: 1, host: 'worker-says', port: 1 } });
  }
  exit(code: number | null, signal: string | null = null): void {
    if (this.exited) return;
    this.exited = true;
    this.events.onExit(code, signal);
  }
}

class ScriptedLauncher implements WorkerLauncher {
  readonly workers: FakeWorker[] = [];
  failNext: Error | null = null;
  launch(spec: WorkerStartSpec, events: WorkerEvents): WorkerHandle {
    if (this.failNext) {
      const err = this.failNext;
      this.failNext = null;
      throw err;
    }
    const w = new FakeWorker(1000 + this.workers.length, spec, events);
    this.workers.push(w);
    return w;
  }
  last(): FakeWorker {
    return this.workers[this.workers.length - 1];
  }
}

/** Lets queued promise callbacks and store watch deliveries run. */
async function settle(sup: Supervisor): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    await sup.settled();
  }
}

describe('Supervisor (scripted workers, manual clock)', () => {
  let server: MemoryStateServer;
  let store: MemoryStateStore;
  let nimbus: ClusterState;
  let clock: ManualClock;
  let launcher: ScriptedLauncher;
  let dir: string;
  let sup: Supervisor;
  let retained: Array<Set<string>>;
  let pushed: HeartbeatBatch[];

  const bundles: BundleProvider = {
    ensure: async (hash) => `/bundles/${hash}.js`,
    retain: async (keep) => {
      retained.push(new Set(keep));
    },
    close: async () => undefined,
  };

  const record = (id: string, config: Record<string, unknown> = {}): TopologyRecord => ({
    v: 1,
    id,
    name: id,
    status: 'ACTIVE',
    launchTimeMs: 0,
    owner: 't',
    bundleHash: HASH,
    bundleBytes: 1,
    definition: { spouts: {}, bolts: {} },
    config,
    numWorkers: 1,
    componentExecutors: { s: 1 },
    pending: null,
    linkSecret: 'ff',
  });

  const assign = (topologyId: string, port: number, seq = 1): Promise<void> =>
    nimbus.setAssignment({ v: 1, topologyId, executors: [{ start: 1, end: 1, node: 'sup-1', port }], nodeHost: { 'sup-1': 'h1' }, workerStartMs: {}, seq });

  /** `deaf`: a ClusterState whose connection events never arrive (a lost watch, in effect). */
  const makeSupervisor = (deaf = false): Supervisor => {
    const state = new ClusterState(store);
    if (deaf) state.onConnectionChange = () => () => undefined;
    return new Supervisor({
      state,
      launcher,
      bundles,
      clock,
      random: new Random(1),
      logger: silentLogger(),
      config: resolveDaemonConfig({
        'storm.local.dir': dir,
        'supervisor.id': 'sup-1',
        'supervisor.host': 'h1',
        'supervisor.slots.ports': [6701, 6700],
        'squall.log.level': 'warn',
        'worker.heartbeat.frequency.secs': 2,
        'worker.frame.max.bytes': 4096,
      }),
      version: '9.9.9',
      heartbeats: { send: async (batch) => (pushed.push(batch), { accepted: batch.reports.length, rejected: 0 }) },
    });
  };

  beforeEach(async () => {
    pushed = [];
    server = new MemoryStateServer();
    store = server.connect();
    nimbus = new ClusterState(server.connect());
    clock = new ManualClock();
    launcher = new ScriptedLauncher();
    retained = [];
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'squall-sup-unit-'));
    sup = makeSupervisor();
    await sup.start();
  });

  afterEach(async () => {
    await sup.close();
    expect(clock.pendingTimers()).toBe(0); // close() cleared every timer
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('registers with its host, sorted ports, version and start time', async () => {
    expect(await nimbus.getSupervisor('sup-1')).toEqual({ v: 1, id: 'sup-1', host: 'h1', ports: [6700, 6701], usedPorts: [], startTimeMs: clock.wallNow(), timeMs: clock.wallNow(), version: '9.9.9' });
    clock.advance(5_000);
    await settle(sup);
    expect((await nimbus.getSupervisor('sup-1'))?.timeMs).toBe(clock.wallNow());
  });

  test('builds the start spec from the record, the assignment and the daemon config', async () => {
    await nimbus.setTopology({ ...record('t1'), status: 'INACTIVE' });
    await assign('t1', 6700);
    await settle(sup);
    expect(launcher.last().spec).toEqual({
      topologyId: 't1',
      supervisorId: 'sup-1',
      host: 'h1',
      port: 6700,
      bundlePath: `/bundles/${HASH}.js`,
      bundleHash: HASH,
      definition: { spouts: {}, bolts: {} },
      config: {},
      componentExecutors: { s: 1 },
      linkSecret: 'ff',
      assignment: await nimbus.getAssignment('t1'),
      active: false,
      logLevel: 'warn',
      heartbeatMs: 2000,
      frameMaxBytes: 4096,
      stateDir: path.join(dir, 'state'),
    });
    expect(retained.at(-1)).toEqual(new Set([HASH]));
    expect((await nimbus.getSupervisor('sup-1'))?.usedPorts).toEqual([6700]);
  });

  test('an assignment whose record is not there yet waits for the record', async () => {
    await assign('t1', 6700);
    await settle(sup);
    expect(launcher.workers).toHaveLength(0);
    await nimbus.setTopology(record('t1'));
    await settle(sup);
    expect(launcher.workers).toHaveLength(1);
  });

  test('heartbeats go to Nimbus signed, with a small liveness record in cluster state a third of a timeout apart', async () => {
    await nimbus.setTopology(record('t1'));
    await assign('t1', 6701);
    await settle(sup);
    const w = launcher.last();
    w.ready();
    clock.advance(1_500);
    w.beat(777);
    await settle(sup);
    const first = clock.wallNow();
    expect(await nimbus.getWorkerBeats('t1')).toEqual([{ v: 1, topologyId: 't1', node: 'sup-1', port: 6701, pid: 1000, timeMs: first, uptimeSecs: 1, rssBytes: 777 }]);
    expect(pushed).toHaveLength(1);
    const [signed] = pushed[0].reports;
    expect(pushed[0].supervisorId).toBe('sup-1');
    expect(verifyReport(signed, 'ff')).toBe(true);
    expect(JSON.parse(signed.body)).toEqual({ topologyId: 't1', node: 'sup-1', port: 6701, pid: 1000, incarnation: 'i1', timeMs: first, uptimeSecs: 1, rssBytes: 777, executors: [] });
    // nimbus.task.timeout.secs is 30 (default): the record is rewritten every 10 s, pushes go every beat.
    clock.advance(9_000);
    w.beat(778);
    await settle(sup);
    expect((await nimbus.getWorkerBeats('t1'))[0].timeMs).toBe(first);
    expect(pushed).toHaveLength(2);
    clock.advance(1_000);
    w.beat(779);
    await settle(sup);
    expect((await nimbus.getWorkerBeats('t1'))[0]).toMatchObject({ timeMs: clock.wallNow(), rssBytes: 779 });
  });

  test('worker errors keep the topology error history size and carry the slot host and port', async () => {
    await nimbus.setTopology(record('t1', { 'topology.error.history.size': 2 }));
    await assign('t1', 6700);
    await settle(sup);
    const w = launcher.last();
    w.ready();
    for (const text of ['e1', 'e2', 'e3']) w.error('split', text);
    await settle(sup);
    expect((await nimbus.getErrors('t1')).split).toEqual([
      { error: 'e2', errorTimeMs: 1, host: 'h1', port: 6700 },
      { error: 'e3', errorTimeMs: 1, host: 'h1', port: 6700 },
    ]);
  });

  test('a launcher that throws is a reported start failure, retried after backoff', async () => {
    launcher.failNext = squallError('ERR_CONFIG_INVALID', 'topology.worker.childopts has an unclosed " quote');
    await nimbus.setTopology(record('t1'));
    await assign('t1', 6700);
    await settle(sup);
    expect(launcher.workers).toHaveLength(0);
    const state = sup.slotStates().find((s) => s.port === 6700);
    expect(state).toMatchObject({ kind: 'BACKOFF', failures: 1 });
    expect((await nimbus.getErrors('t1')).__worker).toEqual([
      {
        error: 'ERR_WORKER_START_FAILED: could not start the worker process: ERR_CONFIG_INVALID: Invalid configuration: topology.worker.childopts has an unclosed " quote',
        errorTimeMs: clock.wallNow(),
        host: 'h1',
        port: 6700,
      },
    ]);
    if (state?.kind === 'BACKOFF') clock.advance(state.untilMs - clock.now());
    await settle(sup);
    expect(launcher.workers).toHaveLength(1);
  });

  test('peers moving are forwarded; the worker is not restarted', async () => {
    await nimbus.setTopology(record('t1'));
    await assign('t1', 6700, 1);
    await settle(sup);
    launcher.last().ready();
    await nimbus.setAssignment({
      v: 1,
      topologyId: 't1',
      executors: [
        { start: 1, end: 1, node: 'sup-1', port: 6700 },
        { start: 2, end: 2, node: 'sup-9', port: 6700 },
      ],
      nodeHost: { 'sup-1': 'h1', 'sup-9': 'h9' },
      workerStartMs: {},
      seq: 2,
    });
    await settle(sup);
    expect(launcher.workers).toHaveLength(1);
    expect(launcher.last().sent.map((m) => m.type)).toEqual(['assignment']);
  });

  test('after a disconnect the supervisor catches up on reconnection', async () => {
    await nimbus.setTopology(record('t1'));
    server.disconnectSession(store);
    await assign('t1', 6700);
    await settle(sup);
    expect(launcher.workers).toHaveLength(0);
    server.reconnectSession(store);
    await settle(sup);
    expect(launcher.workers).toHaveLength(1);
  });

  test('without connection events, the monitor tick still catches up after an expiry', async () => {
    await sup.close();
    sup = makeSupervisor(true);
    await sup.start();
    await nimbus.setTopology(record('t1'));
    server.expireSession(store);
    await settle(sup);
    await assign('t1', 6700);
    await settle(sup);
    expect(launcher.workers).toHaveLength(0); // its watches died with the session
    clock.advance(3_000); // supervisor.monitor.frequency.secs
    await settle(sup);
    expect(launcher.workers).toHaveLength(1);
  });

  test('close() stops a stubborn worker by SIGKILL and gives up waiting after its bound', async () => {
    await nimbus.setTopology(record('t1'));
    await assign('t1', 6700);
    await settle(sup);
    const w = launcher.last();
    w.obeys = false;
    w.ready();
    const closing = sup.close();
    await settle(sup);
    expect(w.sent.map((m) => m.type)).toEqual(['shutdown']);
    expect(w.signals).toEqual(['SIGTERM']);
    clock.advance(3_000);
    expect(w.signals).toEqual(['SIGTERM', 'SIGKILL']);
    clock.advance(3_000 + 5_000); // never exits: close() is bounded anyway
    await closing;
    expect(await nimbus.getSupervisor('sup-1')).toBeNull();
    expect(sup.workerPids()).toEqual([1000]); // still reported as alive: the log names it
    w.exit(null, 'SIGKILL');
    expect(sup.workerPids()).toEqual([]);
  });
});
