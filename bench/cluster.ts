/**
 * Benchmarks on a real one-machine cluster: Nimbus and two supervisors in this process on the
 * in-memory store (`startDevCluster`, as `squall dev` runs it), real worker processes, bundles
 * built and submitted as `squall submit` does, figures read through Nimbus's REST API.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { TopologyConfig } from '../topology-api';
import type { ExecutorStats } from '../common/cluster-state/types';
import { buildBundle } from '../cli/bundle';
import { startDevCluster, type DevCluster } from '../cli/commands/daemons';
import { NimbusClient } from '../cli/nimbus-client';
import { BENCH_REPORT_FILE } from './components';
import { sleep, type Snapshot } from './measure';

/** Two consecutive free ports (the dev cluster numbers slots from a first port). */
async function freePortPair(): Promise<number> {
  const listen = (port: number): Promise<net.Server | null> =>
    new Promise((resolve) => {
      const srv = net.createServer();
      srv.once('error', () => resolve(null));
      srv.listen(port, '127.0.0.1', () => resolve(srv));
    });
  for (let i = 0; i < 50; i++) {
    const base = 20_000 + Math.floor(Math.random() * 30_000);
    const a = await listen(base);
    const b = a && (await listen(base + 1));
    await new Promise<void>((r) => (a ? a.close(() => r()) : r()));
    await new Promise<void>((r) => (b ? b.close(() => r()) : r()));
    if (a && b) return base;
  }
  throw new Error('no two consecutive free ports');
}

export interface BenchCluster {
  dev: DevCluster;
  client: NimbusClient;
  dir: string;
  close(): Promise<void>;
}

/** Nimbus + `supervisors` supervisors with `slots` slots each; heartbeats every 250 ms for finer rates. */
export async function startBenchCluster(supervisors: number, slots: number): Promise<BenchCluster> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'squall-bench-'));
  const firstSlotPort = slots * supervisors === 2 ? await freePortPair() : 20_000 + Math.floor(Math.random() * 30_000);
  const dev = await startDevCluster(
    { 'nimbus.port': 0, 'squall.log.level': 'fatal', 'worker.heartbeat.frequency.secs': 0.25, 'storm.local.dir': dir },
    { supervisors, slots, firstSlotPort },
  );
  const client = new NimbusClient({ url: dev.url });
  const deadline = performance.now() + 10_000;
  while ((await client.supervisors()).supervisors.length < supervisors) {
    if (performance.now() > deadline) throw new Error('supervisors did not register');
    await sleep(20);
  }
  return {
    dev,
    client,
    dir,
    close: async () => {
      await dev.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface SubmitTiming {
  id: string;
  /** Bundle build (esbuild), as `squall submit` does first. */
  buildMs: number;
  /** From the submit request to the spout's first ack (the spout writes the time to a file). */
  submitToAckMs: number;
  /** From the submit request to the first REST page showing an acked tuple. */
  submitToRestAckMs: number;
}

/** Builds `entry`, submits it and waits for its first acked spout tuple. */
export async function submitAndWaitFirstAck(c: BenchCluster, entry: string, name: string, config: TopologyConfig): Promise<SubmitTiming> {
  const t0 = performance.now();
  const bundle = await buildBundle(entry, path.join(c.dir, `${name}.js`));
  const buildMs = performance.now() - t0;
  const reportFile = path.join(c.dir, `${name}.first-ack`);
  const submitWall = Date.now();
  const submitAt = performance.now();
  const res = await c.client.submit(name, bundle.code, { ...config, [BENCH_REPORT_FILE]: reportFile });
  let restMs = NaN;
  const deadline = submitAt + 30_000;
  for (;;) {
    const page = await c.client.topology(res.id);
    if (page.spouts.some((s) => s.acked > 0)) {
      restMs = performance.now() - submitAt;
      break;
    }
    if (performance.now() > deadline) throw new Error(`${name}: no acked tuple within 30 s`);
    await sleep(10);
  }
  const firstAckWall = Number(fs.readFileSync(reportFile, 'utf8'));
  return { id: res.id, buildMs, submitToAckMs: firstAckWall - submitWall, submitToRestAckMs: restMs };
}

/**
 * Cumulative per-executor counts from the REST API, as a Snapshot (one sample per executor).
 * REST shows each worker's latest heartbeat; a sample's time is when its count last changed, i.e.
 * when that heartbeat arrived, so rates are taken between heartbeats, not between polls.
 */
export class RestSampler {
  private readonly last = new Map<string, { stats: ExecutorStats; atMs: number; key: string }>();
  private timer: NodeJS.Timeout | null = null;
  private polling: Promise<void> = Promise.resolve();
  private changes = 0;

  constructor(
    private readonly client: NimbusClient,
    private readonly topologyId: string,
    private readonly components: ReadonlyArray<{ id: string; kind: 'spout' | 'bolt' }>,
  ) {}

  start(): void {
    const tick = (): void => {
      this.polling = this.poll().finally(() => {
        if (this.timer !== null) this.timer = setTimeout(tick, 25);
      });
    };
    this.timer = setTimeout(tick, 0);
  }

  private async poll(): Promise<void> {
    for (const c of this.components) {
      const page = await this.client.component(this.topologyId, c.id);
      const now = performance.now();
      for (const e of page.executorStats) {
        const id = `${c.id}${e.id}`;
        const key = `${e.executed}/${e.acked}/${e.emitted}/${e.failed}`;
        const prev = this.last.get(id);
        if (prev !== undefined && prev.key === key) continue;
        this.changes++;
        const stats: ExecutorStats = {
          component: c.id,
          start: 0,
          end: 0,
          kind: c.kind,
          emitted: { default: e.emitted },
          transferred: { default: e.transferred },
          executed: { default: e.executed },
          acked: { default: e.acked },
          failed: { default: e.failed },
          executeMsTotal: 0,
          processMsTotal: 0,
          processCount: 0,
          completeMsTotal: 0,
          capacity: 0,
          uptimeSecs: e.uptimeSeconds,
        };
        this.last.set(id, { stats, atMs: now, key });
      }
    }
  }

  /** Waits for the next change of every executor's counts, then returns them all. */
  async snapshot(): Promise<Snapshot> {
    const seen = new Map([...this.last].map(([id, v]) => [id, v.atMs]));
    const deadline = performance.now() + 5000;
    while ([...this.last].some(([id, v]) => seen.get(id) === v.atMs) || this.last.size === 0) {
      if (performance.now() > deadline) throw new Error('no heartbeat through REST within 5 s');
      await sleep(10);
    }
    return [...this.last].map(([id, v]) => ({ worker: id, atMs: v.atMs, stats: [v.stats] }));
  }

  async stop(): Promise<void> {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    await this.polling;
  }
}

/** The worker processes of a topology, from REST. */
export async function workerPids(client: NimbusClient, topologyId: string): Promise<Array<{ pid: number; port: number; components: string }>> {
  const page = await client.topology(topologyId);
  return page.workers
    .filter((w) => w.pid !== null)
    .map((w) => ({ pid: w.pid!, port: w.port, components: Object.keys(w.componentNumTasks).filter((k) => !k.startsWith('__')).sort().join(', ') }));
}
