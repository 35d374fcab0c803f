import * as fs from 'node:fs';
import { text } from 'node:stream/consumers';
import type { Assignment } from '../../../common/cluster-state/types';
import { slotKey } from '../../../nimbus/scheduler';
import { definition, executorStats, fakeBundle, startHarness, WALL_ORIGIN_MS, type Harness } from './harness';

function workers(a: Assignment | null): string[] {
  return a ? [...new Set(a.executors.map((e) => slotKey(e.node, e.port)))].sort() : [];
}

async function rejectsWithCode(p: Promise<unknown>, code: string): Promise<Error & { problems?: string[] }> {
  let caught: unknown;
  try {
    await p;
  } catch (err) {
    caught = err;
  }
  expect(caught).toMatchObject({ code });
  return caught as Error & { problems?: string[] };
}

describe('Nimbus', () => {
  let h: Harness;
  afterEach(async () => {
    await h.close();
    expect(h.clock.pendingTimers()).toBe(0);
  });

  describe('submit', () => {
    beforeEach(async () => {
      h = await startHarness({ supervisors: [['s1', [6700, 6701]], ['s2', [6700, 6701]]] });
    });

    test('writes the record and an assignment spread over the supervisors', async () => {
      const result = await h.nimbus.submit('wc', fakeBundle(), { 'topology.workers': 2 }, 'alice');
      expect(result).toEqual({ id: `wc-1-${WALL_ORIGIN_MS / 1000}`, name: 'wc', status: 'ACTIVE', bundleHash: expect.stringMatching(/^[0-9a-f]{64}$/) });
      const record = (await h.peer.getTopology(result.id))!;
      expect(record).toMatchObject({
        v: 1,
        id: result.id,
        name: 'wc',
        status: 'ACTIVE',
        launchTimeMs: WALL_ORIGIN_MS,
        owner: 'alice',
        bundleHash: result.bundleHash,
        definition: definition(),
        numWorkers: 2,
        componentExecutors: { words: 2, count: 2, __acker: 2 },
        pending: null,
        linkSecret: 'ab'.repeat(32),
      });
      expect(record.config).toMatchObject({ 'topology.name': 'wc', 'topology.workers': 2, 'topology.message.timeout.secs': 30 });
      const a = (await h.peer.getAssignment(result.id))!;
      expect(workers(a)).toEqual(['s1:6700', 's2:6700']);
      expect(a.executors).toHaveLength(6);
      expect(a.seq).toBe(1);
      expect(a.nodeHost).toEqual({ s1: 's1.example', s2: 's2.example' });
      expect(a.workerStartMs).toEqual({ 's1:6700': WALL_ORIGIN_MS, 's2:6700': WALL_ORIGIN_MS });
      expect(fs.readFileSync(h.bundles.pathOf(result.bundleHash))).toEqual(fakeBundle());
    });

    test('ids are unique and counted; lookup works by id or name', async () => {
      const a = await h.nimbus.submit('a', fakeBundle());
      const b = await h.nimbus.submit('b', fakeBundle());
      expect([a.id, b.id]).toEqual([`a-1-${WALL_ORIGIN_MS / 1000}`, `b-2-${WALL_ORIGIN_MS / 1000}`]);
      expect(h.nimbus.getTopology('b').id).toBe(b.id);
      expect(h.nimbus.getTopology(b.id).name).toBe('b');
      expect(() => h.nimbus.getTopology('c')).toThrow(expect.objectContaining({ code: 'ERR_TOPOLOGY_NOT_FOUND' }));
    });

    test('config layers: cluster topology.* defaults < bundle config < submit overrides, plus topology.name', async () => {
      await h.close();
      h = await startHarness({ config: { 'topology.max.spout.pending': 100, 'topology.debug': true }, supervisors: [['s1', [6700]]] });
      const r = await h.nimbus.submit('wc', fakeBundle({ config: { 'topology.max.spout.pending': 200, 'topology.workers': 3, 'topology.name': 'ignored' } }), { 'topology.workers': 1, 'my.key': 'x' });
      expect(h.nimbus.getTopology(r.id).config).toMatchObject({ 'topology.max.spout.pending': 200, 'topology.debug': true, 'topology.workers': 1, 'my.key': 'x', 'topology.name': 'wc' });
    });

    test.each(['', 'a/b', 'a.b', 'a:b', 'a\\b', 'tab\there', 'x'.repeat(201)])('refuses the name %p with ERR_TOPOLOGY_INVALID', async (name) => {
      await rejectsWithCode(h.nimbus.submit(name, fakeBundle()), 'ERR_TOPOLOGY_INVALID');
      expect(h.probe.probed).toEqual([]);
    });

    test('refuses bad overrides before probing, listing every problem', async () => {
      const err = await rejectsWithCode(h.nimbus.submit('wc', fakeBundle(), { 'topology.workers': 0, 'topology.wrokers': 1 }), 'ERR_CONFIG_INVALID');
      expect(err.problems).toHaveLength(2);
      expect(h.probe.probed).toEqual([]);
    });

    test('refuses a bad config from the bundle after probing, and deletes the bundle', async () => {
      const err = await rejectsWithCode(h.nimbus.submit('wc', fakeBundle({ config: { 'topology.message.timeout.secs': -1 } })), 'ERR_CONFIG_INVALID');
      expect(err.problems).toEqual(['"topology.message.timeout.secs" must be a number > 0 (got -1)']);
      expect(await h.bundles.list()).toEqual([]);
    });

    test('a bundle the probe rejects is ERR_BUNDLE_INVALID, and is not kept', async () => {
      const err = await rejectsWithCode(h.nimbus.submit('wc', fakeBundle({ fail: { code: 'ERR_BUNDLE_INVALID', reason: 'not valid JavaScript: Unexpected token' } })), 'ERR_BUNDLE_INVALID');
      expect(err.message).toContain('Unexpected token');
      expect(await h.bundles.list()).toEqual([]);
      expect(await h.peer.listTopologyIds()).toEqual([]);
    });

    test('an invalid definition is ERR_TOPOLOGY_INVALID listing every problem', async () => {
      const def = definition();
      def.bolts.count.inputs = [{ component: 'nope', stream: 'default', grouping: { type: 'shuffle' } }];
      def.spouts.__sys = def.spouts.words;
      const err = await rejectsWithCode(h.nimbus.submit('wc', fakeBundle({ definition: def })), 'ERR_TOPOLOGY_INVALID');
      expect(err.problems).toEqual([
        'component id "__sys" starts with "__", which is reserved for system components',
        'bolt "count" input nope:default: unknown source component "nope"',
      ]);
      await rejectsWithCode(h.nimbus.submit('wc', fakeBundle({ definition: { spouts: 'x' } })), 'ERR_TOPOLOGY_INVALID');
    });

    test('a duplicate name is ERR_TOPOLOGY_EXISTS, also while being killed; free again once removed', async () => {
      await h.nimbus.submit('wc', fakeBundle());
      await rejectsWithCode(h.nimbus.submit('wc', fakeBundle({ salt: '2' })), 'ERR_TOPOLOGY_EXISTS');
      await h.nimbus.kill('wc', 5);
      const err = await rejectsWithCode(h.nimbus.submit('wc', fakeBundle()), 'ERR_TOPOLOGY_EXISTS');
      expect(err.message).toContain('being killed');
      h.clock.advance(5000);
      await h.settle();
      expect((await h.nimbus.submit('wc', fakeBundle())).id).toBe(`wc-2-${WALL_ORIGIN_MS / 1000 + 5}`);
    });

    test('two topologies sharing a bundle: it is deleted only with the last', async () => {
      const a = await h.nimbus.submit('a', fakeBundle());
      await h.nimbus.submit('b', fakeBundle());
      await h.nimbus.kill('a', 0);
      expect(await h.bundles.has(a.bundleHash)).toBe(true);
      await h.nimbus.kill('b', 0);
      expect(await h.bundles.has(a.bundleHash)).toBe(false);
    });

    test('without free slots the topology waits, visibly, and is placed when a supervisor joins', async () => {
      await h.close();
      h = await startHarness();
      const r = await h.nimbus.submit('wc', fakeBundle());
      expect(await h.peer.getAssignment(r.id)).toBeNull();
      expect((await h.nimbus.topologySummary())[0].schedulerDisplayResource).toBe('not scheduled: no free worker slot');
      await h.addSupervisor('s1', [6700]);
      await h.settle();
      expect(workers(await h.peer.getAssignment(r.id))).toEqual(['s1:6700']);
    });
  });

  describe('state transitions', () => {
    beforeEach(async () => {
      h = await startHarness({ supervisors: [['s1', [6700, 6701, 6702]], ['s2', [6700, 6701, 6702]]] });
    });

    test('deactivate and activate are persisted', async () => {
      const { id } = await h.nimbus.submit('wc', fakeBundle());
      expect(await h.nimbus.deactivate('wc')).toEqual({ topologyOperation: 'deactivate', topologyId: id, status: 'success' });
      expect((await h.peer.getTopology(id))!.status).toBe('INACTIVE');
      expect(await h.nimbus.activate(id)).toEqual({ topologyOperation: 'activate', topologyId: id, status: 'success' });
      expect((await h.peer.getTopology(id))!.status).toBe('ACTIVE');
    });

    test('kill: KILLED at once, everything removed when the wait is over', async () => {
      const { id, bundleHash } = await h.nimbus.submit('wc', fakeBundle());
      await h.beat(id, 's1', 6700, 1);
      await h.peer.reportError(id, 'count', { error: 'boom', errorTimeMs: 1, host: 's1', port: 6700 }, 10);
      expect(await h.nimbus.kill('wc', 10)).toEqual({ topologyOperation: 'kill', topologyId: id, status: 'success' });
      expect(await h.peer.getTopology(id)).toMatchObject({ status: 'KILLED', pending: { action: 'kill', dueMs: WALL_ORIGIN_MS + 10_000 } });
      await rejectsWithCode(h.nimbus.activate('wc'), 'ERR_INVALID_TRANSITION');
      h.clock.advance(9_999);
      await h.settle();
      expect(await h.peer.getTopology(id)).not.toBeNull();
      h.clock.advance(1);
      await h.settle();
      expect(await h.peer.getTopology(id)).toBeNull();
      expect(await h.peer.getAssignment(id)).toBeNull();
      expect(await h.peer.getWorkerBeats(id)).toEqual([]);
      expect(await h.peer.getErrors(id)).toEqual({});
      expect(await h.bundles.has(bundleHash)).toBe(false);
      await rejectsWithCode(h.nimbus.kill('wc'), 'ERR_TOPOLOGY_NOT_FOUND');
    });

    test('kill defaults to the message timeout; killing again keeps the earliest time', async () => {
      const { id } = await h.nimbus.submit('wc', fakeBundle(), { 'topology.message.timeout.secs': 20 });
      await h.nimbus.kill(id);
      expect((await h.peer.getTopology(id))!.pending).toEqual({ action: 'kill', dueMs: WALL_ORIGIN_MS + 20_000 });
      await h.nimbus.kill(id, 60);
      expect((await h.peer.getTopology(id))!.pending!.dueMs).toBe(WALL_ORIGIN_MS + 20_000);
      await h.nimbus.kill(id, 0);
      expect(await h.peer.getTopology(id)).toBeNull();
    });

    test('a killed topology keeps its slots until removed; other topologies do not get them', async () => {
      const a = await h.nimbus.submit('a', fakeBundle(), { 'topology.workers': 6 });
      expect(workers(await h.peer.getAssignment(a.id))).toHaveLength(6);
      await h.nimbus.kill('a', 30);
      const b = await h.nimbus.submit('b', fakeBundle());
      expect(await h.peer.getAssignment(b.id)).toBeNull();
      h.clock.advance(30_000);
      await h.settle();
      expect(workers(await h.peer.getAssignment(b.id))).toHaveLength(1);
    });

    test('rebalance: REBALANCING for the wait, then new workers and executors, back to ACTIVE', async () => {
      const { id } = await h.nimbus.submit('wc', fakeBundle(), { 'topology.workers': 2 });
      const before = (await h.peer.getAssignment(id))!;
      expect(await h.nimbus.rebalance('wc', 15, { numWorkers: 4, executors: { count: 4 } })).toEqual({ topologyOperation: 'rebalance', topologyId: id, status: 'success' });
      expect(await h.peer.getTopology(id)).toMatchObject({ status: 'REBALANCING', pending: { action: 'rebalance', dueMs: WALL_ORIGIN_MS + 15_000, resumeStatus: 'ACTIVE', numWorkers: 4, componentExecutors: { count: 4 } } });
      await rejectsWithCode(h.nimbus.rebalance('wc', 1), 'ERR_INVALID_TRANSITION');
      h.clock.advance(15_000);
      await h.settle();
      expect(await h.peer.getTopology(id)).toMatchObject({ status: 'ACTIVE', pending: null, numWorkers: 4, componentExecutors: { words: 2, count: 4, __acker: 2 } });
      const after = (await h.peer.getAssignment(id))!;
      expect(workers(after)).toEqual(['s1:6700', 's1:6701', 's2:6700', 's2:6701']);
      expect(after.executors).toHaveLength(8);
      expect(after.seq).toBe(before.seq + 1);
    });

    test('rebalance of an INACTIVE topology resumes INACTIVE; wait 0 applies at once', async () => {
      const { id } = await h.nimbus.submit('wc', fakeBundle());
      await h.nimbus.deactivate(id);
      await h.nimbus.rebalance(id, 0, { numWorkers: 2 });
      expect(await h.peer.getTopology(id)).toMatchObject({ status: 'INACTIVE', numWorkers: 2, pending: null });
      expect(workers(await h.peer.getAssignment(id))).toHaveLength(2);
    });

    test('rebalance validation errors', async () => {
      const { id } = await h.nimbus.submit('wc', fakeBundle());
      await rejectsWithCode(h.nimbus.rebalance(id, 0, { executors: { nope: 1 } }), 'ERR_COMPONENT_NOT_FOUND');
      const err = await rejectsWithCode(h.nimbus.rebalance(id, 0, { numWorkers: 0, executors: { words: 3 } }), 'ERR_CONFIG_INVALID');
      expect(err.problems).toHaveLength(2);
      expect((await h.peer.getTopology(id))!.status).toBe('ACTIVE');
    });
  });

  describe('monitoring', () => {
    beforeEach(async () => {
      h = await startHarness({ supervisors: [['s1', [6700, 6701]], ['s2', [6700, 6701]]] });
    });

    /** Advances in monitor periods, writing fresh beats for `beating` workers before each. */
    async function runFor(id: string, ms: number, beating: string[]): Promise<void> {
      for (let t = 0; t < ms; t += 10_000) {
        for (const key of beating) {
          const [node, port] = key.split(':');
          await h.beat(id, node, Number(port), h.clock.wallNow());
        }
        h.clock.advance(10_000);
        await h.settle();
      }
    }

    test('a worker that stops heartbeating is moved after nimbus.task.timeout.secs; the other stays', async () => {
      const { id } = await h.nimbus.submit('wc', fakeBundle(), { 'topology.workers': 2 });
      const first = (await h.peer.getAssignment(id))!;
      expect(workers(first)).toEqual(['s1:6700', 's2:6700']);
      await runFor(id, 30_000, ['s1:6700', 's2:6700']);
      expect(await h.peer.getAssignment(id)).toEqual(first);
      // s2:6700 goes silent: its last value (seen at 30 s) stays unchanged for 30 s of Nimbus's clock.
      await runFor(id, 20_000, ['s1:6700']);
      expect(await h.peer.getAssignment(id)).toEqual(first);
      await runFor(id, 10_000, ['s1:6700']);
      const second = (await h.peer.getAssignment(id))!;
      expect(workers(second)).toEqual(['s1:6700', 's2:6701']);
      expect(second.seq).toBe(2);
      expect(second.workerStartMs['s1:6700']).toBe(first.workerStartMs['s1:6700']);
      expect(second.executors.filter((e) => e.node === 's1')).toEqual(first.executors.filter((e) => e.node === 's1'));
    });

    test('workers that never heartbeat are rescheduled after the launch grace, and the topology says so', async () => {
      const { id } = await h.nimbus.submit('wc', fakeBundle(), { 'topology.workers': 2 });
      await h.peer.reportError(id, '__worker', { error: 'ERR_WORKER_START_FAILED: cannot load bundle\n  at x', errorTimeMs: WALL_ORIGIN_MS + 1, host: 's1.example', port: 6700 }, 10);
      const [summary] = await h.nimbus.topologySummary();
      expect(summary.schedulerDisplayResource).toBe('workers not heartbeating: 2 of 2; last worker error (s1.example:6700): ERR_WORKER_START_FAILED: cannot load bundle');
      const page = await h.nimbus.topologyPage(id);
      expect(page.workerErrors).toEqual([{ error: 'ERR_WORKER_START_FAILED: cannot load bundle\n  at x', errorHost: 's1.example', errorPort: 6700, errorTime: WALL_ORIGIN_MS + 1, errorLapsedSecs: 0 }]);
      expect(page.workers.map((w) => w.state)).toEqual(['starting', 'starting']);
      h.clock.advance(110_000);
      await h.settle();
      expect((await h.peer.getAssignment(id))!.seq).toBe(1);
      h.clock.advance(10_000);
      await h.settle();
      const moved = (await h.peer.getAssignment(id))!;
      expect(moved.seq).toBe(2);
      expect(workers(moved)).toEqual(['s1:6701', 's2:6701']);
    });

    test('once every worker heartbeats, the note is gone', async () => {
      const { id } = await h.nimbus.submit('wc', fakeBundle(), { 'topology.workers': 2 });
      await runFor(id, 10_000, ['s1:6700', 's2:6700']);
      const [summary] = await h.nimbus.topologySummary();
      expect(summary.schedulerDisplayResource).toBeUndefined();
      expect((await h.nimbus.topologyPage(id)).workers.map((w) => w.state)).toEqual(['running', 'running']);
    });

    test('a supervisor that vanishes: its workers move at once (watch), not at the next tick', async () => {
      const { id } = await h.nimbus.submit('wc', fakeBundle(), { 'topology.workers': 2 });
      await h.addSupervisor('s3', [6700]);
      await h.settle();
      await h.removeSupervisor('s2');
      await h.settle();
      expect(workers(await h.peer.getAssignment(id))).toEqual(['s1:6700', 's3:6700']);
    });
  });

  describe('read side', () => {
    beforeEach(async () => {
      h = await startHarness({ supervisors: [['s1', [6700, 6701]], ['s2', [6700]]] });
    });

    test('cluster, supervisor and nimbus summaries', async () => {
      await h.nimbus.submit('wc', fakeBundle(), { 'topology.workers': 2 });
      h.clock.advance(65_000);
      expect(await h.nimbus.clusterSummary()).toEqual({
        squallVersion: expect.any(String),
        nimbusUptime: '1m 5s',
        nimbusUptimeSeconds: 65,
        supervisors: 2,
        topologies: 1,
        slotsTotal: 3,
        slotsUsed: 2,
        slotsFree: 1,
        executorsTotal: 6,
        tasksTotal: 8,
      });
      expect(await h.nimbus.supervisorSummary()).toEqual([
        { id: 's1', host: 's1.example', uptime: '1m 5s', uptimeSeconds: 65, slotsTotal: 2, slotsUsed: 1, slotsFree: 1, usedPorts: [6700], version: '0.1.0' },
        { id: 's2', host: 's2.example', uptime: '1m 5s', uptimeSeconds: 65, slotsTotal: 1, slotsUsed: 1, slotsFree: 0, usedPorts: [6700], version: '0.1.0' },
      ]);
      expect(h.nimbus.nimbusSummary()).toEqual([{ host: '127.0.0.1', port: 6627, status: 'Leader', nimbusUpTime: '1m 5s', nimbusUpTimeSeconds: 65, version: expect.any(String) }]);
      expect(await h.peer.getNimbusInfo()).toMatchObject({ host: '127.0.0.1', port: 6627 });
    });

    test('the topology page aggregates stats of assigned executors from worker beats', async () => {
      const { id } = await h.nimbus.submit('wc', fakeBundle(), { 'topology.workers': 2, 'db.password': 'hunter2' });
      const a = (await h.peer.getAssignment(id))!;
      // __acker [1-2], count [3-6], words [7-8], one executor per task range.
      const at = (start: number) => a.executors.find((e) => e.start === start)!;
      const byWorker = new Map<string, ReturnType<typeof executorStats>[]>();
      const add = (start: number, s: ReturnType<typeof executorStats>) => {
        const key = slotKey(at(start).node, at(start).port);
        byWorker.set(key, [...(byWorker.get(key) ?? []), s]);
      };
      add(7, executorStats('words', 7, 7, 'spout', { emitted: 10, acked: 10 }));
      add(8, executorStats('words', 8, 8, 'spout', { emitted: 5, acked: 4 }));
      add(3, executorStats('count', 3, 4, 'bolt', { executed: 8 }));
      add(5, executorStats('count', 5, 6, 'bolt', { executed: 7 }));
      for (const [key, stats] of byWorker) {
        const [node, port] = key.split(':');
        await h.beat(id, node, Number(port), 1, stats);
      }
      const page = await h.nimbus.topologyPage('wc');
      expect(page).toMatchObject({ id, name: 'wc', status: 'ACTIVE', workersTotal: 2, executorsTotal: 6, tasksTotal: 8, msgTimeout: 30 });
      expect(page.topologyStats.map((w) => [w.window, w.windowPretty])).toEqual([
        ['600', '10m 0s'],
        ['10800', '3h 0m 0s'],
        ['86400', '1d 0h 0m 0s'],
        [':all-time', 'All time'],
      ]);
      expect(page).toMatchObject({ window: ':all-time', windowPretty: 'All time' });
      expect(page.topologyStats[3]).toMatchObject({ window: ':all-time', windowPretty: 'All time', emitted: 15, transferred: 15, completeLatency: '2.000', acked: 14, failed: 0 });
      // These workers had run 12 s when first heard of: their counts predate the windows' buckets.
      expect(page.topologyStats[0]).toMatchObject({ emitted: 0, acked: 0 });
      expect(page.spouts).toEqual([expect.objectContaining({ spoutId: 'words', executors: 2, tasks: 2, emitted: 15, acked: 14, completeLatency: '2.000' })]);
      expect(page.bolts).toEqual([expect.objectContaining({ boltId: 'count', executors: 2, tasks: 4, executed: 15, capacity: '0.250' })]);
      expect((await h.nimbus.topologyPage('wc', { includeSystem: true })).bolts.map((b) => b.boltId)).toEqual(['count', '__acker']);
      expect(page.configuration).not.toHaveProperty('linkSecret');
      expect(page.configuration).toMatchObject({ 'db.password': '<redacted>', 'topology.workers': 2 });
      expect(JSON.stringify(page)).not.toContain('ab'.repeat(32));

      const comp = await h.nimbus.componentPage(id, 'count');
      expect(comp).toMatchObject({ id: 'count', topologyId: id, componentType: 'bolt', executors: 2, tasks: 4, inputStats: [{ component: 'words', stream: 'default', grouping: 'fields' }] });
      expect(comp.executorStats.map((e) => [e.id, e.executed, e.supervisorId, e.port])).toEqual([
        ['[3-4]', 8, at(3).node, at(3).port],
        ['[5-6]', 7, at(5).node, at(5).port],
      ]);
      await rejectsWithCode(h.nimbus.componentPage(id, 'nope'), 'ERR_COMPONENT_NOT_FOUND');
      expect(await h.nimbus.visualization(id)).toMatchObject({
        components: {
          words: { type: 'spout', parallelism: 2, inputs: [], streams: { default: 0 }, emittedPerSec: 0 },
          count: { type: 'bolt', parallelism: 2, inputs: [{ component: 'words', stream: 'default', grouping: 'fields', tuplesPerSec: 0 }], capacity: '0.250' },
        },
      });
    });

    test('the configuration hides the token', async () => {
      await h.close();
      h = await startHarness({ config: { 'nimbus.auth.token': 's3cret' } });
      expect(h.nimbus.clusterConfiguration()).toMatchObject({ 'nimbus.auth.token': '<redacted>', 'nimbus.port': 6627 });
    });

    test('bundles are served only for live topologies', async () => {
      const { bundleHash } = await h.nimbus.submit('wc', fakeBundle());
      const { stream, bytes } = await h.nimbus.openBundle(bundleHash);
      expect(bytes).toBe(fakeBundle().length);
      expect(await text(stream)).toBe(fakeBundle().toString());
      await rejectsWithCode(h.nimbus.openBundle('f'.repeat(64)), 'ERR_BUNDLE_NOT_FOUND');
    });
  });

  describe('lifecycle and recovery', () => {
    test('refuses calls before start (ERR_NOT_LEADER) and after close (ERR_CLOSED); close is idempotent', async () => {
      h = await startHarness({ start: false });
      await rejectsWithCode(h.nimbus.submit('wc', fakeBundle()), 'ERR_NOT_LEADER');
      expect(() => h.nimbus.nimbusSummary()).toThrow(expect.objectContaining({ code: 'ERR_NOT_LEADER' }));
      await h.nimbus.start({ host: 'h', port: 1 });
      await h.nimbus.close();
      await h.nimbus.close();
      expect(h.probe.closed).toBe(true);
      await rejectsWithCode(h.nimbus.kill('x'), 'ERR_CLOSED');
      await rejectsWithCode(h.nimbus.start({ host: 'h', port: 1 }), 'ERR_CLOSED');
    });

    test('a new Nimbus recovers topologies, assignments and pending actions', async () => {
      h = await startHarness({ supervisors: [['s1', [6700, 6701, 6702]]] });
      const killed = await h.nimbus.submit('k', fakeBundle());
      const rebalanced = await h.nimbus.submit('r', fakeBundle({ salt: 'r' }));
      const kept = await h.nimbus.submit('x', fakeBundle({ salt: 'x' }));
      await h.nimbus.kill('k', 60);
      await h.nimbus.rebalance('r', 40, { numWorkers: 2 });
      const keptAssignment = await h.peer.getAssignment(kept.id);
      h.clock.advance(20_000);
      await h.settle();
      await h.nimbus.close();

      const next = await h.restart();
      expect(next.getTopology('k').status).toBe('KILLED');
      expect(next.getTopology('r').status).toBe('REBALANCING');
      expect(next.getAssignment('x')).toEqual(keptAssignment);
      // Before any worker's push reaches it, a new Nimbus shows workers from their liveness records.
      const [worker] = keptAssignment!.executors;
      await h.beat(kept.id, worker.node, worker.port, h.clock.wallNow());
      expect((await next.topologyPage('x')).workers[0]).toMatchObject({ state: 'running', pid: 4242, uptimeSeconds: 12 });
      // The counter continues past the recovered ids.
      h.clock.advance(20_000);
      await h.settle();
      expect(next.getTopology('r')).toMatchObject({ status: 'ACTIVE', numWorkers: 2 });
      expect((await next.submit('y', fakeBundle({ salt: 'y' }))).id).toBe(`y-4-${WALL_ORIGIN_MS / 1000 + 40}`);
      h.clock.advance(20_000);
      await h.settle();
      expect(await h.peer.getTopology(killed.id)).toBeNull();
      expect(await h.peer.getTopology(rebalanced.id)).not.toBeNull();
    });

    test('start removes state of topologies without a record and bundles nobody uses', async () => {
      h = await startHarness({ start: false });
      await h.peer.setAssignment({ v: 1, topologyId: 'ghost-1-1', executors: [], nodeHost: {}, workerStartMs: {}, seq: 1 });
      await h.peer.setWorkerBeat({ v: 1, topologyId: 'ghost-1-1', node: 's', port: 1, pid: 1, timeMs: 1, uptimeSecs: 1, rssBytes: 1 });
      await h.bundles.init();
      const orphan = await h.bundles.put(Buffer.from('orphan'));
      await h.nimbus.start({ host: 'h', port: 1 });
      await h.settle();
      expect(await h.peer.listAssignmentIds()).toEqual([]);
      expect(await h.peer.getWorkerBeats('ghost-1-1')).toEqual([]);
      expect(await h.bundles.has(orphan.hash)).toBe(false);
    });

    test('a failing state store does not crash the monitor; the next round recovers', async () => {
      h = await startHarness({ supervisors: [['s1', [6700]]] });
      const { id } = await h.nimbus.submit('wc', fakeBundle());
      h.server.disconnectSession(h.store);
      h.clock.advance(130_000);
      await h.settle();
      await rejectsWithCode(h.nimbus.kill(id, 0), 'ERR_STATE_STORE');
      h.server.reconnectSession(h.store);
      await h.settle();
      h.clock.advance(10_000);
      await h.settle();
      // The worker never heartbeat: once the store is back the slot is retried with a new grace.
      expect((await h.peer.getAssignment(id))!.seq).toBe(2);
      await h.nimbus.kill(id, 0);
      expect(await h.peer.getTopology(id)).toBeNull();
    });
  });

});
