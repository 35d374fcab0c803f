/**
 * The chaos run's figures: gathered from the ledger (bench/chaos/ledger.ts), the cluster's process
 * scan and the machine, and printed as one table (docs/reliability.md shows one).
 */
import * as os from 'node:os';
import type { ChaosCluster } from './cluster';
import type { Recovery, SpoutLedger } from './ledger';

export interface Fault {
  kind: 'worker' | 'supervisor';
  target: string;
  atMs: number;
}

type Described = Recovery & { kind: string; target: string; atSecs: number };

export interface Figures {
  date: string;
  machine: string;
  loadAverage: string;
  settings: Record<string, unknown>;
  faults: { total: number; workersKilled: number; supervisorsKilled: number };
  messages: { emitted: number; emits: number; acked: number; replayed: number; failCalls: number; duplicateAcks: number; lost: number };
  restarts: { workerProcessesStarted: number; supervisorRestarts: number; spoutOpens: number };
  recoveryMs: {
    /** Over every fault; a fault soon after another waits for the other's replays too. */
    worst: Described | null;
    /** Over faults whose recovery no other fault overlapped. */
    worstIsolated: Described | null;
    isolatedFaults: number;
    medianWorkerKill: number;
    worstWorkerKill: number;
    medianSupervisorKill: number;
    worstSupervisorKill: number;
    worstStall: number;
  };
  drainMs: number;
  peakRss: Array<{ role: string; processes: number; maxBytes: number; medianBytes: number }>;
  throughput: string;
  lostIds: number[];
  drained: boolean;
  orphans: number[];
}

export const mb = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MB`;

export interface RunRecord {
  t0: number;
  stopMs: number;
  drainMs: number;
  drained: boolean;
  initialWorkers: number;
  faults: readonly Fault[];
  settings: Record<string, unknown>;
}

/** Everything the run measured, once the input has drained (or not). */
export function collectFigures(run: RunRecord, ledger: SpoutLedger, cluster: ChaosCluster, spoutTasks: number): Omit<Figures, 'orphans'> {
  const lostIds = [...new Set([...ledger.unacked(), ...ledger.gaps(spoutTasks)])].sort((a, b) => a - b);
  const { faults } = run;
  return {
    date: new Date(run.t0).toISOString(),
    machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, ${mb(os.totalmem())} RAM, ${os.type()} ${os.release()}, Node ${process.version}`,
    loadAverage: os.loadavg().map((l) => l.toFixed(2)).join(' '),
    settings: run.settings,
    faults: { total: faults.length, workersKilled: faults.filter((f) => f.kind === 'worker').length, supervisorsKilled: faults.filter((f) => f.kind === 'supervisor').length },
    messages: { emitted: ledger.emitted, emits: ledger.emits, acked: ledger.acked, replayed: ledger.replays, failCalls: ledger.fails, duplicateAcks: ledger.duplicateAcks, lost: lostIds.length },
    restarts: { workerProcessesStarted: cluster.workersSeen.size - run.initialWorkers, supervisorRestarts: cluster.supervisorRestarts, spoutOpens: ledger.opens },
    recoveryMs: recoveryFigures(faults, ledger, run.t0),
    drainMs: run.drainMs,
    peakRss: cluster.rss.byRole(),
    throughput: `${Math.round(ledger.acked / ((run.stopMs - run.t0) / 1000))} messages/s acked on average`,
    lostIds,
    drained: run.drained,
  };
}

/**
 * Recovery from each fault (bench/chaos/ledger.ts): until every message emitted before it was
 * acked. A fault is isolated when the one before it had recovered by then and the next one came
 * after it recovered.
 */
function recoveryFigures(faults: readonly Fault[], ledger: SpoutLedger, t0: number): Figures['recoveryMs'] {
  const all = faults.map((fault) => ({ fault, r: ledger.recovery(fault.atMs) })).filter((x): x is { fault: Fault; r: Recovery } => x.r !== null);
  const isolated = all.filter((x, i) => {
    const prev = all[i - 1];
    const next = all[i + 1];
    return (!prev || prev.fault.atMs + prev.r.recoveredMs < x.fault.atMs) && (!next || x.fault.atMs + x.r.recoveredMs < next.fault.atMs);
  });
  const worstOf = (xs: typeof all): Described | null => {
    const w = xs.reduce<(typeof all)[number] | null>((acc, x) => (!acc || x.r.recoveredMs > acc.r.recoveredMs ? x : acc), null);
    return w ? { ...w.r, kind: w.fault.kind, target: w.fault.target, atSecs: Math.round((w.fault.atMs - t0) / 100) / 10 } : null;
  };
  const ms = (kind: Fault['kind']): number[] => all.filter((x) => x.fault.kind === kind).map((x) => x.r.recoveredMs);
  const median = (xs: number[]): number => (xs.length ? [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)] : 0);
  return {
    worst: worstOf(all),
    worstIsolated: worstOf(isolated),
    isolatedFaults: isolated.length,
    medianWorkerKill: median(ms('worker')),
    worstWorkerKill: Math.max(0, ...ms('worker')),
    medianSupervisorKill: median(ms('supervisor')),
    worstSupervisorKill: Math.max(0, ...ms('supervisor')),
    worstStall: Math.max(0, ...all.map((x) => x.r.stallMs)),
  };
}

function describeWorst(w: Described | null): string {
  return w ? `${w.recoveredMs} ms: every message emitted before the ${w.kind} kill at ${w.atSecs} s (${w.target}) acked ${w.recoveredMs} ms after it (${w.inFlight} in flight; longest time without an ack ${w.stallMs} ms)` : 'n/a';
}

/** The figures as one table on stdout. */
export function printFigures(f: Figures): void {
  const worst = f.recoveryMs.worst;
  const lines = [
    '',
    `date                 ${f.date}`,
    `run                  ${f.settings.summary as string}`,
    `machine              ${f.machine}; load average at the end ${f.loadAverage}`,
    `faults               ${f.faults.total} (${f.faults.workersKilled} workers, ${f.faults.supervisorsKilled} supervisors killed with kill -9)`,
    `messages emitted     ${f.messages.emitted} (${f.messages.emits} emits)`,
    `acked                ${f.messages.acked} (${f.messages.duplicateAcks} duplicate acks)`,
    `replayed             ${f.messages.replayed} (${f.messages.failCalls} fail() calls)`,
    `lost                 ${f.messages.lost}${f.lostIds.length ? ` (first: ${f.lostIds.slice(0, 10).join(', ')})` : ''}${f.drained ? '' : ' — the drain timed out'}`,
    `restarts             ${f.restarts.workerProcessesStarted} worker processes started after the first ones, ${f.restarts.supervisorRestarts} supervisors started again, spout tasks opened ${f.restarts.spoutOpens} times`,
    `worst recovery       ${describeWorst(worst)}`,
    `  of isolated faults ${describeWorst(f.recoveryMs.worstIsolated)} (${f.recoveryMs.isolatedFaults} faults had no other fault overlapping their recovery)`,
    `recovery by kind     worker kill: median ${f.recoveryMs.medianWorkerKill} ms, worst ${f.recoveryMs.worstWorkerKill} ms; supervisor kill: median ${f.recoveryMs.medianSupervisorKill} ms, worst ${f.recoveryMs.worstSupervisorKill} ms`,
    `longest stall        ${f.recoveryMs.worstStall} ms without any ack`,
    `drain                ${f.drainMs} ms from stopping the input to the last ack`,
    `throughput           ${f.throughput}`,
    ...f.peakRss.map((r) => `peak RSS ${r.role.padEnd(11)} ${mb(r.maxBytes)} (median ${mb(r.medianBytes)} over ${r.processes} process${r.processes === 1 ? '' : 'es'})`),
    `orphan processes     ${f.orphans.length ? f.orphans.join(', ') : 'none'}`,
    '',
  ];
  process.stdout.write(lines.join('\n'));
}

