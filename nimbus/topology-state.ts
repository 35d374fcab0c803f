/**
 * Storm's topology state machine (`TopologyStateTransition` in Nimbus) as a pure step function:
 * a topology's status fields and an event in, the next fields and what Nimbus must do out. Nimbus
 * persists the result, arms a timer for `pending.dueMs` and performs the effect.
 *
 *   status       activate    deactivate  kill(w)        rebalance(w, ...)        timeout (pending due)
 *   ACTIVE       ACTIVE      INACTIVE    KILLED, kill@w  REBALANCING, resume A    -
 *   INACTIVE     ACTIVE      INACTIVE    KILLED, kill@w  REBALANCING, resume I    -
 *   REBALANCING  invalid     invalid     KILLED, kill@w  invalid                  apply, back to resume status, reschedule
 *   KILLED       invalid     invalid     earliest kill   invalid                  remove
 *
 * KILLED and REBALANCING deactivate the spouts at once (workers read the status); the wait lets
 * in-flight tuples finish. The default wait is `topology.message.timeout.secs`, as in Storm.
 * Times (`nowMs`, `dueMs`) are wall-clock milliseconds of Nimbus, so a pending action survives a
 * Nimbus restart.
 */
import type { PendingAction, TopologyRecord, TopologyStatus } from '../common/cluster-state/types';
import { problemsError, squallError } from '../common/errors';

/** The fields of a TopologyRecord the state machine reads and writes. */
export type TopologyState = Pick<TopologyRecord, 'status' | 'pending' | 'numWorkers' | 'componentExecutors' | 'componentTasks'>;

export interface RebalanceOptions {
  numWorkers?: number;
  /** Component → executors. */
  executors?: Record<string, number>;
}

export type TopologyEvent =
  | { type: 'activate' }
  | { type: 'deactivate' }
  | { type: 'kill'; waitSecs?: number }
  | ({ type: 'rebalance'; waitSecs?: number } & RebalanceOptions)
  | { type: 'timeout' };

export interface TransitionContext {
  /** Nimbus's wall-clock time (ms). */
  nowMs: number;
  /** The topology's `topology.message.timeout.secs`: the default wait. */
  messageTimeoutSecs: number;
  /** Tasks per component (including `__acker` when acking is on): the executor cap. */
  componentTasks: Readonly<Record<string, number>>;
  /**
   * Keyed stateful bolts → the most tasks they can have (`topology.state.max.key.groups`): a
   * rebalance sets their tasks with their executors, so their state moves by key groups.
   */
  rescalable?: Readonly<Record<string, number>>;
}

/** What Nimbus does after persisting the new state. */
export type TransitionEffect = 'none' | 'reschedule' | 'remove';

export interface Transition {
  state: TopologyState;
  effect: TransitionEffect;
  /** False when the event changed nothing (Nimbus then writes nothing). */
  changed: boolean;
}

/** Longest kill/rebalance wait accepted (a year): keeps `dueMs` far from float trouble. */
export const WAIT_SECS_MAX = 365 * 24 * 3600;

export function step(state: TopologyState, event: TopologyEvent, ctx: TransitionContext): Transition {
  switch (event.type) {
    case 'activate':
    case 'deactivate':
      return setActive(state, event.type === 'activate');
    case 'kill':
      return kill(state, event.waitSecs, ctx);
    case 'rebalance':
      return rebalance(state, event, ctx);
    case 'timeout':
      return timeout(state, ctx);
  }
}

function unchanged(state: TopologyState): Transition {
  return { state, effect: 'none', changed: false };
}

function invalid(state: TopologyState, action: string): never {
  const why = state.status === 'KILLED' ? 'it is being killed' : state.status === 'REBALANCING' ? 'it is being rebalanced' : `it is ${state.status}`;
  throw squallError('ERR_INVALID_TRANSITION', `cannot ${action} the topology: ${why}`);
}

function setActive(state: TopologyState, active: boolean): Transition {
  if (state.status === 'KILLED' || state.status === 'REBALANCING') invalid(state, active ? 'activate' : 'deactivate');
  const status: TopologyStatus = active ? 'ACTIVE' : 'INACTIVE';
  if (state.status === status) return unchanged(state);
  return { state: { ...state, status }, effect: 'none', changed: true };
}

function kill(state: TopologyState, waitSecs: number | undefined, ctx: TransitionContext): Transition {
  const dueMs = ctx.nowMs + waitMs(waitSecs, ctx);
  if (state.status === 'KILLED' && state.pending?.action === 'kill' && state.pending.dueMs <= dueMs) return unchanged(state);
  const pending: PendingAction = { action: 'kill', dueMs };
  return { state: { ...state, status: 'KILLED', pending }, effect: 'none', changed: true };
}

function rebalance(state: TopologyState, event: { waitSecs?: number } & RebalanceOptions, ctx: TransitionContext): Transition {
  if (state.status !== 'ACTIVE' && state.status !== 'INACTIVE') invalid(state, 'rebalance');
  const wait = waitMs(event.waitSecs, ctx);
  checkRebalanceOptions(event, ctx.componentTasks, ctx.rescalable);
  const pending: PendingAction = { action: 'rebalance', dueMs: ctx.nowMs + wait, resumeStatus: state.status };
  if (event.numWorkers !== undefined) pending.numWorkers = event.numWorkers;
  if (event.executors !== undefined) pending.componentExecutors = { ...event.executors };
  return { state: { ...state, status: 'REBALANCING', pending }, effect: 'none', changed: true };
}

function timeout(state: TopologyState, ctx: TransitionContext): Transition {
  const pending = state.pending;
  if (!pending || pending.dueMs > ctx.nowMs) return unchanged(state);
  if (pending.action === 'kill') return { state, effect: 'remove', changed: false };
  const next: TopologyState = {
    status: pending.resumeStatus ?? 'ACTIVE',
    pending: null,
    numWorkers: pending.numWorkers ?? state.numWorkers,
    componentExecutors: { ...state.componentExecutors, ...(pending.componentExecutors ?? {}) },
  };
  // a rescaled keyed stateful bolt: as many tasks as executors (its state moves by key groups)
  const tasks: Record<string, number> = { ...(state.componentTasks ?? {}) };
  for (const [id, n] of Object.entries(pending.componentExecutors ?? {})) if (ctx.rescalable?.[id] !== undefined) tasks[id] = n;
  if (Object.keys(tasks).length > 0) next.componentTasks = tasks;
  return { state: next, effect: 'reschedule', changed: true };
}

function waitMs(waitSecs: number | undefined, ctx: TransitionContext): number {
  if (waitSecs === undefined) return ctx.messageTimeoutSecs * 1000;
  if (typeof waitSecs !== 'number' || !Number.isFinite(waitSecs) || waitSecs < 0 || waitSecs > WAIT_SECS_MAX) {
    throw squallError('ERR_CONFIG_INVALID', `wait must be a number of seconds from 0 to ${WAIT_SECS_MAX} (got ${JSON.stringify(waitSecs)})`);
  }
  return Math.round(waitSecs * 1000);
}

/** Storm's rebalance checks: every problem at once; an unknown component is its own error. */
export function checkRebalanceOptions(options: RebalanceOptions, componentTasks: Readonly<Record<string, number>>, rescalable: Readonly<Record<string, number>> = {}): void {
  const problems: string[] = [];
  const { numWorkers, executors } = options;
  if (numWorkers !== undefined && (typeof numWorkers !== 'number' || !Number.isInteger(numWorkers) || numWorkers < 1)) {
    problems.push(`numWorkers must be an integer >= 1 (got ${JSON.stringify(numWorkers)})`);
  }
  if (executors !== undefined) {
    if (typeof executors !== 'object' || executors === null || Array.isArray(executors)) {
      problems.push('executors must be an object of component id → executors');
    } else {
      const unknown = Object.keys(executors).filter((id) => !Object.prototype.hasOwnProperty.call(componentTasks, id));
      if (unknown.length > 0) throw squallError('ERR_COMPONENT_NOT_FOUND', `no component ${unknown.map((id) => `"${id}"`).join(', ')} in the topology`);
      for (const [id, n] of Object.entries(executors)) {
        const max = rescalable[id];
        if (max !== undefined) {
          if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > max) {
            problems.push(`keyed stateful bolt "${id}": executors (and tasks) must be an integer from 1 to its ${max} key groups (got ${JSON.stringify(n)})`);
          }
          continue;
        }
        const tasks = componentTasks[id];
        if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > tasks) {
          problems.push(`component "${id}": executors must be an integer from 1 to its ${tasks} tasks (got ${JSON.stringify(n)})`);
        }
      }
    }
  }
  if (problems.length > 0) throw problemsError('ERR_CONFIG_INVALID', 'rebalance options', problems);
}
