import type { Assignment, TopologyRecord, TopologyStatus } from '../../../common/cluster-state/types';
import type { WorkerHeartbeat } from '../../../common/protocol/ipc';
import {
  describeExit,
  emptySlot,
  restartBackoffMs,
  slotDeadline,
  stepSlot,
  type SlotAction,
  type SlotContext,
  type SlotEvent,
  type SlotState,
  type SlotTarget,
  type SlotTiming,
} from '../../../supervisor/slot';

const timing: SlotTiming = { startTimeoutMs: 10_000, workerTimeoutMs: 5_000, shutdownSleepMs: 2_000, restartBackoffBaseMs: 1_000, restartBackoffMaxMs: 8_000 };
/** Jitter fixed at the middle: every delay is 3/4 of its un-jittered value. */
const ctx: SlotContext = { timing, random: () => 0.5 };
const PORT = 6700;
const HASH = 'a'.repeat(64);
const beat: WorkerHeartbeat = { incarnation: 'i1', timeMs: 1, uptimeSecs: 1, rssBytes: 1, executors: [] };

function target(over: { topologyId?: string; executors?: Array<[number, number]>; seq?: number; status?: TopologyStatus; hash?: string } = {}): SlotTarget {
  const topologyId = over.topologyId ?? 'wc-1';
  const executors = (over.executors ?? [[1, 2]]).map(([start, end]) => ({ start, end }));
  const assignment: Assignment = {
    v: 1,
    topologyId,
    executors: executors.map((e) => ({ ...e, node: 'sup-1', port: PORT })),
    nodeHost: { 'sup-1': '127.0.0.1' },
    workerStartMs: {},
    seq: over.seq ?? 1,
  };
  return { topologyId, bundleHash: over.hash ?? HASH, executors, assignment, status: over.status ?? 'ACTIVE', record: { id: topologyId } as TopologyRecord };
}

/** Steps through events, returning the final state and every action, in order. */
function run(state: SlotState, ...events: Array<[SlotEvent, number]>): { state: SlotState; actions: SlotAction[] } {
  const actions: SlotAction[] = [];
  for (const [event, now] of events) {
    const r = stepSlot(state, event, now, ctx);
    state = r.state;
    actions.push(...r.actions);
  }
  return { state, actions };
}

const assign = (t: SlotTarget | null): SlotEvent => ({ type: 'assignment', target: t });
const bundleReady = (hash = HASH): SlotEvent => ({ type: 'bundleReady', bundleHash: hash, bundlePath: `/b/${hash}.js` });
const ready = (launchId: number, pid = 100 + launchId): SlotEvent => ({ type: 'ready', launchId, pid });
const heartbeat = (launchId: number): SlotEvent => ({ type: 'heartbeat', launchId, beat });
const exit = (launchId: number, code: number | null = 1, signal: string | null = null): SlotEvent => ({ type: 'exit', launchId, code, signal });
const tick: SlotEvent = { type: 'tick' };

/** A slot RUNNING launch 1 of `target()`, ready at t=1000. */
function running(t = target()): SlotState {
  return run(emptySlot(PORT), [assign(t), 0], [bundleReady(t.bundleHash), 0], [ready(1), 1000]).state;
}

function kinds(actions: SlotAction[]): string[] {
  return actions.map((a) => (a.type === 'send' ? `send:${a.message.type}` : a.type === 'kill' ? `kill:${a.signal}` : a.type === 'reportError' ? `report:${a.code}` : a.type));
}

describe('slot: assignment and bundle', () => {
  test('an EMPTY slot given a target waits for its bundle', () => {
    const r = run(emptySlot(PORT), [assign(target()), 0]);
    expect(r.state.kind).toBe('WAITING_FOR_BUNDLE');
    expect(r.actions).toEqual([{ type: 'download', bundleHash: HASH }]);
  });

  test('an EMPTY slot stays EMPTY without a target', () => {
    const r = run(emptySlot(PORT), [assign(null), 0], [tick, 5], [exit(1), 6], [bundleReady(), 7]);
    expect(r.state).toEqual(emptySlot(PORT));
    expect(r.actions).toEqual([]);
  });

  test('the verified bundle launches the worker with a start deadline', () => {
    const t = target();
    const r = run(emptySlot(PORT), [assign(t), 0], [bundleReady(), 50]);
    expect(r.state).toMatchObject({ kind: 'STARTING', launches: 1, deadlineMs: 10_050, worker: { launchId: 1, topologyId: 'wc-1', assignmentSeq: 1, status: 'ACTIVE', pid: null } });
    expect(r.actions).toEqual([{ type: 'download', bundleHash: HASH }, { type: 'launch', launchId: 1, target: t, bundlePath: `/b/${HASH}.js` }]);
  });

  test('a bundle for another hash is ignored; a new hash is downloaded', () => {
    const other = 'b'.repeat(64);
    const r = run(emptySlot(PORT), [assign(target()), 0], [assign(target({ hash: other })), 1], [bundleReady(HASH), 2]);
    expect(r.state.kind).toBe('WAITING_FOR_BUNDLE');
    expect(r.actions).toEqual([{ type: 'download', bundleHash: HASH }, { type: 'download', bundleHash: other }]);
    expect(run(r.state, [bundleReady(other), 3]).state.kind).toBe('STARTING');
  });

  test('the same target again does not download again', () => {
    const r = run(emptySlot(PORT), [assign(target()), 0], [assign(target()), 1]);
    expect(kinds(r.actions)).toEqual(['download']);
  });

  test('losing the target while waiting empties the slot', () => {
    expect(run(emptySlot(PORT), [assign(target()), 0], [assign(null), 1]).state).toEqual(emptySlot(PORT));
  });

  test('a failed download is reported, nothing is launched, and the slot backs off', () => {
    const r = run(emptySlot(PORT), [assign(target()), 0], [{ type: 'bundleFailed', bundleHash: HASH, code: 'ERR_BUNDLE_HASH_MISMATCH', message: 'expected a, got b' }, 100]);
    expect(r.state).toMatchObject({ kind: 'BACKOFF', failures: 1, untilMs: 100 + 750, launches: 0 });
    expect(r.actions).toEqual([
      { type: 'download', bundleHash: HASH },
      { type: 'reportError', topologyId: 'wc-1', code: 'ERR_BUNDLE_HASH_MISMATCH', message: `bundle ${HASH}: expected a, got b` },
    ]);
    const retried = run(r.state, [tick, 849], [tick, 850]);
    expect(retried.state.kind).toBe('WAITING_FOR_BUNDLE');
    expect(retried.actions).toEqual([{ type: 'download', bundleHash: HASH }]);
  });

  test('a failure for another hash is ignored', () => {
    const s = run(emptySlot(PORT), [assign(target()), 0]).state;
    const r = run(s, [{ type: 'bundleFailed', bundleHash: 'c'.repeat(64), code: 'ERR_UNAUTHORIZED', message: 'no' }, 1]);
    expect(r.state).toBe(s);
    expect(r.actions).toEqual([]);
  });
});

describe('slot: starting', () => {
  const starting = (): SlotState => run(emptySlot(PORT), [assign(target()), 0], [bundleReady(), 0]).state;

  test("'ready' makes it RUNNING with the worker's pid", () => {
    const r = run(starting(), [ready(1, 4242), 300]);
    expect(r.state).toMatchObject({ kind: 'RUNNING', readyMs: 300, lastBeatMs: 300, worker: { pid: 4242 } });
    expect(r.actions).toEqual([]);
  });

  test('no ready within the start timeout: reported, killed gracefully, then restarted after a backoff', () => {
    const r = run(starting(), [tick, 9_999]);
    expect(r.state.kind).toBe('STARTING');
    const timedOut = run(r.state, [tick, 10_000]);
    expect(timedOut.state).toMatchObject({ kind: 'KILLING', reason: 'start timeout', failed: true, failures: 1, forceAtMs: 12_000 });
    expect(timedOut.actions).toEqual([
      { type: 'reportError', topologyId: 'wc-1', code: 'ERR_WORKER_START_FAILED', message: 'worker did not report ready within 10 s' },
      { type: 'send', launchId: 1, message: { type: 'shutdown' } },
      { type: 'kill', launchId: 1, signal: 'SIGTERM' },
    ]);
    const gone = run(timedOut.state, [exit(1, 0), 10_500]);
    expect(gone.state).toMatchObject({ kind: 'BACKOFF', untilMs: 10_500 + 750 });
    expect(gone.actions).toEqual([]);
  });

  test('exit before ready is a start failure and backs off', () => {
    const r = run(starting(), [exit(1, 3), 200]);
    expect(r.state).toMatchObject({ kind: 'BACKOFF', failures: 1, untilMs: 950 });
    expect(r.actions).toEqual([{ type: 'reportError', topologyId: 'wc-1', code: 'ERR_WORKER_START_FAILED', message: 'worker exited with code 3 before reporting ready' }]);
  });

  test("a 'fatal' message is reported with the worker's code; the process is stopped, then backoff", () => {
    const r = run(starting(), [{ type: 'fatal', launchId: 1, code: 'ERR_TOPOLOGY_LOAD', message: 'bad bundle' }, 200]);
    expect(r.state).toMatchObject({ kind: 'KILLING', failed: true, failures: 1 });
    expect(kinds(r.actions)).toEqual(['report:ERR_WORKER_START_FAILED', 'send:shutdown', 'kill:SIGTERM']);
    expect(r.actions[0]).toMatchObject({ message: 'worker reported ERR_TOPOLOGY_LOAD: bad bundle' });
    const after = run(r.state, [exit(1, 1), 210]);
    expect(after.state.kind).toBe('BACKOFF');
    expect(after.actions).toEqual([]); // one report per failure, not two
  });

  test('a launcher that throws is a start failure with no process to kill', () => {
    const r = run(starting(), [{ type: 'launchFailed', launchId: 1, code: 'ERR_CONFIG_INVALID', message: 'unclosed quote' }, 5]);
    expect(r.state).toMatchObject({ kind: 'BACKOFF', failures: 1 });
    expect(r.actions).toEqual([
      { type: 'reportError', topologyId: 'wc-1', code: 'ERR_WORKER_START_FAILED', message: 'could not start the worker process: ERR_CONFIG_INVALID: unclosed quote' },
    ]);
  });

  test('heartbeats before ready are written but do not make it RUNNING', () => {
    const r = run(starting(), [heartbeat(1), 5]);
    expect(r.state.kind).toBe('STARTING');
    expect(r.actions).toEqual([{ type: 'writeBeat', topologyId: 'wc-1', pid: null, beat }]);
  });

  test('assignment and status changes during start are held, then sent on ready', () => {
    const changed = target({ seq: 2, status: 'INACTIVE' });
    const r = run(starting(), [assign(changed), 5]);
    expect(r.state).toMatchObject({ kind: 'STARTING', target: changed, worker: { assignmentSeq: 1, status: 'ACTIVE' } });
    expect(r.actions).toEqual([]);
    const up = run(r.state, [ready(1), 6]);
    expect(up.state).toMatchObject({ kind: 'RUNNING', worker: { assignmentSeq: 2, status: 'INACTIVE' } });
    expect(up.actions).toEqual([
      { type: 'send', launchId: 1, message: { type: 'assignment', assignment: changed.assignment } },
      { type: 'send', launchId: 1, message: { type: 'status', status: 'INACTIVE' } },
    ]);
  });
});

describe('slot: running', () => {
  test('heartbeats are written and push the hung deadline out', () => {
    const r = run(running(), [heartbeat(1), 4_000]);
    expect(r.actions).toEqual([{ type: 'writeBeat', topologyId: 'wc-1', pid: 101, beat }]);
    expect(r.state).toMatchObject({ kind: 'RUNNING', lastBeatMs: 4_000 });
    expect(slotDeadline(r.state, timing)).toBe(9_000);
    expect(run(r.state, [tick, 8_999]).state.kind).toBe('RUNNING');
  });

  test('a worker silent for the worker timeout is hung: reported, SIGTERM, SIGKILL after the sleep, restarted after backoff', () => {
    const hung = run(running(), [heartbeat(1), 2_000], [tick, 7_000]);
    expect(hung.state).toMatchObject({ kind: 'KILLING', reason: 'hung', failed: true, failures: 1, forceAtMs: 9_000, forced: false });
    expect(hung.actions).toEqual([
      { type: 'writeBeat', topologyId: 'wc-1', pid: 101, beat },
      { type: 'reportError', topologyId: 'wc-1', code: 'ERR_WORKER_HUNG', message: 'no heartbeat for 5 s (timeout 5 s)' },
      { type: 'send', launchId: 1, message: { type: 'shutdown' } },
      { type: 'kill', launchId: 1, signal: 'SIGTERM' },
    ]);
    const forced = run(hung.state, [tick, 8_999], [heartbeat(1), 8_999], [tick, 9_000]);
    expect(forced.actions).toEqual([{ type: 'kill', launchId: 1, signal: 'SIGKILL' }]); // no beat written while killing
    expect(forced.state).toMatchObject({ kind: 'KILLING', forced: true, forceAtMs: 11_000 });
    const again = run(forced.state, [tick, 11_000]);
    expect(again.actions).toEqual([{ type: 'kill', launchId: 1, signal: 'SIGKILL' }]);
    const gone = run(again.state, [exit(1, null, 'SIGKILL'), 11_010]);
    expect(gone.state).toMatchObject({ kind: 'BACKOFF', untilMs: 11_760, failures: 1 });
    const restarted = run(gone.state, [tick, 11_760], [bundleReady(), 11_761]);
    expect(restarted.state).toMatchObject({ kind: 'STARTING', launches: 2 });
    expect(kinds(restarted.actions)).toEqual(['download', 'launch']);
  });

  test('an exit nobody asked for is a crash, reported, and restarted after backoff', () => {
    const r = run(running(), [exit(1, null, 'SIGKILL'), 3_000]);
    expect(r.state).toMatchObject({ kind: 'BACKOFF', failures: 1, untilMs: 3_750 });
    expect(r.actions).toEqual([{ type: 'reportError', topologyId: 'wc-1', code: 'ERR_WORKER_CRASHED', message: 'worker was killed by SIGKILL' }]);
  });

  test("a 'fatal' from a running worker is a crash", () => {
    const r = run(running(), [{ type: 'fatal', launchId: 1, code: 'ERR_INTERNAL', message: 'boom' }, 3_000]);
    expect(kinds(r.actions)).toEqual(['report:ERR_WORKER_CRASHED', 'send:shutdown', 'kill:SIGTERM']);
    expect(r.state).toMatchObject({ kind: 'KILLING', failed: true });
  });

  test('other workers moving: the assignment is forwarded, the worker keeps running', () => {
    const moved = target({ seq: 2 });
    const r = run(running(), [assign(moved), 2_000]);
    expect(r.state).toMatchObject({ kind: 'RUNNING', worker: { launchId: 1, assignmentSeq: 2 }, target: moved });
    expect(r.actions).toEqual([{ type: 'send', launchId: 1, message: { type: 'assignment', assignment: moved.assignment } }]);
    expect(run(r.state, [assign(moved), 2_001]).actions).toEqual([]); // told once
  });

  test('a status change is forwarded', () => {
    const r = run(running(), [assign(target({ status: 'INACTIVE' })), 2_000]);
    expect(r.actions).toEqual([{ type: 'send', launchId: 1, message: { type: 'status', status: 'INACTIVE' } }]);
    expect(r.state).toMatchObject({ kind: 'RUNNING', worker: { status: 'INACTIVE' } });
  });

  test("this slot's executors changing restarts the worker at once (no backoff)", () => {
    const changed = target({ executors: [[1, 2], [5, 5]], seq: 2 });
    const r = run(running(), [assign(changed), 2_000]);
    expect(r.state).toMatchObject({ kind: 'KILLING', reason: 'assignment changed', failed: false });
    expect(kinds(r.actions)).toEqual(['send:shutdown', 'kill:SIGTERM']);
    const next = run(r.state, [exit(1, 0), 2_100], [bundleReady(), 2_101]);
    expect(next.state).toMatchObject({ kind: 'STARTING', launches: 2, worker: { executors: [{ start: 1, end: 2 }, { start: 5, end: 5 }] } });
    expect(kinds(next.actions)).toEqual(['download', 'launch']);
  });

  test('another topology on the port replaces the worker', () => {
    const r = run(running(), [assign(target({ topologyId: 'other-2' })), 2_000]);
    expect(r.state).toMatchObject({ kind: 'KILLING', failed: false, target: { topologyId: 'other-2' } });
  });

  test('losing the assignment stops the worker gracefully and empties the slot', () => {
    const r = run(running(), [assign(null), 2_000]);
    expect(r.state).toMatchObject({ kind: 'KILLING', reason: 'no longer assigned', target: null });
    expect(kinds(r.actions)).toEqual(['send:shutdown', 'kill:SIGTERM']);
    const gone = run(r.state, [exit(1, 0), 2_050]);
    expect(gone.state).toEqual({ ...emptySlot(PORT), launches: 1 });
    expect(gone.actions).toEqual([]);
  });

  test('worker errors are forwarded for their component', () => {
    const error = { error: 'oops', errorTimeMs: 5, host: 'h', port: PORT };
    const r = run(running(), [{ type: 'workerError', launchId: 1, component: 'split', error }, 2_000]);
    expect(r.actions).toEqual([{ type: 'forwardError', topologyId: 'wc-1', component: 'split', error }]);
  });

  test('events of an earlier incarnation are ignored', () => {
    const restarted = run(running(), [exit(1), 2_000], [tick, 2_750], [bundleReady(), 2_751], [ready(2), 2_800]).state;
    expect(restarted).toMatchObject({ kind: 'RUNNING', worker: { launchId: 2 } });
    for (const e of [exit(1), heartbeat(1), ready(1), { type: 'fatal', launchId: 1, code: 'X', message: 'y' } as SlotEvent]) {
      const r = run(restarted, [e, 2_900]);
      expect(r.state).toBe(restarted);
      expect(r.actions).toEqual([]);
    }
  });
});

describe('slot: killing', () => {
  test('the target may change while killing; the exit decides with the latest one', () => {
    const killing = run(running(), [tick, 6_000]).state; // hung
    expect(killing.kind).toBe('KILLING');
    const unassigned = run(killing, [assign(null), 6_100], [exit(1, 0), 6_200]);
    expect(unassigned.state.kind).toBe('EMPTY');
    const moved = run(killing, [assign(target({ topologyId: 'other-2' })), 6_100], [exit(1, 0), 6_200]);
    expect(moved.state).toMatchObject({ kind: 'WAITING_FOR_BUNDLE', failures: 0 }); // a new topology starts afresh
  });

  test('a graceful stop of a worker that had failed before does not back off', () => {
    const flaky = run(running(), [exit(1), 2_000], [tick, 2_750], [bundleReady(), 2_751], [ready(2), 2_800]).state;
    expect(flaky.failures).toBe(1);
    const r = run(flaky, [assign(target({ executors: [[1, 3]] })), 3_000], [exit(2, 0), 3_100]);
    expect(r.state.kind).toBe('WAITING_FOR_BUNDLE');
  });
});

describe('slot: restart backoff', () => {
  test('grows exponentially from the base and stops at the cap', () => {
    const exactly = (r: number): SlotContext['random'] => () => r;
    expect([1, 2, 3, 4, 5, 6, 40].map((n) => restartBackoffMs(n, timing, exactly(0)))).toEqual([500, 1_000, 2_000, 4_000, 4_000, 4_000, 4_000]);
    expect([1, 2, 3, 4, 5].map((n) => restartBackoffMs(n, timing, exactly(0.999999)))).toEqual([1_000, 2_000, 4_000, 8_000, 8_000]);
  });

  test('a worker crashing at start restarts ever more slowly, never hot', () => {
    let state = run(emptySlot(PORT), [assign(target()), 0]).state;
    let now = 0;
    const delays: number[] = [];
    for (let i = 0; i < 7; i++) {
      state = run(state, [bundleReady(), now], [exit(state.launches + 1, 1), now + 10]).state;
      expect(state.kind).toBe('BACKOFF');
      const untilMs = (state as { untilMs: number }).untilMs;
      delays.push(untilMs - (now + 10));
      expect(run(state, [tick, untilMs - 1]).state.kind).toBe('BACKOFF');
      now = untilMs;
      state = run(state, [tick, now]).state;
      expect(state.kind).toBe('WAITING_FOR_BUNDLE');
    }
    expect(delays).toEqual([750, 1_500, 3_000, 6_000, 6_000, 6_000, 6_000]);
    expect(state).toMatchObject({ launches: 7, failures: 7 });
  });

  test('a worker that stays up as long as the longest backoff is healthy again', () => {
    const flaky = run(running(), [exit(1), 2_000], [tick, 2_750], [bundleReady(), 2_751], [ready(2), 3_000]).state;
    expect(run(flaky, [heartbeat(2), 10_999]).state.failures).toBe(1);
    expect(run(flaky, [heartbeat(2), 3_000 + 8_000]).state.failures).toBe(0);
  });

  test('in BACKOFF: a new topology starts at once, the same one waits, no target empties', () => {
    const backingOff = run(running(), [exit(1), 2_000]).state;
    expect(backingOff.kind).toBe('BACKOFF');
    const same = run(backingOff, [assign(target({ seq: 5 })), 2_100]);
    expect(same.state).toMatchObject({ kind: 'BACKOFF', target: { assignment: { seq: 5 } } });
    expect(same.actions).toEqual([]);
    const other = run(backingOff, [assign(target({ topologyId: 'other-2' })), 2_100]);
    expect(other.state).toMatchObject({ kind: 'WAITING_FOR_BUNDLE', failures: 0 });
    expect(run(backingOff, [assign(null), 2_100]).state).toEqual({ ...emptySlot(PORT), launches: 1 });
  });
});

describe('slot: deadlines', () => {
  test('each state names the time of its next tick', () => {
    expect(slotDeadline(emptySlot(PORT), timing)).toBeNull();
    expect(slotDeadline(run(emptySlot(PORT), [assign(target()), 0]).state, timing)).toBeNull();
    expect(slotDeadline(run(emptySlot(PORT), [assign(target()), 0], [bundleReady(), 7]).state, timing)).toBe(10_007);
    expect(slotDeadline(running(), timing)).toBe(6_000);
    expect(slotDeadline(run(running(), [assign(null), 1_500]).state, timing)).toBe(3_500);
    expect(slotDeadline(run(running(), [exit(1), 1_500]).state, timing)).toBe(2_250);
  });

  test('exits are described for humans', () => {
    expect(describeExit(1, null)).toBe('exited with code 1');
    expect(describeExit(null, 'SIGKILL')).toBe('was killed by SIGKILL');
    expect(describeExit(null, null)).toBe('exited with code unknown');
  });
});
