/**
 * Nimbus through cluster-state outages, deterministically: the real Nimbus over the in-memory
 * ZooKeeper twin with a manual clock (test/unit/nimbus/harness.ts), so a disconnection or a
 * session expiry happens at an exact moment. These pin down two behaviours that the real-cluster
 * runs (faults-zookeeper.test.ts) only show now and then, depending on which daemon reconnects
 * first:
 *
 * - time Nimbus spends cut off from ZooKeeper must not count against the workers' heartbeats
 *   (nobody could write or read them);
 * - after its session expired, Nimbus must re-arm its watch on the supervisors, so that a
 *   supervisor leaving is still noticed at once and not at the next monitor round.
 *
 * Nimbus listens to the store's connection events for both (nimbus/nimbus.ts onConnection).
 * And when every session expires at once, Nimbus does not unassign the workers of supervisors
 * that are about to renew theirs (nimbus/nimbus.ts withReturningSupervisors).
 */
import type { Assignment } from '../../common/cluster-state/types';
import { slotKey } from '../../nimbus/scheduler';
import { fakeBundle, startHarness, type Harness } from '../unit/nimbus/harness';

const MONITOR_MS = 10_000;
const TASK_TIMEOUT_MS = 30_000;

function workers(a: Assignment | null): string[] {
  return a ? [...new Set(a.executors.map((e) => slotKey(e.node, e.port)))].sort() : [];
}

describe('Nimbus through cluster-state outages', () => {
  let h: Harness;

  afterEach(async () => {
    await h.close();
  });

  /** Advances in monitor periods, writing fresh beats for `beating` workers before each. */
  async function runFor(id: string, ms: number, beating: string[]): Promise<void> {
    for (let t = 0; t < ms; t += MONITOR_MS) {
      for (const key of beating) {
        const [node, port] = key.split(':');
        await h.beat(id, node, Number(port), h.clock.wallNow());
      }
      h.clock.advance(MONITOR_MS);
      await h.settle();
    }
  }

  // Nimbus judges a worker dead when the heartbeat value it reads has not changed for
  // nimbus.task.timeout.secs of its own clock. Time it could not read them at all must not count:
  // after an outage longer than the task timeout, the first round after reconnecting (often before
  // the supervisors have written again) once declared every worker dead and moved it, killing
  // processes that never stopped. On 'reconnected' every worker's timeout now restarts.
  it('a worker is not declared dead for heartbeats missed while Nimbus was cut off from ZooKeeper', async () => {
    h = await startHarness({ supervisors: [['s1', [6700, 6701]], ['s2', [6700, 6701]]], config: { 'nimbus.monitor.freq.secs': MONITOR_MS / 1000, 'nimbus.task.timeout.secs': TASK_TIMEOUT_MS / 1000 } });
    const { id } = await h.nimbus.submit('wc', fakeBundle(), { 'topology.workers': 2 });
    const first = (await h.peer.getAssignment(id))!;
    expect(workers(first)).toEqual(['s1:6700', 's2:6700']);
    await runFor(id, 2 * MONITOR_MS, ['s1:6700', 's2:6700']);

    // ZooKeeper is away for longer than the task timeout: no beat is written or read meanwhile.
    h.server.disconnectSession(h.store);
    await runFor(id, TASK_TIMEOUT_MS + MONITOR_MS, []);
    h.server.reconnectSession(h.store);
    await h.settle();
    // Nimbus's first round after reconnecting comes before the supervisors wrote again.
    await runFor(id, MONITOR_MS, []);
    expect(await h.peer.getAssignment(id)).toEqual(first);

    // A worker that then stays silent for a full task timeout is still moved.
    await runFor(id, TASK_TIMEOUT_MS, ['s1:6700']);
    expect(workers(await h.peer.getAssignment(id))).toEqual(['s1:6700', 's2:6701']);
  });

  // A watch of an expired session never fires (ZooKeeper drops it). Nimbus once re-armed its
  // /supervisors watch only when it fired, so after an expiry a supervisor leaving or joining was
  // noticed only at the next monitor round; 'expired' now clears the armed flag and 'reconnected'
  // runs a round that arms it again.
  it('after its session expired, Nimbus still moves the workers of a supervisor that leaves at once (watch re-armed)', async () => {
    h = await startHarness({ supervisors: [['s1', [6700]], ['s2', [6700]]], config: { 'nimbus.monitor.freq.secs': MONITOR_MS / 1000 } });
    const { id } = await h.nimbus.submit('wc', fakeBundle(), { 'topology.workers': 2 });
    expect(workers(await h.peer.getAssignment(id))).toEqual(['s1:6700', 's2:6700']);

    h.server.expireSession(h.store);
    await h.settle();
    await h.addSupervisor('s3', [6700]);
    await h.settle();
    await h.removeSupervisor('s2');
    await h.settle();
    // no clock advance: only the watch can have triggered this round
    expect(workers(await h.peer.getAssignment(id))).toEqual(['s1:6700', 's3:6700']);
  });

  // When ZooKeeper expires every session at once (it was frozen, or its machine paused, for longer
  // than the session timeout), the supervisors' nodes vanish until each renews its session. Nimbus
  // once ran a round as soon as its own session was renewed, found no supervisor, and unassigned
  // every worker (seen on the real cluster: Nimbus renewed at +26 ms, unassigned at +38 ms, the
  // supervisors were back at +251 and +569 ms). Supervisors not seen since the expiry now keep
  // their slots for one session timeout.
  it('after every session expired at once, Nimbus waits for the supervisors to come back instead of unassigning their workers', async () => {
    h = await startHarness({ supervisors: [['s1', [6700]], ['s2', [6700]]], config: { 'nimbus.monitor.freq.secs': MONITOR_MS / 1000, 'storm.zookeeper.session.timeout': 20_000 } });
    const { id } = await h.nimbus.submit('wc', fakeBundle(), { 'topology.workers': 2 });
    const first = (await h.peer.getAssignment(id))!;
    expect(workers(first)).toEqual(['s1:6700', 's2:6700']);

    // Every session expires; Nimbus renews first and looks before the supervisors are back.
    h.server.expireSession(h.store);
    await h.removeSupervisor('s1');
    await h.removeSupervisor('s2');
    await h.settle();
    expect(await h.peer.getAssignment(id)).toEqual(first);
    // They renew within the session timeout: nothing moved, nothing was stopped.
    h.clock.advance(MONITOR_MS);
    await h.addSupervisor('s1', [6700]);
    await h.addSupervisor('s2', [6700]);
    await h.settle();
    h.clock.advance(MONITOR_MS);
    await h.settle();
    expect(await h.peer.getAssignment(id)).toEqual(first);
  });

  it("Nimbus's session survives a disconnection that expired the supervisors' sessions: they renew them, nothing moves", async () => {
    h = await startHarness({ supervisors: [['s1', [6700, 6701]], ['s2', [6700, 6701]]], config: { 'nimbus.monitor.freq.secs': MONITOR_MS / 1000 } });
    const { id } = await h.nimbus.submit('wc', fakeBundle(), { 'topology.workers': 2 });
    const first = (await h.peer.getAssignment(id))!;
    expect(workers(first)).toEqual(['s1:6700', 's2:6700']);

    // A frozen server thaws: Nimbus reconnects in its own session, the supervisors' have expired.
    h.server.disconnectSession(h.store);
    await h.settle();
    await h.removeSupervisor('s1');
    await h.removeSupervisor('s2');
    h.server.reconnectSession(h.store);
    await h.settle();
    expect(await h.peer.getAssignment(id)).toEqual(first);
    h.clock.advance(MONITOR_MS);
    await h.addSupervisor('s1', [6700, 6701]);
    await h.addSupervisor('s2', [6700, 6701]);
    await h.settle();
    h.clock.advance(MONITOR_MS);
    await h.settle();
    expect(await h.peer.getAssignment(id)).toEqual(first);
  });

  it('control: a supervisor that does not come back after an expiry is gone', async () => {
    h = await startHarness({ supervisors: [['s1', [6700, 6701]], ['s2', [6700]]], config: { 'nimbus.monitor.freq.secs': MONITOR_MS / 1000, 'storm.zookeeper.session.timeout': 20_000 } });
    const { id } = await h.nimbus.submit('wc', fakeBundle(), { 'topology.workers': 2 });
    expect(workers(await h.peer.getAssignment(id))).toEqual(['s1:6700', 's2:6700']);
    h.server.expireSession(h.store);
    await h.removeSupervisor('s2');
    await h.settle();
    for (let t = 0; t < 30_000; t += MONITOR_MS) {
      h.clock.advance(MONITOR_MS);
      await h.settle();
    }
    expect(workers(await h.peer.getAssignment(id))).toEqual(['s1:6700', 's1:6701']);
  });

  it('control: without an expiry, the same supervisor change moves the workers at once', async () => {
    h = await startHarness({ supervisors: [['s1', [6700]], ['s2', [6700]]], config: { 'nimbus.monitor.freq.secs': MONITOR_MS / 1000 } });
    const { id } = await h.nimbus.submit('wc', fakeBundle(), { 'topology.workers': 2 });
    await h.addSupervisor('s3', [6700]);
    await h.settle();
    await h.removeSupervisor('s2');
    await h.settle();
    expect(workers(await h.peer.getAssignment(id))).toEqual(['s1:6700', 's3:6700']);
  });

  it('control: a disconnection shorter than the task timeout moves nothing', async () => {
    h = await startHarness({ supervisors: [['s1', [6700, 6701]], ['s2', [6700, 6701]]], config: { 'nimbus.monitor.freq.secs': MONITOR_MS / 1000, 'nimbus.task.timeout.secs': TASK_TIMEOUT_MS / 1000 } });
    const { id } = await h.nimbus.submit('wc', fakeBundle(), { 'topology.workers': 2 });
    const first = (await h.peer.getAssignment(id))!;
    await runFor(id, 2 * MONITOR_MS, ['s1:6700', 's2:6700']);
    h.server.disconnectSession(h.store);
    await runFor(id, MONITOR_MS, []);
    h.server.reconnectSession(h.store);
    await runFor(id, MONITOR_MS, ['s1:6700', 's2:6700']);
    expect(await h.peer.getAssignment(id)).toEqual(first);
  });
});
