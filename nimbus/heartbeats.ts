/**
 * Worker heartbeats from supervisors (common/protocol/heartbeats.ts): checked, then fed to worker
 * liveness and the stats store. A report is taken only when its signature verifies under its
 * topology's link secret and it comes from a worker of the sending supervisor; executors must be
 * task ranges of one component of the topology. Anything else is counted as rejected and dropped:
 * a bad report never fails the batch, and nothing a supervisor sends can crash Nimbus.
 */
import type { Clock } from '../common/clock';
import type { ExecutorStats } from '../common/cluster-state/types';
import { squallError } from '../common/errors';
import { verifyReport, type HeartbeatReceipt, type ProcessFacts, type WorkerStatsReport } from '../common/protocol/heartbeats';
import type { WorkerLiveness } from './liveness';
import type { StatsStore } from './stats/store';
import type { TopologyTable, Tracked } from './topology-table';

/** Reports in one batch: a supervisor sends one per slot. */
export const REPORTS_PER_BATCH_MAX = 1024;

export interface HeartbeatDeps {
  table: TopologyTable;
  liveness: WorkerLiveness;
  stats: StatsStore;
  clock: Clock;
  /** Latest process figures of each supervisor (for /metrics). */
  supervisorProcess: Map<string, ProcessFacts>;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isInt = (v: unknown): v is number => Number.isInteger(v);
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Takes a batch from supervisor `supervisorId` (the route's id); ERR_BODY_INVALID if it is not a batch at all. */
export function receiveHeartbeats(deps: HeartbeatDeps, supervisorId: string, batch: unknown): HeartbeatReceipt {
  if (!isObject(batch) || batch.v !== 1 || batch.supervisorId !== supervisorId || !Array.isArray(batch.reports)) {
    throw squallError('ERR_BODY_INVALID', 'a heartbeat batch is {v: 1, supervisorId, reports: [...]} with the supervisor id of the path');
  }
  if (batch.reports.length > REPORTS_PER_BATCH_MAX) throw squallError('ERR_BODY_INVALID', `at most ${REPORTS_PER_BATCH_MAX} reports per batch`);
  const proc = batch.process;
  if (isObject(proc) && isNum(proc.rssBytes) && isNum(proc.cpuSecs) && isNum(proc.uptimeSecs)) {
    deps.supervisorProcess.set(supervisorId, { rssBytes: proc.rssBytes, cpuSecs: proc.cpuSecs, uptimeSecs: proc.uptimeSecs });
  }
  const receipt: HeartbeatReceipt = { accepted: 0, rejected: 0 };
  const now = deps.clock.now();
  const wallNow = deps.clock.wallNow();
  for (const signed of batch.reports) {
    const taken = isObject(signed) && typeof signed.topologyId === 'string' ? take(deps, supervisorId, signed as never, now, wallNow) : false;
    if (taken) receipt.accepted++;
    else receipt.rejected++;
  }
  return receipt;
}

function take(deps: HeartbeatDeps, supervisorId: string, signed: { topologyId: string; body: string; sig: string }, now: number, wallNow: number): boolean {
  const t = deps.table.get(signed.topologyId);
  if (!t || !verifyReport(signed, t.record.linkSecret)) return false;
  let report: unknown;
  try {
    report = JSON.parse(signed.body);
  } catch {
    return false;
  }
  if (!isReport(report) || report.topologyId !== t.record.id || report.node !== supervisorId) return false;
  if (t.assignment) deps.liveness.observe(t.assignment, [report], now, wallNow, 'push');
  deps.stats.ingest(report, now, (s) => ownExecutor(t, s));
  return true;
}

function isReport(r: unknown): r is WorkerStatsReport {
  return (
    isObject(r) &&
    typeof r.topologyId === 'string' &&
    typeof r.node === 'string' &&
    isInt(r.port) &&
    isInt(r.pid) &&
    typeof r.incarnation === 'string' &&
    isNum(r.timeMs) &&
    isNum(r.uptimeSecs) &&
    isNum(r.rssBytes) &&
    Array.isArray(r.executors) &&
    r.executors.every(isObject)
  );
}

/** A task range of one component of this topology, with the counters' shapes a report must have. */
function ownExecutor(t: Tracked, s: ExecutorStats): boolean {
  const tasks = t.layout.taskComponent;
  if (!isInt(s.start) || !isInt(s.end) || s.start < 1 || s.end < s.start || s.end >= tasks.length) return false;
  if (tasks[s.start] !== s.component || tasks[s.end] !== s.component) return false;
  return ['emitted', 'transferred', 'executed', 'acked', 'failed'].every((k) => isObject((s as unknown as Record<string, unknown>)[k]));
}
