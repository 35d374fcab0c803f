import { DEFAULT_STATE_ROOT, statePaths } from '../../../common/cluster-state/paths';

describe('statePaths', () => {
  test('the Storm-shaped layout under /squall by default', () => {
    const p = statePaths();
    expect(p.root).toBe(DEFAULT_STATE_ROOT);
    expect(DEFAULT_STATE_ROOT).toBe('/squall');
    expect({
      topologies: p.topologies(),
      topology: p.topology('wc-1-1700000000'),
      assignments: p.assignments(),
      assignment: p.assignment('wc-1-1700000000'),
      supervisors: p.supervisors(),
      supervisor: p.supervisor('sup-a'),
      workerBeatsRoot: p.workerBeatsRoot(),
      workerBeats: p.workerBeats('wc-1-1700000000'),
      workerBeat: p.workerBeat('wc-1-1700000000', 'sup-a', 6700),
      workerBeatNamed: p.workerBeatNamed('wc-1-1700000000', 'sup-a-6700'),
      errorsRoot: p.errorsRoot(),
      topologyErrors: p.topologyErrors('wc-1-1700000000'),
      componentErrors: p.componentErrors('wc-1-1700000000', 'split'),
      nimbus: p.nimbus(),
    }).toEqual({
      topologies: '/squall/topologies',
      topology: '/squall/topologies/wc-1-1700000000',
      assignments: '/squall/assignments',
      assignment: '/squall/assignments/wc-1-1700000000',
      supervisors: '/squall/supervisors',
      supervisor: '/squall/supervisors/sup-a',
      workerBeatsRoot: '/squall/workerbeats',
      workerBeats: '/squall/workerbeats/wc-1-1700000000',
      workerBeat: '/squall/workerbeats/wc-1-1700000000/sup-a-6700',
      workerBeatNamed: '/squall/workerbeats/wc-1-1700000000/sup-a-6700',
      errorsRoot: '/squall/errors',
      topologyErrors: '/squall/errors/wc-1-1700000000',
      componentErrors: '/squall/errors/wc-1-1700000000/split',
      nimbus: '/squall/nimbus',
    });
  });

  test('a configured root, including / itself', () => {
    expect(statePaths('/clusters/blue').supervisor('s1')).toBe('/clusters/blue/supervisors/s1');
    expect(statePaths('/').nimbus()).toBe('/nimbus');
  });

  test('a bad root is refused with ERR_STATE_STORE', () => {
    for (const root of ['squall', '/squall/', '', '/a//b']) {
      expect(() => statePaths(root)).toThrow(expect.objectContaining({ code: 'ERR_STATE_STORE' }));
    }
  });

  test('ids that would change the shape of the tree are refused with ERR_STATE_STORE', () => {
    const p = statePaths();
    for (const id of ['', '.', '..', 'a/b', '/abs', 'nul\u0000']) {
      expect(() => p.topology(id)).toThrow(expect.objectContaining({ code: 'ERR_STATE_STORE' }));
    }
    expect(() => p.componentErrors('t', 'x/y')).toThrow(expect.objectContaining({ code: 'ERR_STATE_STORE' }));
    expect(() => p.workerBeat('t', 'node/evil', 1)).toThrow(expect.objectContaining({ code: 'ERR_STATE_STORE' }));
    for (const port of [-1, 1.5, 65536, Number.NaN]) {
      expect(() => p.workerBeat('t', 'node', port)).toThrow(expect.objectContaining({ code: 'ERR_STATE_STORE' }));
    }
  });
});
