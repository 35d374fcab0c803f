import { ClusterState } from '../../../common/cluster-state/cluster-state';
import { MemoryStateServer, type MemoryStateStore } from '../../../common/cluster-state/memory-store';
import type { Assignment, ComponentError, NimbusInfo, SupervisorInfo, TopologyRecord, WorkerBeat } from '../../../common/cluster-state/types';
import { createLogger } from '../../../common/logging';
import { bytes, connectionLog, recorder, rejectsWithCode } from '../../helpers/state-store-contract';

function topology(id: string, overrides: Partial<TopologyRecord> = {}): TopologyRecord {
  return {
    v: 1,
    id,
    name: id.split('-')[0],
    status: 'ACTIVE',
    launchTimeMs: 1_700_000_000_000,
    owner: 'alice',
    bundleHash: 'ab'.repeat(32),
    bundleBytes: 1234,
    definition: { spouts: {}, bolts: {} },
    config: { 'topology.workers': 2 },
    numWorkers: 2,
    componentExecutors: { spout: 1, split: 2, __acker: 1 },
    pending: null,
    linkSecret: 'cd'.repeat(32),
    ...overrides,
  };
}

function assignment(topologyId: string, seq: number): Assignment {
  return {
    v: 1,
    topologyId,
    executors: [{ start: 1, end: 1, node: 'sup-a', port: 6700 }],
    nodeHost: { 'sup-a': 'host-a' },
    workerStartMs: { 'sup-a:6700': 1_700_000_000_000 },
    seq,
  };
}

function supervisor(id: string, usedPorts: number[] = []): SupervisorInfo {
  return { v: 1, id, host: `host-${id}`, ports: [6700, 6701], usedPorts, startTimeMs: 1, timeMs: 2, version: '0.1.0' };
}

function beat(topologyId: string, node: string, port: number): WorkerBeat {
  return { v: 1, topologyId, node, port, pid: 4242, timeMs: 10, uptimeSecs: 3, rssBytes: 1 << 20 };
}

function componentError(n: number): ComponentError {
  return { error: `boom ${n}`, errorTimeMs: n, host: 'host-a', port: 6700, task: 3 };
}

describe('ClusterState (on the in-memory twin)', () => {
  let server: MemoryStateServer;
  let store: MemoryStateStore;
  let state: ClusterState;
  const others: MemoryStateStore[] = [];

  const otherSession = (): ClusterState => {
    const s = server.connect();
    others.push(s);
    return new ClusterState(s);
  };

  beforeEach(() => {
    server = new MemoryStateServer();
    store = server.connect();
    state = new ClusterState(store);
  });

  afterEach(async () => {
    await Promise.all([store.close(), ...others.splice(0).map((s) => s.close())]);
  });

  describe('topologies', () => {
    test('round-trip, listing, removal', async () => {
      expect(await state.listTopologyIds()).toEqual([]);
      await state.setTopology(topology('wc-2-1'));
      await state.setTopology(topology('ex-1-1'));
      expect(await state.getTopology('wc-2-1')).toEqual(topology('wc-2-1'));
      expect(await state.listTopologyIds()).toEqual(['ex-1-1', 'wc-2-1']);
      await state.setTopology(topology('wc-2-1', { status: 'INACTIVE' }));
      expect((await state.getTopology('wc-2-1'))?.status).toBe('INACTIVE');
      await state.removeTopology('wc-2-1');
      expect(await state.getTopology('wc-2-1')).toBeNull();
      expect(await state.listTopologyIds()).toEqual(['ex-1-1']);
    });

    test('written under the root as JSON with v: 1', async () => {
      await state.setTopology(topology('wc-2-1'));
      const node = await store.get('/squall/topologies/wc-2-1');
      expect(JSON.parse(new TextDecoder().decode(node?.data))).toEqual(topology('wc-2-1'));
    });

    test('a configured root keeps clusters apart', async () => {
      const blue = new ClusterState(store, { root: '/blue' });
      await blue.setTopology(topology('wc-2-1'));
      expect(await state.listTopologyIds()).toEqual([]);
      expect(await blue.listTopologyIds()).toEqual(['wc-2-1']);
      expect(await store.exists('/blue/topologies/wc-2-1')).toBe(true);
    });
  });

  describe('assignments', () => {
    test('round-trip, watches on one assignment and on the list', async () => {
      const listing = recorder('assignment ids');
      expect(await state.listAssignmentIds(listing.watcher)).toEqual([]);
      await state.setAssignment(assignment('wc-2-1', 1));
      // The parent did not exist when the watch was armed: it fires on the parent's creation.
      expect(await listing.next()).toEqual({ type: 'created', path: '/squall/assignments' });

      const one = recorder('assignment wc-2-1');
      expect(await state.getAssignment('wc-2-1', one.watcher)).toEqual(assignment('wc-2-1', 1));
      const relisting = recorder('assignment ids again');
      expect(await state.listAssignmentIds(relisting.watcher)).toEqual(['wc-2-1']);

      await otherSession().setAssignment(assignment('wc-2-1', 2));
      expect(await one.next()).toEqual({ type: 'dataChanged', path: '/squall/assignments/wc-2-1' });
      expect((await state.getAssignment('wc-2-1'))?.seq).toBe(2);

      await state.setAssignment(assignment('ex-1-1', 1));
      expect(await relisting.next()).toEqual({ type: 'childrenChanged', path: '/squall/assignments' });
      await state.removeAssignment('wc-2-1');
      expect(await state.listAssignmentIds()).toEqual(['ex-1-1']);
    });
  });

  describe('supervisors', () => {
    test('registration is ephemeral: visible to others, gone when the session closes', async () => {
      const nimbus = otherSession();
      const listing = recorder('supervisors');
      await state.registerSupervisor(supervisor('sup-b'));
      await state.registerSupervisor(supervisor('sup-a'));
      expect((await nimbus.listSupervisors(listing.watcher)).map((s) => s.id)).toEqual(['sup-a', 'sup-b']);
      await store.close();
      expect(await listing.next()).toEqual({ type: 'childrenChanged', path: '/squall/supervisors' });
      expect(await nimbus.listSupervisors()).toEqual([]);
    });

    test('re-registering updates the data in place', async () => {
      await state.registerSupervisor(supervisor('sup-a'));
      await state.registerSupervisor(supervisor('sup-a', [6700]));
      expect(await otherSession().getSupervisor('sup-a')).toEqual(supervisor('sup-a', [6700]));
      expect((await store.get('/squall/supervisors/sup-a'))?.version).toBe(1);
    });

    test("a restarted supervisor takes over its predecessor's node, which then lives with it", async () => {
      const previous = otherSession();
      await previous.registerSupervisor(supervisor('sup-a'));
      await state.registerSupervisor(supervisor('sup-a', [6701]));
      await Promise.all(others.splice(0).map((s) => s.close()));
      expect(await state.getSupervisor('sup-a')).toEqual(supervisor('sup-a', [6701]));
    });

    test('after session expiry the registration comes back with its latest data', async () => {
      const nimbus = otherSession();
      await state.registerSupervisor(supervisor('sup-a'));
      await state.registerSupervisor(supervisor('sup-a', [6700]));
      const log = connectionLog(store);
      server.expireSession(store);
      await log.waitFor('reconnected', 'expired');
      expect(await nimbus.getSupervisor('sup-a')).toEqual(supervisor('sup-a', [6700]));
    });

    test('a missing supervisor is null', async () => {
      expect(await state.getSupervisor('nobody')).toBeNull();
    });
  });

  describe('worker heartbeats', () => {
    test('set, list (sorted by node-port), remove', async () => {
      await state.setWorkerBeat(beat('wc-2-1', 'sup-b', 6700));
      await state.setWorkerBeat(beat('wc-2-1', 'sup-a', 6701));
      await state.setWorkerBeat(beat('wc-2-1', 'sup-a', 6700));
      await state.setWorkerBeat({ ...beat('wc-2-1', 'sup-a', 6700), timeMs: 99 });
      await state.setWorkerBeat(beat('ex-1-1', 'sup-a', 6702));
      const beats = await state.getWorkerBeats('wc-2-1');
      expect(beats.map((b) => `${b.node}-${b.port}`)).toEqual(['sup-a-6700', 'sup-a-6701', 'sup-b-6700']);
      expect(beats[0].timeMs).toBe(99);
      await state.removeWorkerBeats('wc-2-1');
      expect(await state.getWorkerBeats('wc-2-1')).toEqual([]);
      expect(await state.getWorkerBeats('ex-1-1')).toHaveLength(1);
    });

    test('heartbeats are persistent: they survive the writer session', async () => {
      await state.setWorkerBeat(beat('wc-2-1', 'sup-a', 6700));
      await store.close();
      expect(await otherSession().getWorkerBeats('wc-2-1')).toHaveLength(1);
    });
  });

  describe('component errors', () => {
    test('keeps the newest N per component, newest last', async () => {
      for (let n = 1; n <= 5; n++) await state.reportError('wc-2-1', 'split', componentError(n), 3);
      await state.reportError('wc-2-1', 'count', componentError(9), 3);
      expect(await state.getErrors('wc-2-1')).toEqual({
        count: [componentError(9)],
        split: [componentError(3), componentError(4), componentError(5)],
      });
      expect(await state.getErrors('other')).toEqual({});
    });

    test('concurrent reporters from several sessions lose nothing (versioned writes, retried)', async () => {
      const reporters = [state, otherSession(), otherSession()];
      await Promise.all(reporters.flatMap((r, i) => [0, 1, 2].map((j) => r.reportError('wc-2-1', 'split', componentError(i * 10 + j), 20))));
      const errors = (await state.getErrors('wc-2-1')).split;
      expect(errors.map((e) => e.errorTimeMs).sort((a, b) => a - b)).toEqual([0, 1, 2, 10, 11, 12, 20, 21, 22]);
    });

    test('a history size below 1 is refused with ERR_CONFIG_INVALID', async () => {
      await rejectsWithCode(state.reportError('wc-2-1', 'split', componentError(1), 0), 'ERR_CONFIG_INVALID');
      await rejectsWithCode(state.reportError('wc-2-1', 'split', componentError(1), 1.5), 'ERR_CONFIG_INVALID');
    });
  });

  describe('nimbus', () => {
    test('ephemeral leader info', async () => {
      const info: NimbusInfo = { v: 1, host: 'nimbus-1', port: 8080, startTimeMs: 5, version: '0.1.0' };
      const observer = otherSession();
      const w = recorder('nimbus');
      expect(await observer.getNimbusInfo(w.watcher)).toBeNull();
      await state.setNimbusInfo(info);
      expect(await w.next()).toEqual({ type: 'created', path: '/squall/nimbus' });
      expect(await observer.getNimbusInfo()).toEqual(info);
      await store.close();
      expect(await observer.getNimbusInfo()).toBeNull();
    });
  });

  describe('removeTopologyState', () => {
    test('removes the record, assignment, heartbeats and errors, and nothing of other topologies', async () => {
      for (const id of ['wc-2-1', 'ex-1-1']) {
        await state.setTopology(topology(id));
        await state.setAssignment(assignment(id, 1));
        await state.setWorkerBeat(beat(id, 'sup-a', 6700));
        await state.reportError(id, 'split', componentError(1), 5);
      }
      await state.removeTopologyState('wc-2-1');
      expect(await state.getTopology('wc-2-1')).toBeNull();
      expect(await state.getAssignment('wc-2-1')).toBeNull();
      expect(await state.getWorkerBeats('wc-2-1')).toEqual([]);
      expect(await state.getErrors('wc-2-1')).toEqual({});
      expect(await store.children('/squall/workerbeats')).toEqual(['ex-1-1']);
      expect(await store.children('/squall/errors')).toEqual(['ex-1-1']);
      expect(await state.listTopologyIds()).toEqual(['ex-1-1']);
      expect(await state.getAssignment('ex-1-1')).not.toBeNull();
    });

    test('a topology with nothing stored is fine', async () => {
      await state.removeTopologyState('never-was');
    });

    test('keeps going when one step fails and reports the first failure', async () => {
      await state.setTopology(topology('wc-2-1'));
      await state.setAssignment(assignment('wc-2-1', 1));
      server.disconnectSession(store);
      await rejectsWithCode(state.removeTopologyState('wc-2-1'), 'ERR_STATE_STORE');
      server.reconnectSession(store);
      expect(await state.getTopology('wc-2-1')).not.toBeNull();
    });
  });

  describe('bad data', () => {
    test('a non-JSON node fails with ERR_STATE_STORE naming the path', async () => {
      await store.put('/squall/topologies/broken', bytes('{not json'));
      const err = await rejectsWithCode(state.getTopology('broken'), 'ERR_STATE_STORE');
      expect(err.message).toContain('/squall/topologies/broken');
    });

    test('invalid UTF-8 fails with ERR_STATE_STORE', async () => {
      await store.put('/squall/assignments/binary', new Uint8Array([0xff, 0xfe, 0x7b]));
      await rejectsWithCode(state.getAssignment('binary'), 'ERR_STATE_STORE');
    });

    test('an unknown record version fails with ERR_STATE_STORE naming it', async () => {
      await store.put('/squall/nimbus', bytes(JSON.stringify({ v: 2, host: 'future' })));
      const err = await rejectsWithCode(state.getNimbusInfo(), 'ERR_STATE_STORE');
      expect(err.message).toContain('version 2');
      await store.put('/squall/nimbus', bytes('[1,2]'));
      await rejectsWithCode(state.getNimbusInfo(), 'ERR_STATE_STORE');
      await store.put('/squall/nimbus', bytes('{"host":"no version"}'));
      await rejectsWithCode(state.getNimbusInfo(), 'ERR_STATE_STORE');
    });

    test('listings skip an unreadable entry and log it', async () => {
      const lines: string[] = [];
      const logger = createLogger({ level: 'warn', destination: { write: (line: string) => lines.push(line) } });
      const logged = new ClusterState(store, { logger });
      await logged.registerSupervisor(supervisor('sup-a'));
      await store.put('/squall/supervisors/sup-bad', bytes('garbage'));
      await logged.setWorkerBeat(beat('wc-2-1', 'sup-a', 6700));
      await store.put('/squall/workerbeats/wc-2-1/sup-bad-1', bytes('{"v":7}'));
      await store.put('/squall/errors/wc-2-1/bad', bytes('nope'));
      expect((await logged.listSupervisors()).map((s) => s.id)).toEqual(['sup-a']);
      expect(await logged.getWorkerBeats('wc-2-1')).toHaveLength(1);
      expect(await logged.getErrors('wc-2-1')).toEqual({});
      expect(lines).toHaveLength(3);
      expect(lines.join('\n')).toContain('/squall/supervisors/sup-bad');
    });

    test('reportError over an unreadable history fails with ERR_STATE_STORE instead of overwriting it', async () => {
      await store.put('/squall/errors/wc-2-1/split', bytes('{"v":2,"errors":[]}'));
      await rejectsWithCode(state.reportError('wc-2-1', 'split', componentError(1), 5), 'ERR_STATE_STORE');
    });
  });

  test('ensureLayout creates the top-level nodes and is idempotent', async () => {
    await state.ensureLayout();
    await state.ensureLayout();
    expect(await store.children('/squall')).toEqual(['assignments', 'errors', 'supervisors', 'topologies', 'workerbeats']);
  });
});
