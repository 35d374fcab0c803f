/**
 * Runs one slot's pure state machine against the world: feeds it events (from the worker
 * process, the bundle cache, its deadline timer) and performs the actions it returns. Events that
 * arrive while actions are being performed (an in-process launcher may answer at once) are queued
 * and handled in order after them.
 */
import type { Clock, TimerHandle } from '../common/clock';
import type { ComponentError } from '../common/cluster-state/types';
import { describeError, errorCode } from '../common/errors';
import type { Logger } from '../common/logging';
import type { WorkerHeartbeat, WorkerToSupervisor } from '../common/protocol/ipc';
import type { WorkerHandle } from './launcher';
import { emptySlot, slotDeadline, stepSlot, type SlotAction, type SlotContext, type SlotEvent, type SlotState, type SlotTarget } from './slot';

/** What a slot's actions do: implemented by the supervisor. */
export interface SlotEffects {
  download(bundleHash: string): Promise<string>;
  /** Starts a worker whose events come back through `events`; may throw (no process then). */
  launch(port: number, target: SlotTarget, bundlePath: string, events: { onMessage(msg: WorkerToSupervisor): void; onExit(code: number | null, signal: string | null): void }): WorkerHandle;
  writeBeat(port: number, topologyId: string, pid: number | null, beat: WorkerHeartbeat): void;
  reportError(port: number, topologyId: string, code: string, message: string): void;
  forwardError(port: number, topologyId: string, component: string, error: ComponentError): void;
  /** After every event that changed the slot's kind. */
  changed(port: number, from: SlotState, to: SlotState): void;
}

/** Events handled while others wait: a runaway worker cannot make this grow without bound. */
const PENDING_EVENTS_MAX = 10_000;

export class SlotDriver {
  private current: SlotState;
  /** Live processes by launch id (at most one, except for an instant around a relaunch). */
  private readonly handles = new Map<number, WorkerHandle>();
  private timer: TimerHandle | null = null;
  private timerDueMs: number | null = null;
  private pending: SlotEvent[] = [];
  private stepping = false;
  private emptyWaiters: Array<() => void> = [];
  private closed = false;

  constructor(
    readonly port: number,
    private readonly ctx: SlotContext,
    private readonly clock: Clock,
    private readonly effects: SlotEffects,
    private readonly logger: Logger,
  ) {
    this.current = emptySlot(port);
  }

  get state(): SlotState {
    return this.current;
  }

  /** PIDs of the processes this slot has started and not yet seen exit. */
  livePids(): number[] {
    return [...this.handles.values()].map((h) => h.pid).filter((p): p is number => p !== null);
  }

  dispatch(event: SlotEvent): void {
    if (this.pending.length >= PENDING_EVENTS_MAX) {
      this.logger.warn({ type: event.type }, 'slot event queue full; dropping an event');
      return;
    }
    this.pending.push(event);
    if (this.stepping) return;
    this.stepping = true;
    try {
      for (let next = this.pending.shift(); next; next = this.pending.shift()) this.handle(next);
    } finally {
      this.stepping = false;
    }
    this.armTimer();
  }

  /** Resolves once the slot is EMPTY (no process, nothing to start). */
  whenEmpty(): Promise<void> {
    if (this.current.kind === 'EMPTY') return Promise.resolve();
    return new Promise((resolve) => this.emptyWaiters.push(resolve));
  }

  /** Clears the deadline timer; later events still update the state but start nothing new. */
  close(): void {
    this.closed = true;
    if (this.timer) this.clock.clear(this.timer);
    this.timer = null;
    this.timerDueMs = null;
  }

  private handle(event: SlotEvent): void {
    const before = this.current;
    const { state, actions } = stepSlot(before, event, this.clock.now(), this.ctx);
    this.current = state;
    for (const action of actions) {
      try {
        this.perform(action);
      } catch (err) {
        this.logger.error({ err, action: action.type }, 'slot action failed');
      }
    }
    if (state.kind !== before.kind) {
      this.effects.changed(this.port, before, state);
      if (state.kind === 'EMPTY') {
        const waiters = this.emptyWaiters;
        this.emptyWaiters = [];
        for (const w of waiters) w();
      }
    }
  }

  private perform(action: SlotAction): void {
    switch (action.type) {
      case 'download':
        if (!this.closed) this.download(action.bundleHash);
        return;
      case 'launch':
        this.launch(action.launchId, action.target, action.bundlePath);
        return;
      case 'send':
        this.handles.get(action.launchId)?.send(action.message);
        return;
      case 'kill':
        this.handles.get(action.launchId)?.kill(action.signal);
        return;
      case 'writeBeat':
        this.effects.writeBeat(this.port, action.topologyId, action.pid, action.beat);
        return;
      case 'reportError':
        this.effects.reportError(this.port, action.topologyId, action.code, action.message);
        return;
      case 'forwardError':
        this.effects.forwardError(this.port, action.topologyId, action.component, action.error);
        return;
    }
  }

  private download(bundleHash: string): void {
    this.effects.download(bundleHash).then(
      (bundlePath) => this.dispatch({ type: 'bundleReady', bundleHash, bundlePath }),
      (err: unknown) => this.dispatch({ type: 'bundleFailed', bundleHash, code: errorCode(err) ?? 'ERR_INTERNAL', message: describeError(err) }),
    );
  }

  private launch(launchId: number, target: SlotTarget, bundlePath: string): void {
    if (this.closed) {
      this.pending.push({ type: 'launchFailed', launchId, code: 'ERR_CLOSED', message: 'the supervisor is closing' });
      return;
    }
    let exited = false;
    try {
      const handle = this.effects.launch(this.port, target, bundlePath, {
        onMessage: (msg) => {
          if (!exited) this.dispatch(workerEvent(launchId, msg));
        },
        onExit: (code, signal) => {
          if (exited) return;
          exited = true;
          this.handles.delete(launchId);
          this.dispatch({ type: 'exit', launchId, code, signal });
        },
      });
      if (!exited) this.handles.set(launchId, handle);
    } catch (err) {
      this.pending.push({ type: 'launchFailed', launchId, code: errorCode(err) ?? 'ERR_WORKER_START_FAILED', message: describeError(err) });
    }
  }

  private armTimer(): void {
    const due = this.closed ? null : slotDeadline(this.current, this.ctx.timing);
    if (due === this.timerDueMs) return;
    if (this.timer) this.clock.clear(this.timer);
    this.timer = null;
    this.timerDueMs = due;
    if (due === null) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = null;
      this.timerDueMs = null;
      this.dispatch({ type: 'tick' });
    }, due - this.clock.now());
  }
}

function workerEvent(launchId: number, msg: WorkerToSupervisor): SlotEvent {
  switch (msg.type) {
    case 'ready':
      return { type: 'ready', launchId, pid: msg.pid };
    case 'heartbeat':
      return { type: 'heartbeat', launchId, beat: msg.beat };
    case 'error':
      return { type: 'workerError', launchId, component: msg.component, error: msg.error };
    case 'fatal':
      return { type: 'fatal', launchId, code: msg.code, message: msg.message };
  }
}
