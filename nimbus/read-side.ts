/**
 * What Nimbus answers the REST app's GETs with: summaries and pages assembled from the topology
 * table, worker liveness and fresh reads of supervisors, heartbeats and errors.
 */
import type { Clock } from '../common/clock';
import type { ClusterState } from '../common/cluster-state/cluster-state';
import type { WorkerBeat } from '../common/cluster-state/types';
import type { DaemonConfig } from '../common/config';
import { squallError } from '../common/errors';
import type { ClusterSummary, ComponentPage, NimbusSummaryEntry, StatsWindowId, SupervisorSummaryEntry, TopologySummaryEntry, VisualizationPage } from '../common/protocol/rest';
import { prettyUptime, redactSecrets, secondsBetween } from './format';
import type { WorkerLiveness, WorkerState } from './liveness';
import { slotKey } from './scheduler';
import type { TopologyTable, Tracked } from './topology-table';
import { squallVersion } from '../common/version';
import type { StatsStore } from './stats/store';
import { componentPage, schedulerNote, topologyPage, topologySummaryEntry, visualization, type NimbusTopologyPage, type TopologySnapshot, type WorkerFacts } from './views';

/** What a page shows: `?sys=true` adds system components; `?window=` picks the stats window. */
export interface PageOptions {
  includeSystem?: boolean;
  window?: StatsWindowId;
}

export interface ReadSideDeps {
  state: ClusterState;
  table: TopologyTable;
  liveness: WorkerLiveness;
  stats: StatsStore;
  clock: Clock;
  config: DaemonConfig;
  /** Where Nimbus serves and since when (its monotonic clock). */
  self: () => { host: string; port: number; startedAtMs: number };
}

export class NimbusReadSide {
  constructor(private readonly deps: ReadSideDeps) {}

  async clusterSummary(): Promise<ClusterSummary> {
    const supervisors = await this.deps.state.listSupervisors();
    const used = this.deps.table.usedSlots(supervisors);
    const slotsTotal = supervisors.reduce((n, s) => n + new Set(s.ports).size, 0);
    const uptimeSecs = this.uptimeSecs();
    let executorsTotal = 0;
    let tasksTotal = 0;
    for (const t of this.deps.table.all()) {
      executorsTotal += t.layout.executors.length;
      tasksTotal += t.layout.taskComponent.length - 1;
    }
    return {
      squallVersion: squallVersion(),
      nimbusUptime: prettyUptime(uptimeSecs),
      nimbusUptimeSeconds: uptimeSecs,
      supervisors: supervisors.length,
      topologies: this.deps.table.size,
      slotsTotal,
      slotsUsed: used.size,
      slotsFree: slotsTotal - used.size,
      executorsTotal,
      tasksTotal,
    };
  }

  async supervisorSummary(): Promise<SupervisorSummaryEntry[]> {
    const supervisors = await this.deps.state.listSupervisors();
    const used = this.deps.table.usedSlots(supervisors);
    return supervisors.map((s) => {
      const ports = [...new Set(s.ports)];
      const usedPorts = ports.filter((p) => used.has(slotKey(s.id, p))).sort((a, b) => a - b);
      // The supervisor's own clock on both ends: no skew against Nimbus's.
      const uptimeSeconds = secondsBetween(s.startTimeMs, s.timeMs);
      return {
        id: s.id,
        host: s.host,
        uptime: prettyUptime(uptimeSeconds),
        uptimeSeconds,
        slotsTotal: ports.length,
        slotsUsed: usedPorts.length,
        slotsFree: ports.length - usedPorts.length,
        usedPorts,
        version: s.version,
      };
    });
  }

  nimbusSummary(): NimbusSummaryEntry[] {
    const { host, port } = this.deps.self();
    const uptimeSecs = this.uptimeSecs();
    return [{ host, port, status: 'Leader', nimbusUpTime: prettyUptime(uptimeSecs), nimbusUpTimeSeconds: uptimeSecs, version: squallVersion() }];
  }

  /** Every topology (killed ones until removed), by name. */
  async topologySummary(): Promise<TopologySummaryEntry[]> {
    const tracked = this.deps.table.all().sort((a, b) => (a.record.name < b.record.name ? -1 : a.record.name > b.record.name ? 1 : 0));
    return Promise.all(
      tracked.map(async (t) => {
        let base = { record: t.record, layout: t.layout, assignment: t.assignment, workerStates: this.workerStates(t), errors: {}, nowMs: this.deps.clock.wallNow() };
        if (schedulerNote(base) !== undefined && t.assignment) {
          // Workers may have heartbeated since the last monitor round: look before saying they did not.
          this.observe(t, await this.deps.state.getWorkerBeats(t.record.id));
          base = { ...base, workerStates: this.workerStates(t) };
        }
        // Errors are read only for topologies that are not fully running (the note cites them).
        const errors = schedulerNote(base) === undefined ? {} : await this.deps.state.getErrors(t.record.id);
        return topologySummaryEntry({ ...base, errors });
      }),
    );
  }

  async topologyPage(nameOrId: string, options: PageOptions = {}): Promise<NimbusTopologyPage> {
    return topologyPage(await this.snapshot(nameOrId, options.window), options);
  }

  async componentPage(nameOrId: string, componentId: string, options: PageOptions = {}): Promise<ComponentPage> {
    const snap = await this.snapshot(nameOrId, options.window);
    const page = componentPage(snap, componentId);
    if (!page) throw squallError('ERR_COMPONENT_NOT_FOUND', `no component "${componentId}" in topology ${snap.record.id}`);
    return page;
  }

  async visualization(nameOrId: string): Promise<VisualizationPage> {
    const snap = await this.snapshot(nameOrId);
    const now = this.deps.clock.now();
    return visualization(snap.record, snap.layout, this.deps.stats.recentStats(snap.record.id, now), snap.statsOf(':all-time').map((p) => p.stats));
  }

  /** The daemon configuration, secrets replaced by `<redacted>`. */
  clusterConfiguration(): Record<string, unknown> {
    return redactSecrets(this.deps.config);
  }

  workerStates(t: Tracked): Map<string, WorkerState> {
    const { clock, liveness } = this.deps;
    return t.assignment ? liveness.states(t.assignment, clock.now(), clock.wallNow()) : new Map();
  }

  private async snapshot(nameOrId: string, window?: StatsWindowId): Promise<TopologySnapshot> {
    const t = this.deps.table.find(nameOrId);
    const [beats, errors] = await Promise.all([this.deps.state.getWorkerBeats(t.record.id), this.deps.state.getErrors(t.record.id)]);
    // The page shows these beats: judge liveness by them too, not only by the last monitor round's.
    this.observe(t, beats);
    const id = t.record.id;
    // The freshest of the pushed beat and the liveness record (a restarted Nimbus has only the record at first).
    const workers = new Map<string, WorkerFacts & { timeMs: number }>();
    for (const b of beats) workers.set(slotKey(b.node, b.port), b);
    for (const [key, w] of this.deps.stats.workers(id)) if ((workers.get(key)?.timeMs ?? -Infinity) <= w.timeMs) workers.set(key, w);
    return {
      record: t.record,
      layout: t.layout,
      assignment: t.assignment,
      workerStates: this.workerStates(t),
      statsOf: (w) => this.deps.stats.executorStats(id, w, this.deps.clock.now()),
      workers,
      errors,
      nowMs: this.deps.clock.wallNow(),
      window,
    };
  }

  /** Liveness from the workers' records in cluster state (their stats come pushed: heartbeats.ts). */
  observe(t: Tracked, beats: readonly WorkerBeat[]): void {
    if (t.assignment) this.deps.liveness.observe(t.assignment, beats, this.deps.clock.now(), this.deps.clock.wallNow(), 'state');
  }

  private uptimeSecs(): number {
    return Math.max(0, Math.floor((this.deps.clock.now() - this.deps.self().startedAtMs) / 1000));
  }
}
