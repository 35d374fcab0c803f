import type { Assignment } from '../../../common/cluster-state/types';
import { schedule, slotKey, type ScheduleInput, type ScheduleSupervisor, type ScheduleTopology } from '../../../nimbus/scheduler';

const NOW = 5_000;

function sup(id: string, ports: number[]): ScheduleSupervisor {
  return { id, host: `${id}.example`, ports };
}

/** `n` single-task executors starting at task 1. */
function execs(n: number): Array<{ start: number; end: number }> {
  return Array.from({ length: n }, (_, i) => ({ start: i + 1, end: i + 1 }));
}

function topo(id: string, numWorkers: number, executors = execs(4), extra: Partial<ScheduleTopology> = {}): ScheduleTopology {
  return { id, numWorkers, executors, ...extra };
}

function run(partial: Partial<ScheduleInput> & Pick<ScheduleInput, 'topologies' | 'supervisors'>): Map<string, Assignment> {
  return schedule({ existing: new Map(), aliveWorkers: new Map(), nowMs: NOW, ...partial });
}

/** `node:port` → task starts placed there. */
function placement(a: Assignment): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const e of a.executors) (out[slotKey(e.node, e.port)] ??= []).push(e.start);
  return out;
}

/** Every worker of every assignment alive. */
function allAlive(assignments: Map<string, Assignment>): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const [id, a] of assignments) out.set(id, new Set(a.executors.map((e) => slotKey(e.node, e.port))));
  return out;
}

function aliveExcept(assignments: Map<string, Assignment>, dead: string[]): Map<string, Set<string>> {
  const out = allAlive(assignments);
  for (const set of out.values()) for (const d of dead) set.delete(d);
  return out;
}

describe('schedule: first placement', () => {
  test('spreads workers over supervisors and deals executors round-robin', () => {
    const out = run({ topologies: [topo('t1', 2)], supervisors: [sup('s1', [6700, 6701]), sup('s2', [6700, 6701])] });
    const a = out.get('t1')!;
    expect(placement(a)).toEqual({ 's1:6700': [1, 3], 's2:6700': [2, 4] });
    expect(a.nodeHost).toEqual({ s1: 's1.example', s2: 's2.example' });
    expect(a.workerStartMs).toEqual({ 's1:6700': NOW, 's2:6700': NOW });
    expect(a.seq).toBe(1);
    expect(a.topologyId).toBe('t1');
    expect(a.executors.map((e) => e.start)).toEqual([1, 2, 3, 4]);
  });

  test('takes supervisors with the most free slots first, then interleaves', () => {
    const out = run({ topologies: [topo('t1', 3, execs(3))], supervisors: [sup('a', [6700]), sup('b', [6700, 6701, 6702])] });
    expect(placement(out.get('t1')!)).toEqual({ 'b:6700': [1], 'a:6700': [2], 'b:6701': [3] });
  });

  test('uses fewer workers than asked when slots run out', () => {
    const out = run({ topologies: [topo('t1', 4, execs(5))], supervisors: [sup('s1', [6700]), sup('s2', [6700])] });
    expect(placement(out.get('t1')!)).toEqual({ 's1:6700': [1, 3, 5], 's2:6700': [2, 4] });
  });

  test('never uses more workers than executors need... nor more than asked', () => {
    const out = run({ topologies: [topo('t1', 1)], supervisors: [sup('s1', [6700, 6701]), sup('s2', [6700])] });
    expect(Object.keys(placement(out.get('t1')!))).toEqual(['s1:6700']);
  });

  test('a topology without any slot gets an empty assignment', () => {
    const out = run({ topologies: [topo('t1', 2)], supervisors: [] });
    expect(out.get('t1')).toEqual({ v: 1, topologyId: 't1', executors: [], nodeHost: {}, workerStartMs: {}, seq: 1 });
  });

  test('two topologies never share a slot; the first by id is placed first', () => {
    const out = run({ topologies: [topo('t2', 2), topo('t1', 2)], supervisors: [sup('s1', [6700, 6701]), sup('s2', [6700])] });
    const t1 = Object.keys(placement(out.get('t1')!));
    const t2 = Object.keys(placement(out.get('t2')!));
    expect(t1).toEqual(['s1:6700', 's2:6700']);
    expect(t2).toEqual(['s1:6701']);
  });

  test("slots of topologies not being scheduled (killed, rebalancing) stay taken", () => {
    const frozen: Assignment = { v: 1, topologyId: 'old', executors: [{ start: 1, end: 1, node: 's1', port: 6700 }], nodeHost: { s1: 'h' }, workerStartMs: { 's1:6700': 1 }, seq: 3 };
    const out = run({ topologies: [topo('t1', 2)], supervisors: [sup('s1', [6700, 6701])], existing: new Map([['old', frozen]]) });
    expect(Object.keys(placement(out.get('t1')!))).toEqual(['s1:6701']);
    expect(out.has('old')).toBe(false);
  });

  test('is deterministic whatever the order of its inputs', () => {
    const a = run({ topologies: [topo('x', 3), topo('y', 2)], supervisors: [sup('s2', [6701, 6700]), sup('s1', [6700, 6701, 6702])] });
    const b = run({ topologies: [topo('y', 2), topo('x', 3)], supervisors: [sup('s1', [6702, 6700, 6701]), sup('s2', [6700, 6701])] });
    expect(a).toEqual(b);
  });

  test('acker executors are placed like any other', () => {
    // Task layout: [1-2] a bolt, [3-3] __acker, [4-5] a spout.
    const out = run({ topologies: [topo('t1', 2, [{ start: 1, end: 2 }, { start: 3, end: 3 }, { start: 4, end: 5 }])], supervisors: [sup('s1', [6700]), sup('s2', [6700])] });
    expect(placement(out.get('t1')!)).toEqual({ 's1:6700': [1, 4], 's2:6700': [3] });
  });
});

describe('schedule: existing assignments', () => {
  const supervisors = [sup('s1', [6700, 6701]), sup('s2', [6700, 6701])];

  test('keeps an assignment untouched (the same object) when nothing changed', () => {
    const first = run({ topologies: [topo('t1', 2)], supervisors });
    const second = run({ topologies: [topo('t1', 2)], supervisors, existing: first, aliveWorkers: allAlive(first), nowMs: NOW + 1000 });
    expect(second.get('t1')).toBe(first.get('t1'));
  });

  test('does not spread a running topology onto a supervisor that joins later (rebalance does)', () => {
    const first = run({ topologies: [topo('t1', 2)], supervisors: [sup('s1', [6700])] });
    const second = run({ topologies: [topo('t1', 2)], supervisors: [...supervisors, sup('s3', [6700])], existing: first, aliveWorkers: allAlive(first) });
    expect(second.get('t1')).toBe(first.get('t1'));
  });

  test('a dead worker moves only its executors, to another slot, keeping live workers as they are', () => {
    const first = run({ topologies: [topo('t1', 2)], supervisors });
    const second = run({ topologies: [topo('t1', 2)], supervisors, existing: first, aliveWorkers: aliveExcept(first, ['s2:6700']), nowMs: NOW + 1000 });
    const a = second.get('t1')!;
    // Not s2:6700 (just died there), and on the supervisor with fewer of its live workers.
    expect(placement(a)).toEqual({ 's1:6700': [1, 3], 's2:6701': [2, 4] });
    expect(a.workerStartMs).toEqual({ 's1:6700': NOW, 's2:6701': NOW + 1000 });
    expect(a.seq).toBe(2);
    expect(a.nodeHost).toEqual({ s1: 's1.example', s2: 's2.example' });
  });

  test('with no other slot free, the dead slot is retried in place with a fresh start time', () => {
    const two = [sup('s1', [6700]), sup('s2', [6700])];
    const first = run({ topologies: [topo('t1', 2)], supervisors: two });
    const second = run({ topologies: [topo('t1', 2)], supervisors: two, existing: first, aliveWorkers: aliveExcept(first, ['s2:6700']), nowMs: NOW + 1000 });
    const a = second.get('t1')!;
    expect(placement(a)).toEqual(placement(first.get('t1')!));
    expect(a.workerStartMs).toEqual({ 's1:6700': NOW, 's2:6700': NOW + 1000 });
    expect(a.seq).toBe(2);
  });

  test('a dead supervisor: its workers move to free slots elsewhere', () => {
    const first = run({ topologies: [topo('t1', 2)], supervisors });
    const after = [sup('s1', [6700, 6701]), sup('s3', [6700])];
    const second = run({ topologies: [topo('t1', 2)], supervisors: after, existing: first, aliveWorkers: allAlive(first), nowMs: NOW + 1000 });
    expect(placement(second.get('t1')!)).toEqual({ 's1:6700': [1, 3], 's3:6700': [2, 4] });
  });

  test('a dead supervisor and no free slot: its executors join the live workers', () => {
    const first = run({ topologies: [topo('t1', 2)], supervisors: [sup('s1', [6700]), sup('s2', [6700])] });
    const second = run({ topologies: [topo('t1', 2)], supervisors: [sup('s1', [6700])], existing: first, aliveWorkers: allAlive(first), nowMs: NOW + 1000 });
    const a = second.get('t1')!;
    expect(placement(a)).toEqual({ 's1:6700': [1, 2, 3, 4] });
    // Its executors changed, so the supervisor restarts it: new launch grace.
    expect(a.workerStartMs).toEqual({ 's1:6700': NOW + 1000 });
  });

  test('every supervisor gone: an empty assignment', () => {
    const first = run({ topologies: [topo('t1', 2)], supervisors });
    const second = run({ topologies: [topo('t1', 2)], supervisors: [], existing: first, aliveWorkers: allAlive(first) });
    expect(second.get('t1')!.executors).toEqual([]);
    expect(second.get('t1')!.seq).toBe(2);
  });

  test('an empty assignment is placed once slots appear', () => {
    const empty = run({ topologies: [topo('t1', 2)], supervisors: [] });
    const again = run({ topologies: [topo('t1', 2)], supervisors: [], existing: empty });
    expect(again.get('t1')).toBe(empty.get('t1'));
    const placed = run({ topologies: [topo('t1', 2)], supervisors, existing: empty });
    expect(Object.keys(placement(placed.get('t1')!))).toEqual(['s1:6700', 's2:6700']);
    expect(placed.get('t1')!.seq).toBe(2);
  });

  test('rebalance to more workers (reschedule) spreads afresh', () => {
    const first = run({ topologies: [topo('t1', 1)], supervisors });
    const second = run({ topologies: [topo('t1', 3, execs(4), { reschedule: true })], supervisors, existing: first, aliveWorkers: allAlive(first), nowMs: NOW + 1000 });
    expect(placement(second.get('t1')!)).toEqual({ 's1:6700': [1, 4], 's2:6700': [2], 's1:6701': [3] });
  });

  test('rebalance to fewer workers', () => {
    const first = run({ topologies: [topo('t1', 3)], supervisors });
    expect(Object.keys(placement(first.get('t1')!))).toHaveLength(3);
    // Even without the reschedule flag, more live workers than asked means placing afresh.
    const second = run({ topologies: [topo('t1', 1)], supervisors, existing: first, aliveWorkers: allAlive(first), nowMs: NOW + 1000 });
    expect(placement(second.get('t1')!)).toEqual({ 's1:6700': [1, 2, 3, 4] });
  });

  test('changed executors (rebalance -e) place everything afresh', () => {
    const first = run({ topologies: [topo('t1', 2, execs(4))], supervisors });
    const merged = [{ start: 1, end: 2 }, { start: 3, end: 4 }];
    const second = run({ topologies: [topo('t1', 2, merged)], supervisors, existing: first, aliveWorkers: allAlive(first), nowMs: NOW + 1000 });
    expect(placement(second.get('t1')!)).toEqual({ 's1:6700': [1], 's2:6700': [3] });
    expect(second.get('t1')!.seq).toBe(2);
  });

  test('a rescheduled topology gets its previous slots back when the placement is the same', () => {
    const first = run({ topologies: [topo('t1', 2)], supervisors });
    const second = run({ topologies: [topo('t1', 2, execs(4), { reschedule: true })], supervisors, existing: first, aliveWorkers: allAlive(first), nowMs: NOW });
    expect(second.get('t1')).toBe(first.get('t1'));
  });

  test('a slot claimed by two assignments (corrupt state) stays with the first by id', () => {
    const shared: Assignment = { v: 1, topologyId: 'b', executors: [{ start: 1, end: 4, node: 's1', port: 6700 }], nodeHost: { s1: 's1.example' }, workerStartMs: { 's1:6700': 1 }, seq: 1 };
    const owner: Assignment = { ...shared, topologyId: 'a' };
    const out = run({
      topologies: [topo('a', 1, [{ start: 1, end: 4 }]), topo('b', 1, [{ start: 1, end: 4 }])],
      supervisors,
      existing: new Map([['a', owner], ['b', shared]]),
      aliveWorkers: new Map([['a', new Set(['s1:6700'])], ['b', new Set(['s1:6700'])]]),
    });
    expect(out.get('a')).toBe(owner);
    expect(Object.keys(placement(out.get('b')!))).not.toContain('s1:6700');
  });

  test('a dead worker of one topology never lands on a slot another topology holds', () => {
    const first = run({ topologies: [topo('t1', 1), topo('t2', 1)], supervisors: [sup('s1', [6700, 6701])] });
    expect(Object.keys(placement(first.get('t2')!))).toEqual(['s1:6701']);
    const second = run({ topologies: [topo('t1', 1), topo('t2', 1)], supervisors: [sup('s1', [6700, 6701])], existing: first, aliveWorkers: aliveExcept(first, ['s1:6700']), nowMs: NOW + 1 });
    expect(second.get('t2')).toBe(first.get('t2'));
    expect(Object.keys(placement(second.get('t1')!))).toEqual(['s1:6700']);
  });
});
