/**
 * A Nimbus over an in-memory cluster state, a manual clock and a fake bundle probe, with
 * supervisors (each its own state session) and heartbeats driven by the test.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ManualClock } from '../../../common/clock';
import { ClusterState } from '../../../common/cluster-state/cluster-state';
import { MemoryStateServer, type MemoryStateStore } from '../../../common/cluster-state/memory-store';
import type { ExecutorStats, SupervisorInfo, WorkerBeat } from '../../../common/cluster-state/types';
import { resolveDaemonConfig, type DaemonConfig } from '../../../common/config';
import { squallError, type ErrorCode } from '../../../common/errors';
import { silentLogger } from '../../../common/logging';
import type { TopologyConfig, TopologyDefinition } from '../../../common/topology';
import type { BundleProbe, ProbedTopology } from '../../../nimbus/bundle-probe';
import { BundleStore } from '../../../nimbus/bundle-store';
import { Nimbus } from '../../../nimbus/nimbus';
import { signReport } from '../../../common/protocol/heartbeats';

export const WALL_ORIGIN_MS = 1_700_000_000_000;

/** words (spout, 2 executors, 2 tasks) → count (bolt, 2 executors, 4 tasks, fields grouping). */
export function definition(): TopologyDefinition {
  return {
    spouts: { words: { parallelism: 2, numTasks: 2, config: {}, streams: { default: { fields: ['word'], direct: false } }, inputs: [] } },
    bolts: {
      count: {
        parallelism: 2,
        numTasks: 4,
        config: {},
        streams: { default: { fields: ['word', 'count'], direct: false } },
        inputs: [{ component: 'words', stream: 'default', grouping: { type: 'fields', fields: ['word'] } }],
      },
    },
  };
}

/** What FakeProbe "loads": the bundle bytes are this JSON. */
export interface FakeBundle {
  definition?: unknown;
  config?: TopologyConfig;
  fail?: { code: ErrorCode; reason: string; problems?: string[] };
  /** Makes otherwise equal bundles differ (another hash). */
  salt?: string;
}

export function fakeBundle(spec: FakeBundle = {}): Buffer {
  return Buffer.from(JSON.stringify({ definition: definition(), config: {}, ...spec }));
}

/** Reads the fake bundle from disk, as the real probe's child would. */
export class FakeProbe implements BundleProbe {
  readonly probed: string[] = [];
  closed = false;

  async probe(bundlePath: string): Promise<ProbedTopology> {
    this.probed.push(bundlePath);
    const spec = JSON.parse(fs.readFileSync(bundlePath, 'utf8')) as FakeBundle;
    if (spec.fail) throw squallError(spec.fail.code, spec.fail.reason, { problems: spec.fail.problems });
    return { definition: spec.definition as TopologyDefinition, config: spec.config ?? {} };
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

export function executorStats(component: string, start: number, end: number, kind: 'spout' | 'bolt', counts: { emitted?: number; acked?: number; executed?: number } = {}): ExecutorStats {
  return {
    component,
    start,
    end,
    kind,
    emitted: { default: counts.emitted ?? 0 },
    transferred: { default: counts.emitted ?? 0 },
    executed: kind === 'bolt' ? { 'words:default': counts.executed ?? 0 } : {},
    acked: { default: counts.acked ?? 0 },
    failed: {},
    executeMsTotal: 0,
    processMsTotal: 0,
    processCount: 0,
    completeMsTotal: kind === 'spout' ? (counts.acked ?? 0) * 2 : 0,
    capacity: 0.25,
    uptimeSecs: 12,
  };
}

export interface Harness {
  server: MemoryStateServer;
  clock: ManualClock;
  /** Nimbus's own state session. */
  state: ClusterState;
  store: MemoryStateStore;
  /** A separate session for the test's reads and writes (heartbeats, errors). */
  peer: ClusterState;
  config: DaemonConfig;
  probe: FakeProbe;
  bundles: BundleStore;
  nimbus: Nimbus;
  dir: string;
  /** Registers a supervisor in its own session. */
  addSupervisor(id: string, ports: number[]): Promise<void>;
  /** Ends a supervisor's session: its ephemeral node goes. */
  removeSupervisor(id: string): Promise<void>;
  /** Writes a worker's liveness record; with executors, also sends its stats to Nimbus (signed). */
  beat(topologyId: string, node: string, port: number, timeMs: number, executors?: ExecutorStats[]): Promise<void>;
  /** Lets watch callbacks run and waits for Nimbus's queue to drain. */
  settle(): Promise<void>;
  /** A second Nimbus over the same cluster state and disk (a restart). */
  restart(): Promise<Nimbus>;
  close(): Promise<void>;
}

export async function startHarness(options: { config?: Record<string, unknown>; supervisors?: Array<[string, number[]]>; start?: boolean } = {}): Promise<Harness> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'squall-nimbus-'));
  const server = new MemoryStateServer();
  const clock = new ManualClock(0, WALL_ORIGIN_MS);
  const config = resolveDaemonConfig({ 'storm.local.dir': dir, 'nimbus.monitor.freq.secs': 10, 'nimbus.task.timeout.secs': 30, 'nimbus.task.launch.secs': 120, ...options.config });
  const sessions: MemoryStateStore[] = [];
  const supervisorSessions = new Map<string, MemoryStateStore>();
  const nimbuses: Nimbus[] = [];
  const probe = new FakeProbe();
  const bundles = BundleStore.fromConfig(config);

  const makeNimbus = (): { nimbus: Nimbus; state: ClusterState; store: MemoryStateStore } => {
    const store = server.connect();
    sessions.push(store);
    const state = new ClusterState(store);
    const nimbus = new Nimbus({ state, bundles, probe, clock, logger: silentLogger(), config, newSecret: () => 'ab'.repeat(32) });
    nimbuses.push(nimbus);
    return { nimbus, state, store };
  };
  const first = makeNimbus();
  const peerStore = server.connect();
  sessions.push(peerStore);
  const peer = new ClusterState(peerStore);

  const settle = async (): Promise<void> => {
    for (let i = 0; i < 3; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      for (const n of nimbuses) await n.idle();
    }
  };

  const h: Harness = {
    server,
    clock,
    state: first.state,
    store: first.store,
    peer,
    config,
    probe,
    bundles,
    nimbus: first.nimbus,
    dir,
    async addSupervisor(id, ports) {
      const store = server.connect();
      sessions.push(store);
      supervisorSessions.set(id, store);
      const info: SupervisorInfo = { v: 1, id, host: `${id}.example`, ports, usedPorts: [], startTimeMs: clock.wallNow() - 65_000, timeMs: clock.wallNow(), version: '0.1.0' };
      await new ClusterState(store).registerSupervisor(info);
    },
    async removeSupervisor(id) {
      await supervisorSessions.get(id)?.close();
      supervisorSessions.delete(id);
    },
    async beat(topologyId, node, port, timeMs, executors = []) {
      const beat: WorkerBeat = { v: 1, topologyId, node, port, pid: 4242, timeMs, uptimeSecs: 12, rssBytes: 50_000_000 };
      await peer.setWorkerBeat(beat);
      // Stats go to Nimbus signed with the topology's link secret, as a supervisor sends them.
      if (executors.length > 0) h.nimbus.receiveHeartbeats(node, { v: 1, supervisorId: node, reports: [signReport({ ...beat, incarnation: `${node}:${port}`, executors }, 'ab'.repeat(32))] });
    },
    settle,
    async restart() {
      const next = makeNimbus();
      await next.nimbus.start({ host: '127.0.0.1', port: 6627 });
      await settle();
      return next.nimbus;
    },
    async close() {
      for (const n of nimbuses) await n.close();
      for (const s of sessions) await s.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  for (const [id, ports] of options.supervisors ?? []) await h.addSupervisor(id, ports);
  if (options.start !== false) {
    await h.nimbus.start({ host: '127.0.0.1', port: 6627 });
    await settle();
  }
  return h;
}
