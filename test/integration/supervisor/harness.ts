/**
 * Supervisor integration harness: an in-memory cluster state (the supervisor's session plus a
 * "Nimbus" session that writes topologies and assignments), real worker processes running
 * test/fixtures/fake-worker.js, and cleanup that checks every worker PID ever seen.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ClusterState } from '../../../common/cluster-state/cluster-state';
import { MemoryStateServer, type MemoryStateStore } from '../../../common/cluster-state/memory-store';
import type { Assignment, ComponentError, TopologyRecord, TopologyStatus } from '../../../common/cluster-state/types';
import type { Clock } from '../../../common/clock';
import { SystemClock } from '../../../common/clock';
import { resolveDaemonConfig } from '../../../common/config';
import { silentLogger } from '../../../common/logging';
import { Random } from '../../../common/random';
import type { WorkerStartSpec } from '../../../common/protocol/ipc';
import type { BundleProvider } from '../../../supervisor/bundle-cache';
import { ProcessLauncher, type WorkerEvents, type WorkerHandle, type WorkerLauncher } from '../../../supervisor/launcher';
import { startSupervisor, type SupervisorHandle } from '../../../supervisor/main';

export const FAKE_WORKER = path.resolve(__dirname, '../../fixtures/fake-worker.js');
export const HASH = 'ab'.repeat(32);

/** Polls `check` every 10 ms until it returns a value other than undefined/false; named, bounded. */
export async function waitUntil<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}

/** Every PID the launcher ever started, so cleanup can prove none is left. */
class RecordingLauncher implements WorkerLauncher {
  readonly pids: number[] = [];
  readonly specs: WorkerStartSpec[] = [];
  constructor(private readonly inner: WorkerLauncher) {}
  launch(spec: WorkerStartSpec, events: WorkerEvents): WorkerHandle {
    const handle = this.inner.launch(spec, events);
    this.specs.push(spec);
    if (handle.pid !== null) this.pids.push(handle.pid);
    return handle;
  }
}

export interface RecordedMessage {
  pid: number;
  type: string;
  [key: string]: unknown;
}

export class SupervisorHarness {
  readonly server = new MemoryStateServer();
  readonly nimbusStore: MemoryStateStore = this.server.connect();
  readonly nimbus = new ClusterState(this.nimbusStore);
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'squall-sup-'));
  readonly recordFile = path.join(this.dir, 'worker-messages.jsonl');
  readonly bundlePath = path.join(this.dir, 'bundle.js');
  readonly launcher = new RecordingLauncher(new ProcessLauncher({ workerMainPath: FAKE_WORKER, output: 'log', logger: silentLogger() }));
  private readonly handles: SupervisorHandle[] = [];
  store: MemoryStateStore | null = null;

  constructor() {
    fs.writeFileSync(this.bundlePath, '// not loaded by the fake worker\n');
  }

  /** A bundle provider that has every bundle already. */
  readonly bundles: BundleProvider = {
    ensure: async () => this.bundlePath,
    retain: async () => undefined,
    close: async () => undefined,
  };

  async start(config: Record<string, unknown> = {}, opts: { clock?: Clock; bundles?: BundleProvider } = {}): Promise<SupervisorHandle> {
    this.store = this.server.connect();
    const handle = await startSupervisor(
      resolveDaemonConfig({
        'storm.local.dir': this.dir,
        'supervisor.id': 'sup-1',
        'supervisor.slots.ports': [6700, 6701],
        'supervisor.worker.start.timeout.secs': 10,
        'supervisor.worker.timeout.secs': 10,
        'supervisor.worker.shutdown.sleep.secs': 0.3,
        'supervisor.worker.restart.backoff.max.secs': 0.2,
        'worker.heartbeat.frequency.secs': 0.05,
        'squall.log.level': 'silent',
        ...config,
      }),
      {
        state: new ClusterState(this.store),
        launcher: this.launcher,
        bundles: opts.bundles ?? this.bundles,
        logger: silentLogger(),
        clock: opts.clock ?? new SystemClock(),
        random: new Random(42),
      },
    );
    this.handles.push(handle);
    return handle;
  }

  record(id: string, over: { status?: TopologyStatus; config?: Record<string, unknown>; bundleHash?: string } = {}): TopologyRecord {
    return {
      v: 1,
      id,
      name: id,
      status: over.status ?? 'ACTIVE',
      launchTimeMs: 0,
      owner: 'test',
      bundleHash: over.bundleHash ?? HASH,
      bundleBytes: 10,
      definition: { spouts: {}, bolts: {} },
      config: { 'topology.error.history.size': 20, 'fake.worker.record': this.recordFile, ...over.config },
      numWorkers: 1,
      componentExecutors: {},
      pending: null,
      linkSecret: 'cd'.repeat(16),
    };
  }

  /** Writes a topology record and an assignment placing `executors` ([start, end, port]) on sup-1. */
  async assign(record: TopologyRecord, executors: Array<[number, number, number]>, seq = 1, extra: Assignment['executors'] = []): Promise<void> {
    await this.nimbus.setTopology(record);
    await this.nimbus.setAssignment({
      v: 1,
      topologyId: record.id,
      executors: [...executors.map(([start, end, port]) => ({ start, end, node: 'sup-1', port })), ...extra],
      nodeHost: { 'sup-1': '127.0.0.1' },
      workerStartMs: {},
      seq,
    });
  }

  /** Messages the fake workers received (and signals), in order. */
  messages(): RecordedMessage[] {
    if (!fs.existsSync(this.recordFile)) return [];
    return fs
      .readFileSync(this.recordFile, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as RecordedMessage);
  }

  async workerErrors(topologyId: string, component = '__worker'): Promise<ComponentError[]> {
    return (await this.nimbus.getErrors(topologyId))[component] ?? [];
  }

  /** Closes every supervisor, then proves no worker survived (SIGKILLing any that did). */
  async cleanup(): Promise<number[]> {
    for (const h of this.handles.splice(0)) await h.close();
    const survivors = this.launcher.pids.filter(alive);
    for (const pid of survivors) process.kill(pid, 'SIGKILL');
    await this.nimbusStore.close();
    fs.rmSync(this.dir, { recursive: true, force: true });
    return survivors;
  }
}
