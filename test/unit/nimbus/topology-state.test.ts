import { step, type TopologyEvent, type TopologyState, type TransitionContext } from '../../../nimbus/topology-state';

const NOW = 1_700_000_000_000;
const ctx: TransitionContext = { nowMs: NOW, messageTimeoutSecs: 30, componentTasks: { words: 4, count: 8, __acker: 2 } };

function state(overrides: Partial<TopologyState> = {}): TopologyState {
  return { status: 'ACTIVE', pending: null, numWorkers: 2, componentExecutors: { words: 2, count: 4, __acker: 2 }, ...overrides };
}

function throwsCode(fn: () => unknown, code: string): Error & { problems?: string[] } {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toMatchObject({ code });
  return caught as Error & { problems?: string[] };
}

describe('activate / deactivate', () => {
  test('ACTIVE → deactivate → INACTIVE → activate → ACTIVE', () => {
    const off = step(state(), { type: 'deactivate' }, ctx);
    expect(off).toEqual({ state: state({ status: 'INACTIVE' }), effect: 'none', changed: true });
    const on = step(off.state, { type: 'activate' }, ctx);
    expect(on).toEqual({ state: state(), effect: 'none', changed: true });
  });

  test('repeating the current status changes nothing', () => {
    expect(step(state(), { type: 'activate' }, ctx)).toEqual({ state: state(), effect: 'none', changed: false });
    const inactive = state({ status: 'INACTIVE' });
    expect(step(inactive, { type: 'deactivate' }, ctx).changed).toBe(false);
  });

  test.each<[TopologyState['status'], TopologyEvent['type']]>([
    ['KILLED', 'activate'],
    ['KILLED', 'deactivate'],
    ['REBALANCING', 'activate'],
    ['REBALANCING', 'deactivate'],
  ])('%s refuses %s with ERR_INVALID_TRANSITION', (status, type) => {
    const err = throwsCode(() => step(state({ status, pending: { action: status === 'KILLED' ? 'kill' : 'rebalance', dueMs: NOW + 1 } }), { type } as TopologyEvent, ctx), 'ERR_INVALID_TRANSITION');
    expect(err.message).toMatch(status === 'KILLED' ? /being killed/ : /being rebalanced/);
  });
});

describe('kill', () => {
  test('kills at once (KILLED, spouts off) and removes after the wait', () => {
    const killed = step(state(), { type: 'kill', waitSecs: 5 }, ctx);
    expect(killed).toEqual({ state: state({ status: 'KILLED', pending: { action: 'kill', dueMs: NOW + 5000 } }), effect: 'none', changed: true });
    expect(step(killed.state, { type: 'timeout' }, { ...ctx, nowMs: NOW + 4999 })).toEqual({ state: killed.state, effect: 'none', changed: false });
    expect(step(killed.state, { type: 'timeout' }, { ...ctx, nowMs: NOW + 5000 })).toEqual({ state: killed.state, effect: 'remove', changed: false });
  });

  test('the default wait is topology.message.timeout.secs', () => {
    expect(step(state(), { type: 'kill' }, ctx).state.pending).toEqual({ action: 'kill', dueMs: NOW + 30_000 });
  });

  test('kill from INACTIVE and from REBALANCING (the rebalance is dropped)', () => {
    expect(step(state({ status: 'INACTIVE' }), { type: 'kill', waitSecs: 0 }, ctx).state).toMatchObject({ status: 'KILLED', pending: { action: 'kill', dueMs: NOW } });
    const rebalancing = state({ status: 'REBALANCING', pending: { action: 'rebalance', dueMs: NOW + 60_000, resumeStatus: 'ACTIVE', numWorkers: 4 } });
    expect(step(rebalancing, { type: 'kill', waitSecs: 1 }, ctx).state).toEqual(state({ status: 'KILLED', pending: { action: 'kill', dueMs: NOW + 1000 } }));
  });

  test('killing again keeps the earliest removal time', () => {
    const killed = step(state(), { type: 'kill', waitSecs: 10 }, ctx).state;
    expect(step(killed, { type: 'kill', waitSecs: 20 }, ctx)).toEqual({ state: killed, effect: 'none', changed: false });
    const sooner = step(killed, { type: 'kill', waitSecs: 2 }, ctx);
    expect(sooner.changed).toBe(true);
    expect(sooner.state.pending).toEqual({ action: 'kill', dueMs: NOW + 2000 });
  });

  test.each([-1, Number.NaN, Infinity, 400 * 24 * 3600])('refuses a wait of %p with ERR_CONFIG_INVALID', (waitSecs) => {
    throwsCode(() => step(state(), { type: 'kill', waitSecs }, ctx), 'ERR_CONFIG_INVALID');
  });

  test('a fractional wait is rounded to the millisecond', () => {
    expect(step(state(), { type: 'kill', waitSecs: 0.0015 }, ctx).state.pending?.dueMs).toBe(NOW + 2);
  });
});

describe('rebalance', () => {
  test('REBALANCING for the wait, then the new layout, back to ACTIVE, reschedule', () => {
    const r = step(state(), { type: 'rebalance', waitSecs: 10, numWorkers: 3, executors: { count: 8 } }, ctx);
    expect(r).toEqual({
      state: state({ status: 'REBALANCING', pending: { action: 'rebalance', dueMs: NOW + 10_000, resumeStatus: 'ACTIVE', numWorkers: 3, componentExecutors: { count: 8 } } }),
      effect: 'none',
      changed: true,
    });
    expect(step(r.state, { type: 'timeout' }, { ...ctx, nowMs: NOW + 9_999 }).changed).toBe(false);
    const done = step(r.state, { type: 'timeout' }, { ...ctx, nowMs: NOW + 10_000 });
    expect(done).toEqual({ state: state({ numWorkers: 3, componentExecutors: { words: 2, count: 8, __acker: 2 } }), effect: 'reschedule', changed: true });
  });

  test('an INACTIVE topology goes back to INACTIVE', () => {
    const r = step(state({ status: 'INACTIVE' }), { type: 'rebalance', waitSecs: 0 }, ctx);
    expect(r.state.pending).toEqual({ action: 'rebalance', dueMs: NOW, resumeStatus: 'INACTIVE' });
    expect(step(r.state, { type: 'timeout' }, ctx)).toEqual({ state: state({ status: 'INACTIVE' }), effect: 'reschedule', changed: true });
  });

  test('without options it only reschedules (default wait: the message timeout)', () => {
    const r = step(state(), { type: 'rebalance' }, ctx);
    expect(r.state.pending).toEqual({ action: 'rebalance', dueMs: NOW + 30_000, resumeStatus: 'ACTIVE' });
    expect(step(r.state, { type: 'timeout' }, { ...ctx, nowMs: NOW + 30_000 }).state).toEqual(state());
  });

  test.each<TopologyState['status']>(['KILLED', 'REBALANCING'])('%s refuses rebalance', (status) => {
    throwsCode(() => step(state({ status, pending: { action: status === 'KILLED' ? 'kill' : 'rebalance', dueMs: NOW } }), { type: 'rebalance' }, ctx), 'ERR_INVALID_TRANSITION');
  });

  test('an unknown component is ERR_COMPONENT_NOT_FOUND', () => {
    const err = throwsCode(() => step(state(), { type: 'rebalance', executors: { nope: 1, words: 1 } }, ctx), 'ERR_COMPONENT_NOT_FOUND');
    expect(err.message).toContain('"nope"');
  });

  test('bad numbers are ERR_CONFIG_INVALID, every problem listed', () => {
    const err = throwsCode(() => step(state(), { type: 'rebalance', numWorkers: 0, executors: { words: 5, count: 0, __acker: 1.5 } }, ctx), 'ERR_CONFIG_INVALID');
    expect(err.problems).toEqual([
      'numWorkers must be an integer >= 1 (got 0)',
      'component "words": executors must be an integer from 1 to its 4 tasks (got 5)',
      'component "count": executors must be an integer from 1 to its 8 tasks (got 0)',
      'component "__acker": executors must be an integer from 1 to its 2 tasks (got 1.5)',
    ]);
  });

  test('executors up to the task count are fine', () => {
    expect(step(state(), { type: 'rebalance', executors: { words: 4, count: 1 } }, ctx).changed).toBe(true);
  });
});

describe('timeout', () => {
  test('without a pending action it changes nothing', () => {
    for (const status of ['ACTIVE', 'INACTIVE'] as const) {
      expect(step(state({ status }), { type: 'timeout' }, ctx)).toEqual({ state: state({ status }), effect: 'none', changed: false });
    }
  });
});

describe('rebalance of a keyed stateful bolt (rescaling, docs/state.md)', () => {
  const rescaling: TransitionContext = { ...ctx, rescalable: { count: 128 } };

  test('its tasks follow its executors, beyond its current tasks and back', () => {
    const up = step(state(), { type: 'rebalance', waitSecs: 0, executors: { count: 16 } }, rescaling);
    const applied = step(up.state, { type: 'timeout' }, rescaling);
    expect(applied).toMatchObject({ effect: 'reschedule', state: { componentExecutors: { count: 16 }, componentTasks: { count: 16 } } });
    const down = step(step(applied.state, { type: 'rebalance', waitSecs: 0, executors: { count: 2 } }, { ...rescaling, componentTasks: { ...ctx.componentTasks, count: 16 } }).state, { type: 'timeout' }, rescaling);
    expect(down.state).toMatchObject({ componentExecutors: { count: 2 }, componentTasks: { count: 2 } });
  });

  test('up to its key groups; other components keep their tasks as the executor cap', () => {
    const err = throwsCode(() => step(state(), { type: 'rebalance', executors: { count: 129, words: 5 } }, rescaling), 'ERR_CONFIG_INVALID');
    expect(err.problems).toEqual([
      'keyed stateful bolt "count": executors (and tasks) must be an integer from 1 to its 128 key groups (got 129)',
      'component "words": executors must be an integer from 1 to its 4 tasks (got 5)',
    ]);
    const words = step(step(state(), { type: 'rebalance', waitSecs: 0, executors: { words: 1 } }, rescaling).state, { type: 'timeout' }, rescaling);
    expect(words.state.componentTasks).toBeUndefined();
  });
});
