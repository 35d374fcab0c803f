/**
 * One worker slot (one port) as a pure state machine, after Storm's `Slot.java`: `stepSlot(state,
 * event, nowMs, ctx)` returns the next state and the actions the supervisor must perform (launch,
 * send, kill, download, write a heartbeat, report an error). Nothing here touches a process, a
 * timer or the cluster state, so every transition is tested with plain objects and explicit times
 * (test/unit/supervisor/slot.test.ts).
 *
 *   EMPTY ──target──▶ WAITING_FOR_BUNDLE ──bundleReady──▶ STARTING ──ready──▶ RUNNING
 *     ▲                  │ bundleFailed                     │ exit / fatal /     │ exit / fatal /
 *     │                  ▼                                  │ start timeout      │ no heartbeat
 *     └──no target── BACKOFF ◀────── exit (failed) ──── KILLING ◀────────────────┘
 *                        └──backoff over──▶ WAITING_FOR_BUNDLE
 *
 * A worker's events carry the `launchId` they came from: events of an earlier incarnation (a late
 * exit, a last heartbeat) are ignored, so a restart can never be confused by its predecessor.
 */
import type { Assignment, ComponentError, TopologyRecord, TopologyStatus } from '../common/cluster-state/types';
import type { SupervisorToWorker, WorkerHeartbeat } from '../common/protocol/ipc';

/** The component name failures of the worker process itself are reported under. */
export { WORKER_ERRORS_COMPONENT as WORKER_COMPONENT } from '../common/protocol/rest';

export interface ExecutorRange {
  start: number;
  end: number;
}

/** What the assignment says this slot should run. */
export interface SlotTarget {
  topologyId: string;
  bundleHash: string;
  /** This slot's executors, sorted by start. */
  executors: ExecutorRange[];
  /** The whole assignment (peers), forwarded to the worker when it changes. */
  assignment: Assignment;
  status: TopologyStatus;
  /** What the worker's start spec is built from; the slot does not look inside. */
  record: TopologyRecord;
}

/** The process a slot started, as the slot remembers it. */
export interface WorkerRef {
  launchId: number;
  topologyId: string;
  bundleHash: string;
  executors: ExecutorRange[];
  /** The task counts the worker was started with (a rescale changes every task id after it). */
  tasksKey: string;
  /** The assignment `seq` and status the worker has been told about. */
  assignmentSeq: number;
  status: TopologyStatus;
  /** From the worker's 'ready' message. */
  pid: number | null;
  launchedMs: number;
}

interface SlotBase {
  port: number;
  /** What should run here (null: nothing). */
  target: SlotTarget | null;
  /** Consecutive failures of this slot's workers: drives the restart backoff. */
  failures: number;
  /** Launches so far; the latest is the current worker's `launchId`. */
  launches: number;
}

export type SlotState = SlotBase &
  (
    | { kind: 'EMPTY' }
    | { kind: 'WAITING_FOR_BUNDLE' }
    | { kind: 'STARTING'; worker: WorkerRef; deadlineMs: number }
    | { kind: 'RUNNING'; worker: WorkerRef; readyMs: number; lastBeatMs: number }
    | { kind: 'KILLING'; worker: WorkerRef; reason: string; forceAtMs: number; forced: boolean; failed: boolean }
    | { kind: 'BACKOFF'; untilMs: number }
  );

export type SlotKind = SlotState['kind'];

export type SlotEvent =
  | { type: 'assignment'; target: SlotTarget | null }
  | { type: 'bundleReady'; bundleHash: string; bundlePath: string }
  | { type: 'bundleFailed'; bundleHash: string; code: string; message: string }
  | { type: 'ready'; launchId: number; pid: number }
  | { type: 'heartbeat'; launchId: number; beat: WorkerHeartbeat }
  | { type: 'workerError'; launchId: number; component: string; error: ComponentError }
  | { type: 'fatal'; launchId: number; code: string; message: string }
  | { type: 'exit'; launchId: number; code: number | null; signal: string | null }
  /** The launcher threw: no process was started, no other event of this launch follows. */
  | { type: 'launchFailed'; launchId: number; code: string; message: string }
  | { type: 'tick' };

export type SlotAction =
  | { type: 'download'; bundleHash: string }
  | { type: 'launch'; launchId: number; target: SlotTarget; bundlePath: string }
  | { type: 'send'; launchId: number; message: SupervisorToWorker }
  | { type: 'kill'; launchId: number; signal: 'SIGTERM' | 'SIGKILL' }
  | { type: 'writeBeat'; topologyId: string; pid: number | null; beat: WorkerHeartbeat }
  /** A failure of the worker process (component `__worker`); host, port and time are the supervisor's. */
  | { type: 'reportError'; topologyId: string; code: string; message: string }
  /** An error the worker reported for one of its components. */
  | { type: 'forwardError'; topologyId: string; component: string; error: ComponentError };

export interface SlotTiming {
  /** STARTING → the worker must say 'ready' within this. */
  startTimeoutMs: number;
  /** RUNNING → a worker silent for this long is hung. */
  workerTimeoutMs: number;
  /** KILLING → SIGTERM, then SIGKILL after this. */
  shutdownSleepMs: number;
  /** First restart delay; doubles per consecutive failure up to the max. */
  restartBackoffBaseMs: number;
  restartBackoffMaxMs: number;
}

export interface SlotContext {
  timing: SlotTiming;
  /** Uniform in [0, 1): the jitter of restart delays (a seeded Random in the supervisor). */
  random: () => number;
}

export interface SlotStep {
  state: SlotState;
  actions: SlotAction[];
}

export function emptySlot(port: number): SlotState {
  return { kind: 'EMPTY', port, target: null, failures: 0, launches: 0 };
}

/**
 * Delay before the restart after `failures` consecutive failures: base × 2^(failures-1), capped,
 * with "equal jitter" (half fixed, half random) so slots failing together spread out.
 */
export function restartBackoffMs(failures: number, timing: SlotTiming, random: () => number): number {
  const exp = Math.min(30, Math.max(0, failures - 1));
  const raw = Math.min(timing.restartBackoffMaxMs, timing.restartBackoffBaseMs * 2 ** exp);
  return Math.round(raw / 2 + (raw / 2) * random());
}

/** When the slot next needs a 'tick' (null: only events move it). */
export function slotDeadline(state: SlotState, timing: SlotTiming): number | null {
  switch (state.kind) {
    case 'STARTING':
      return state.deadlineMs;
    case 'RUNNING':
      return state.lastBeatMs + timing.workerTimeoutMs;
    case 'KILLING':
      return state.forceAtMs;
    case 'BACKOFF':
      return state.untilMs;
    default:
      return null;
  }
}

/** The next state and the actions to perform, for one event at `nowMs`. */
export function stepSlot(state: SlotState, event: SlotEvent, nowMs: number, ctx: SlotContext): SlotStep {
  const out: SlotAction[] = [];
  const next = dispatch(state, event, nowMs, ctx, out);
  return { state: next, actions: out };
}

function dispatch(s: SlotState, e: SlotEvent, now: number, ctx: SlotContext, out: SlotAction[]): SlotState {
  switch (e.type) {
    case 'assignment':
      return onTarget(s, e.target, now, ctx, out);
    case 'bundleReady':
      return onBundleReady(s, e.bundleHash, e.bundlePath, now, ctx, out);
    case 'bundleFailed':
      return onBundleFailed(s, e, now, ctx, out);
    case 'tick':
      return onTick(s, now, ctx, out);
    default:
      return onWorkerEvent(s, e, now, ctx, out);
  }
}

// ---- the assignment ----

function onTarget(s: SlotState, target: SlotTarget | null, now: number, ctx: SlotContext, out: SlotAction[]): SlotState {
  // A different topology (or none) starts the failure count afresh.
  const failures = target && s.target && target.topologyId === s.target.topologyId ? s.failures : 0;
  const base: SlotState = { ...s, target, failures };
  switch (base.kind) {
    case 'EMPTY':
      return target ? toWaiting(base, target, out) : base;
    case 'WAITING_FOR_BUNDLE':
      if (!target) return toEmpty(base);
      if (!s.target || s.target.bundleHash !== target.bundleHash) out.push({ type: 'download', bundleHash: target.bundleHash });
      return base;
    case 'BACKOFF':
      if (!target) return toEmpty(base);
      return failures === 0 ? toWaiting(base, target, out) : base;
    case 'STARTING':
    case 'RUNNING':
      if (!target) return toKilling(base, base.worker, 'no longer assigned', false, now, ctx, out);
      if (!sameWorker(base.worker, target)) return toKilling(base, base.worker, 'assignment changed', false, now, ctx, out);
      // A starting worker may not be listening yet: it is told on 'ready'.
      return base.kind === 'RUNNING' ? { ...base, worker: forwardChanges(base.worker, target, out) } : base;
    case 'KILLING':
      return base; // decided when the process is gone
  }
}

/** Same process can keep running: same topology, bundle, executors and task counts. */
function sameWorker(worker: WorkerRef, target: SlotTarget): boolean {
  return worker.topologyId === target.topologyId && worker.bundleHash === target.bundleHash && sameRanges(worker.executors, target.executors) && worker.tasksKey === tasksKey(target);
}

/** The rescaled task counts of a target's topology, as a comparable string. */
function tasksKey(target: SlotTarget): string {
  const tasks = target.record.componentTasks;
  return tasks === undefined ? '' : JSON.stringify(Object.entries(tasks).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function sameRanges(a: ExecutorRange[], b: ExecutorRange[]): boolean {
  return a.length === b.length && a.every((r, i) => r.start === b[i].start && r.end === b[i].end);
}

/** Other workers moved or the status changed: tell the running worker, which keeps going. */
function forwardChanges(worker: WorkerRef, target: SlotTarget, out: SlotAction[]): WorkerRef {
  let next = worker;
  if (target.assignment.seq !== worker.assignmentSeq) {
    out.push({ type: 'send', launchId: worker.launchId, message: { type: 'assignment', assignment: target.assignment } });
    next = { ...next, assignmentSeq: target.assignment.seq };
  }
  if (target.status !== worker.status) {
    out.push({ type: 'send', launchId: worker.launchId, message: { type: 'status', status: target.status } });
    next = { ...next, status: target.status };
  }
  return next;
}

// ---- the bundle ----

function onBundleReady(s: SlotState, hash: string, bundlePath: string, now: number, ctx: SlotContext, out: SlotAction[]): SlotState {
  if (s.kind !== 'WAITING_FOR_BUNDLE' || !s.target || s.target.bundleHash !== hash) return s;
  const target = s.target;
  const launchId = s.launches + 1;
  const worker: WorkerRef = {
    launchId,
    topologyId: target.topologyId,
    bundleHash: target.bundleHash,
    executors: target.executors,
    tasksKey: tasksKey(target),
    assignmentSeq: target.assignment.seq,
    status: target.status,
    pid: null,
    launchedMs: now,
  };
  out.push({ type: 'launch', launchId, target, bundlePath });
  return { kind: 'STARTING', port: s.port, target, failures: s.failures, launches: launchId, worker, deadlineMs: now + ctx.timing.startTimeoutMs };
}

function onBundleFailed(s: SlotState, e: { bundleHash: string; code: string; message: string }, now: number, ctx: SlotContext, out: SlotAction[]): SlotState {
  if (s.kind !== 'WAITING_FOR_BUNDLE' || !s.target || s.target.bundleHash !== e.bundleHash) return s;
  out.push({ type: 'reportError', topologyId: s.target.topologyId, code: e.code, message: `bundle ${e.bundleHash}: ${e.message}` });
  return toBackoff({ ...s, failures: s.failures + 1 }, now, ctx);
}

// ---- time ----

function onTick(s: SlotState, now: number, ctx: SlotContext, out: SlotAction[]): SlotState {
  const timing = ctx.timing;
  switch (s.kind) {
    case 'STARTING':
      if (now < s.deadlineMs) return s;
      out.push(failure(s.worker, 'ERR_WORKER_START_FAILED', `worker did not report ready within ${secs(timing.startTimeoutMs)}`));
      return toKilling({ ...s, failures: s.failures + 1 }, s.worker, 'start timeout', true, now, ctx, out);
    case 'RUNNING':
      if (now - s.lastBeatMs < timing.workerTimeoutMs) return s;
      out.push(failure(s.worker, 'ERR_WORKER_HUNG', `no heartbeat for ${secs(now - s.lastBeatMs)} (timeout ${secs(timing.workerTimeoutMs)})`));
      return toKilling({ ...s, failures: s.failures + 1 }, s.worker, 'hung', true, now, ctx, out);
    case 'KILLING':
      if (now < s.forceAtMs) return s;
      // Repeated every shutdown sleep until the exit is seen: harmless, and no slot waits forever
      // on a lost signal.
      out.push({ type: 'kill', launchId: s.worker.launchId, signal: 'SIGKILL' });
      return { ...s, forced: true, forceAtMs: now + timing.shutdownSleepMs };
    case 'BACKOFF':
      if (now < s.untilMs) return s;
      return s.target ? toWaiting(s, s.target, out) : toEmpty(s);
    default:
      return s;
  }
}

// ---- the worker's own events ----

type WorkerEvent = Extract<SlotEvent, { launchId: number }>;

function onWorkerEvent(s: SlotState, e: WorkerEvent, now: number, ctx: SlotContext, out: SlotAction[]): SlotState {
  if (s.kind !== 'STARTING' && s.kind !== 'RUNNING' && s.kind !== 'KILLING') return s;
  if (e.launchId !== s.worker.launchId) return s; // an earlier incarnation
  const worker = s.worker;
  switch (e.type) {
    case 'ready': {
      if (s.kind !== 'STARTING') return s;
      const ready = s.target ? forwardChanges({ ...worker, pid: e.pid }, s.target, out) : { ...worker, pid: e.pid };
      return { kind: 'RUNNING', port: s.port, target: s.target, failures: s.failures, launches: s.launches, worker: ready, readyMs: now, lastBeatMs: now };
    }
    case 'heartbeat':
      if (s.kind === 'KILLING') return s;
      out.push({ type: 'writeBeat', topologyId: worker.topologyId, pid: worker.pid, beat: e.beat });
      if (s.kind !== 'RUNNING') return s;
      // A worker that has stayed up as long as the longest backoff has recovered.
      return { ...s, lastBeatMs: now, failures: now - s.readyMs >= ctx.timing.restartBackoffMaxMs ? 0 : s.failures };
    case 'workerError':
      out.push({ type: 'forwardError', topologyId: worker.topologyId, component: e.component, error: e.error });
      return s;
    case 'fatal':
      if (s.kind === 'KILLING') return s;
      out.push(failure(worker, s.kind === 'STARTING' ? 'ERR_WORKER_START_FAILED' : 'ERR_WORKER_CRASHED', `worker reported ${e.code}: ${e.message}`));
      return toKilling({ ...s, failures: s.failures + 1 }, worker, 'fatal', true, now, ctx, out);
    case 'exit':
      return onExit(s, e, now, ctx, out);
    case 'launchFailed':
      if (s.kind !== 'STARTING') return s;
      out.push(failure(worker, 'ERR_WORKER_START_FAILED', `could not start the worker process: ${e.code}: ${e.message}`));
      return toBackoff({ ...s, failures: s.failures + 1 }, now, ctx);
  }
}

function onExit(s: SlotState & { kind: 'STARTING' | 'RUNNING' | 'KILLING' }, e: { code: number | null; signal: string | null }, now: number, ctx: SlotContext, out: SlotAction[]): SlotState {
  let failed = s.kind === 'KILLING' ? s.failed : true;
  let failures = s.failures;
  if (s.kind === 'STARTING') {
    out.push(failure(s.worker, 'ERR_WORKER_START_FAILED', `worker ${describeExit(e.code, e.signal)} before reporting ready`));
    failures += 1;
  } else if (s.kind === 'RUNNING') {
    out.push(failure(s.worker, 'ERR_WORKER_CRASHED', `worker ${describeExit(e.code, e.signal)}`));
    failures += 1;
  }
  const base: SlotState = { kind: 'EMPTY', port: s.port, target: s.target, failures, launches: s.launches };
  if (!s.target) return toEmpty(base);
  failed = failed && failures > 0;
  return failed ? toBackoff(base, now, ctx) : toWaiting(base, s.target, out);
}

// ---- transitions ----

function toEmpty(s: SlotState): SlotState {
  return { kind: 'EMPTY', port: s.port, target: null, failures: 0, launches: s.launches };
}

function toWaiting(s: SlotState, target: SlotTarget, out: SlotAction[]): SlotState {
  out.push({ type: 'download', bundleHash: target.bundleHash });
  return { kind: 'WAITING_FOR_BUNDLE', port: s.port, target, failures: s.failures, launches: s.launches };
}

function toBackoff(s: SlotState, now: number, ctx: SlotContext): SlotState {
  const untilMs = now + restartBackoffMs(s.failures, ctx.timing, ctx.random);
  return { kind: 'BACKOFF', port: s.port, target: s.target, failures: s.failures, launches: s.launches, untilMs };
}

/** Graceful first: the shutdown message and SIGTERM now, SIGKILL after the shutdown sleep. */
function toKilling(s: SlotState, worker: WorkerRef, reason: string, failed: boolean, now: number, ctx: SlotContext, out: SlotAction[]): SlotState {
  out.push({ type: 'send', launchId: worker.launchId, message: { type: 'shutdown' } });
  out.push({ type: 'kill', launchId: worker.launchId, signal: 'SIGTERM' });
  return {
    kind: 'KILLING',
    port: s.port,
    target: s.target,
    failures: s.failures,
    launches: s.launches,
    worker,
    reason,
    forceAtMs: now + ctx.timing.shutdownSleepMs,
    forced: false,
    failed,
  };
}

function failure(worker: WorkerRef, code: string, message: string): SlotAction {
  return { type: 'reportError', topologyId: worker.topologyId, code, message };
}

export function describeExit(code: number | null, signal: string | null): string {
  if (signal) return `was killed by ${signal}`;
  return `exited with code ${code === null ? 'unknown' : code}`;
}

function secs(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))} s`;
}
