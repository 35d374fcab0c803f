import type { Assignment, WorkerBeat } from '../../../common/cluster-state/types';
import { WorkerLiveness } from '../../../nimbus/liveness';

const WALL = 1_700_000_000_000;
const TIMEOUT = 30_000;
const LAUNCH = 120_000;

function assignment(startMs: Record<string, number>): Assignment {
  const executors = Object.keys(startMs).map((key, i) => {
    const [node, port] = key.split(':');
    return { start: i + 1, end: i + 1, node, port: Number(port) };
  });
  return { v: 1, topologyId: 't', executors, nodeHost: {}, workerStartMs: startMs, seq: 1 };
}

function beat(key: string, timeMs: number): WorkerBeat {
  const [node, port] = key.split(':');
  return { v: 1, topologyId: 't', node, port: Number(port), pid: 1, timeMs, uptimeSecs: 1, rssBytes: 1 };
}

describe('WorkerLiveness', () => {
  const live = (): WorkerLiveness => new WorkerLiveness({ taskTimeoutMs: TIMEOUT, launchGraceMs: LAUNCH });

  test('a worker that heartbeated and went silent is dead after the timeout, even within the launch grace', () => {
    const l = live();
    const a = assignment({ 's:1': WALL });
    l.observe(a, [beat('s:1', 1)], 0, WALL);
    expect(l.states(a, TIMEOUT - 1, WALL).get('s:1')).toBe('running');
    expect(l.states(a, TIMEOUT, WALL).get('s:1')).toBe('dead');
  });

  test('a new worker is starting for the launch grace, then dead without a beat', () => {
    const l = live();
    const a = assignment({ 's:1': WALL });
    l.observe(a, [], 0, WALL);
    expect(l.states(a, LAUNCH - 1, WALL + LAUNCH - 1).get('s:1')).toBe('starting');
    expect(l.states(a, LAUNCH, WALL + LAUNCH).get('s:1')).toBe('dead');
    expect(l.alive(a, LAUNCH, WALL + LAUNCH).size).toBe(0);
  });

  test('running while its beat value keeps changing; dead when it stops changing for the timeout', () => {
    const l = live();
    const a = assignment({ 's:1': WALL });
    l.observe(a, [beat('s:1', 5)], 0, WALL);
    l.observe(a, [beat('s:1', 6)], 200_000, WALL + 200_000);
    expect(l.states(a, 200_000 + TIMEOUT - 1, 0).get('s:1')).toBe('running');
    // The same value again is no sign of life, whatever the supervisor's clock says.
    l.observe(a, [beat('s:1', 6)], 200_000 + TIMEOUT - 1, WALL);
    expect(l.states(a, 200_000 + TIMEOUT, WALL).get('s:1')).toBe('dead');
  });

  test('a restarted Nimbus counts a present beat as fresh and gives what is left of the launch grace', () => {
    const l = live();
    const a = assignment({ 's:1': WALL - 1_000_000, 's:2': WALL - 100_000 });
    l.observe(a, [beat('s:1', 99)], 0, WALL);
    const states = l.states(a, 0, WALL);
    expect(states.get('s:1')).toBe('running');
    expect(states.get('s:2')).toBe('starting');
    expect(l.states(a, 20_000, WALL + 20_000).get('s:2')).toBe('dead');
    expect(l.states(a, TIMEOUT, WALL + TIMEOUT).get('s:1')).toBe('dead');
  });

  test('a reassigned slot starts over, and the old worker\'s beat does not count for the new one', () => {
    const l = live();
    l.observe(assignment({ 's:1': WALL }), [beat('s:1', 7)], 0, WALL);
    const again = assignment({ 's:1': WALL + 500_000 });
    l.observe(again, [beat('s:1', 7)], 500_000, WALL + 500_000);
    expect(l.states(again, 500_000 + LAUNCH - 1, 0).get('s:1')).toBe('starting');
    expect(l.states(again, 500_000 + LAUNCH, 0).get('s:1')).toBe('dead');
  });

  test('forgets workers that left the assignment', () => {
    const l = live();
    l.observe(assignment({ 's:1': WALL, 's:2': WALL }), [beat('s:1', 1)], 0, WALL);
    expect([...l.states(assignment({ 's:2': WALL }), 0, WALL).keys()]).toEqual(['s:2']);
  });
});
