/**
 * The chaos run's cluster: a throwaway ZooKeeper, `squall nimbus` and N `squall supervisor`
 * processes from bin/squall.js with one JSON config file, everything on 127.0.0.1 with free
 * ports, daemon logs in files. A background scan records every worker process the supervisors
 * start and samples the peak RSS of every process.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TopologyPage } from '../../common/protocol/rest';
import { Daemon, RssTracker, isAlive, squall, workerChildren } from './processes';
import { freePort, startZooKeeper, type ChaosZooKeeper } from './zookeeper';

const SCAN_MS = 250;
const READY_TIMEOUT_MS = 30_000;

export interface ChaosClusterOptions {
  dir: string;
  supervisors: number;
  slots: number;
  daemonConfig: Record<string, unknown>;
}

export async function waitUntil<T>(what: string, check: () => T | false | undefined | Promise<T | false | undefined>, timeoutMs: number, pollMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const v = await check();
      if (v !== false && v !== undefined) return v;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${last})` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

export class ChaosCluster {
  nimbus: Daemon | null = null;
  readonly supervisors = new Map<string, Daemon>();
  readonly slotPorts = new Map<string, number[]>();
  readonly rss = new RssTracker();
  /** Every worker PID seen, with the supervisor that started it. */
  readonly workersSeen = new Map<number, string>();
  supervisorRestarts = 0;
  private scanTimer: NodeJS.Timeout | null = null;
  private stopping: Promise<number[]> | null = null;
  private readonly configFile: string;

  private constructor(
    readonly options: ChaosClusterOptions,
    readonly zk: ChaosZooKeeper,
    readonly nimbusPort: number,
  ) {
    this.configFile = path.join(options.dir, 'squall.json');
  }

  static async start(options: ChaosClusterOptions): Promise<ChaosCluster> {
    fs.mkdirSync(options.dir, { recursive: true });
    const zk = await startZooKeeper();
    const cluster = new ChaosCluster(options, zk, await freePort());
    try {
      fs.writeFileSync(
        cluster.configFile,
        JSON.stringify(
          {
            'storm.zookeeper.servers': [zk.connectString],
            'storm.zookeeper.root': '/squall-chaos',
            'nimbus.host': '127.0.0.1',
            'nimbus.port': cluster.nimbusPort,
            'storm.local.dir': path.join(options.dir, 'nimbus'),
            ...options.daemonConfig,
          },
          null,
          2,
        ),
      );
      cluster.scanTimer = setInterval(() => cluster.scan(), SCAN_MS);
      await cluster.startNimbus();
      for (let i = 1; i <= options.supervisors; i++) {
        const ports: number[] = [];
        for (let k = 0; k < options.slots; k++) ports.push(await freePort());
        cluster.slotPorts.set(`sup-${i}`, ports);
      }
      await Promise.all([...cluster.slotPorts.keys()].map((id) => cluster.startSupervisor(id)));
    } catch (err) {
      await cluster.stop();
      throw err;
    }
    return cluster;
  }

  get nimbusAddress(): string {
    return `127.0.0.1:${this.nimbusPort}`;
  }

  async get<T>(route: string): Promise<T> {
    const res = await fetch(`http://${this.nimbusAddress}/api/v1${route}`, { signal: AbortSignal.timeout(5_000) });
    const text = await res.text();
    if (!res.ok) throw new Error(`GET ${route} answered ${res.status}: ${text}`);
    return JSON.parse(text) as T;
  }

  topology(name: string): Promise<TopologyPage> {
    return this.get(`/topology/${encodeURIComponent(name)}`);
  }

  private async startNimbus(): Promise<void> {
    this.nimbus = new Daemon('nimbus', ['nimbus', '--config', this.configFile], path.join(this.options.dir, 'nimbus.log'));
    await waitUntil('Nimbus REST', async () => (await fetch(`http://${this.nimbusAddress}/api/v1/nimbus/summary`)).ok, READY_TIMEOUT_MS);
  }

  /** Starts supervisor `id` (same ports and local dir every time) and waits until Nimbus lists it. */
  async startSupervisor(id: string): Promise<void> {
    const ports = this.slotPorts.get(id) as number[];
    const sup = new Daemon(
      id,
      ['supervisor', '--config', this.configFile, '-c', `supervisor.id=${id}`, '-c', `storm.local.dir=${path.join(this.options.dir, id)}`, '-c', `supervisor.slots.ports=${JSON.stringify(ports)}`],
      path.join(this.options.dir, `${id}.log`),
    );
    this.supervisors.set(id, sup);
    await waitUntil(`supervisor ${id} listed by Nimbus`, async () => (await this.get<{ supervisors: Array<{ id: string }> }>('/supervisor/summary')).supervisors.some((s) => s.id === id), READY_TIMEOUT_MS);
  }

  async restartSupervisor(id: string): Promise<void> {
    this.supervisorRestarts++;
    await this.startSupervisor(id);
  }

  /** Live worker processes, with their supervisor. */
  liveWorkers(): Array<{ pid: number; supervisor: string }> {
    const out: Array<{ pid: number; supervisor: string }> = [];
    for (const [id, sup] of this.supervisors) if (sup.running) for (const pid of workerChildren(sup.pid)) out.push({ pid, supervisor: id });
    return out;
  }

  private scan(): void {
    try {
      if (this.nimbus?.running) this.rss.sample(this.nimbus.pid, 'nimbus');
      this.rss.sample(this.zk.pid, 'zookeeper');
      for (const sup of this.supervisors.values()) if (sup.running) this.rss.sample(sup.pid, 'supervisor');
      for (const { pid, supervisor } of this.liveWorkers()) {
        if (!this.workersSeen.has(pid)) this.workersSeen.set(pid, supervisor);
        this.rss.sample(pid, 'worker');
      }
    } catch {
      // a process that exits while /proc is read: the next scan sees the rest
    }
  }

  /** `squall submit` of a module written next to the run's files: `export { default } from topology; export const config`. */
  async submit(topologyModule: string, name: string, topologyConfig: Record<string, unknown>, userConfig: Record<string, unknown>): Promise<void> {
    const entry = path.join(this.options.dir, `${name}-entry.ts`);
    fs.writeFileSync(entry, `export { default } from ${JSON.stringify(topologyModule.replace(/\.ts$/, ''))};\nexport const config = ${JSON.stringify(userConfig, null, 2)};\n`);
    const flags = Object.entries(topologyConfig).flatMap(([k, v]) => ['-c', `${k}=${JSON.stringify(v)}`]);
    await squall(['submit', entry, '--name', name, '--nimbus', this.nimbusAddress, ...flags]);
  }

  async kill(name: string): Promise<void> {
    await squall(['kill', name, '-w', '0', '--nimbus', this.nimbusAddress]);
  }

  /**
   * Stops the supervisors (they stop their workers), Nimbus and ZooKeeper, by PID; returns the
   * worker processes still alive afterwards (killed, and reported by the caller as orphans).
   * Idempotent.
   */
  stop(): Promise<number[]> {
    this.stopping ??= this.stopAll();
    return this.stopping;
  }

  private async stopAll(): Promise<number[]> {
    this.scan();
    if (this.scanTimer) clearInterval(this.scanTimer);
    await Promise.all([...this.supervisors.values()].map((s) => s.stop()));
    await this.nimbus?.stop();
    const deadline = Date.now() + 5_000;
    let left = [...this.workersSeen.keys()].filter(isAlive);
    while (left.length > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      left = left.filter(isAlive);
    }
    for (const pid of left) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // exited meanwhile
      }
    }
    await this.zk.stop();
    return left;
  }
}
