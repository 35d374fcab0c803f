/**
 * From cluster state to what each of this supervisor's slots should run, and from a slot's
 * target to the worker's start spec. Pure functions.
 */
import type { Assignment, TopologyRecord } from '../common/cluster-state/types';
import type { WorkerStartSpec } from '../common/protocol/ipc';
import type { ExecutorRange, SlotTarget } from './slot';

/** Per port: a target, null (nothing assigned), or 'unknown' (assigned, topology record not readable yet: leave the slot alone). */
export type PortTarget = SlotTarget | null | 'unknown';

export interface TargetsResult {
  targets: Map<number, PortTarget>;
  /** Assignment problems worth a warning (ports we do not have, two topologies on one port). */
  problems: string[];
}

/** Ids of the topologies with executors on `node`. */
export function topologiesOnNode(node: string, assignments: Iterable<Assignment>): string[] {
  const out: string[] = [];
  for (const a of assignments) if (a.executors.some((e) => e.node === node)) out.push(a.topologyId);
  return out.sort();
}

export function slotTargets(node: string, ports: readonly number[], assignments: ReadonlyMap<string, Assignment>, records: ReadonlyMap<string, TopologyRecord>): TargetsResult {
  const targets = new Map<number, PortTarget>(ports.map((p) => [p, null]));
  const problems: string[] = [];
  for (const topologyId of [...assignments.keys()].sort()) {
    const assignment = assignments.get(topologyId) as Assignment;
    const byPort = new Map<number, ExecutorRange[]>();
    for (const e of assignment.executors) {
      if (e.node !== node) continue;
      const list = byPort.get(e.port) ?? [];
      list.push({ start: e.start, end: e.end });
      byPort.set(e.port, list);
    }
    for (const [port, executors] of byPort) {
      if (!targets.has(port)) {
        problems.push(`topology ${topologyId} is assigned to port ${port}, which is not one of supervisor.slots.ports`);
        continue;
      }
      if (targets.get(port) !== null) {
        problems.push(`topology ${topologyId} is assigned to port ${port}, already taken by another topology; ignored`);
        continue;
      }
      const record = records.get(topologyId);
      targets.set(
        port,
        record
          ? { topologyId, bundleHash: record.bundleHash, executors: executors.sort((a, b) => a.start - b.start), assignment, status: record.status, record }
          : 'unknown',
      );
    }
  }
  return { targets, problems };
}

export interface SpecContext {
  supervisorId: string;
  host: string;
  port: number;
  bundlePath: string;
  logLevel: string;
  heartbeatMs: number;
  frameMaxBytes: number;
  stateDir: string;
}

export function buildStartSpec(target: SlotTarget, ctx: SpecContext): WorkerStartSpec {
  const record = target.record;
  return {
    topologyId: target.topologyId,
    supervisorId: ctx.supervisorId,
    host: ctx.host,
    port: ctx.port,
    bundlePath: ctx.bundlePath,
    bundleHash: target.bundleHash,
    definition: record.definition,
    config: record.config,
    componentExecutors: record.componentExecutors,
    componentTasks: record.componentTasks,
    linkSecret: record.linkSecret,
    assignment: target.assignment,
    active: target.status === 'ACTIVE',
    logLevel: ctx.logLevel,
    heartbeatMs: ctx.heartbeatMs,
    frameMaxBytes: ctx.frameMaxBytes,
    stateDir: ctx.stateDir,
  };
}
